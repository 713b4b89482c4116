import assert from 'node:assert/strict';
import { test } from 'node:test';
import { archSetup } from '../../../src/formats/arch/setup.ts';

const site = (url: string, o: { private?: boolean } = {}) => ({ server: new URL('/', url).toString(), url, private: o.private ?? false, uploads: true });
const FPR = 'AF44FDD7190D57B67241E7D4CCE4D066BC5A3EE3';

test('pacman-key --add and --lsign-key for every signing key, and a pacman.conf section named as the repository', () => {
  const s = archSetup({ name: 'tools', kind: 'hosted' }, site('http://127.0.0.1:8080/tools/'), { architectures: ['x86_64'], fingerprints: [FPR, 'B'.repeat(40)], signedPackages: true });
  assert.equal(s[0].steps[0].code, `curl -fsSL -o /tmp/tools.asc http://127.0.0.1:8080/tools/key.asc\nsudo pacman-key --add /tmp/tools.asc\nsudo pacman-key --lsign-key ${FPR}\nsudo pacman-key --lsign-key ${'B'.repeat(40)}`);
  const conf = s[0].steps.find((st) => st.file === '/etc/pacman.conf')!.code;
  assert.equal(conf, '[tools]\nSigLevel = Required DatabaseRequired\nServer = http://127.0.0.1:8080/tools/$arch\n');
  assert.ok(s[1].steps[0].code!.endsWith('-T package.pkg.tar.zst http://127.0.0.1:8080/tools/upload/'));
});

test('unsigned packages: packages optional, the db still required; a private repository: credentials in Server', () => {
  const s = archSetup({ name: 'p', kind: 'hosted' }, site('http://h:1/p/', { private: true }), { architectures: [], fingerprints: [FPR], signedPackages: false });
  assert.equal(s[0].steps.find((st) => st.file)!.code, '[p]\nSigLevel = PackageOptional DatabaseRequired\nServer = http://__token__:YOUR_TOKEN@h:1/p/$arch\n');
  assert.match(s[0].steps[0].code!, /^curl -fsSL -u __token__:YOUR_TOKEN -o /);
});

test('a proxy: no key of its own, no uploads', () => {
  const s = archSetup({ name: 'arch-mirror', kind: 'proxy' }, site('http://h/arch-mirror/'), { architectures: [], fingerprints: [], signedPackages: false });
  assert.ok(!JSON.stringify(s).includes('lsign'));
  assert.match(s[0].steps[0].code!, /Server = http:\/\/h\/arch-mirror\/\$arch/);
  assert.match(s[1].steps[0].text, /proxy/);
});

test('a proxy with a cooldown: its own key signs the filtered dbs; packages keep their packagers\' signatures', () => {
  const s = archSetup({ name: 'arch-mirror', kind: 'proxy' }, site('http://h/arch-mirror/'), { architectures: [], fingerprints: ['ABC123'], signedPackages: true, ownKey: true });
  const all = s.flatMap((x) => x.steps).map((st) => `${st.text}\n${st.code ?? ''}`).join('\n');
  assert.match(all, /curl -fsSL -o \/tmp\/arch-mirror\.asc http:\/\/h\/arch-mirror\/key\.asc/);
  assert.match(all, /lsign-key ABC123/);
  assert.match(all, /archlinux-keyring/);
  assert.match(all, /\[core\]/);
  assert.match(s[1].steps[0].text, /proxy/);
});
