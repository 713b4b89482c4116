import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aptSetup, releaseComponents } from '../../../src/formats/apt/setup.ts';

const site = (url: string, o: { private?: boolean } = {}) => ({ server: new URL('/', url).toString(), url, private: o.private ?? false, uploads: true });
const step = (s: ReturnType<typeof aptSetup>, file: string) => s.flatMap((x) => x.steps).find((st) => st.file === file)?.code;
const upload = { suite: 'stable', component: 'main' };

test('the Components of a Release file', () => {
  assert.deepEqual(releaseComponents('Origin: x\nSuite: stable\nComponents: main contrib non-free\nDate: now\n'), ['main', 'contrib', 'non-free']);
  assert.deepEqual(releaseComponents('Suite: stable\n'), []);
});

test('a deb822 .sources with Signed-By, and the key downloaded to where Signed-By points', () => {
  const s = aptSetup({ name: 'debs', kind: 'hosted' }, site('http://127.0.0.1:8080/debs/'), { suites: [{ suite: 'stable', components: ['main'] }], upload });
  assert.equal(step(s, '/etc/apt/sources.list.d/debs.sources'), 'Types: deb\nURIs: http://127.0.0.1:8080/debs\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/debs.asc\n');
  const key = s[0].steps[0].code!;
  assert.match(key, /^sudo install -d -m 0755 \/etc\/apt\/keyrings\nsudo curl -fsSL -o \/etc\/apt\/keyrings\/debs\.asc http:\/\/127\.0\.0\.1:8080\/debs\/key\.asc$/);
  assert.equal(step(s, '/etc/apt/auth.conf.d/debs.conf'), undefined);
  assert.ok(s[1].steps[0].code!.endsWith(' -T package.deb http://127.0.0.1:8080/debs/upload/stable/main/'));
});

test('suites that share components share a stanza; others get their own', () => {
  const s = aptSetup({ name: 'r', kind: 'hosted' }, site('http://h/r/'), {
    suites: [{ suite: 'bookworm', components: ['main'] }, { suite: 'trixie', components: ['main'] }, { suite: 'unstable', components: ['contrib', 'main'] }], upload,
  });
  assert.equal(step(s, '/etc/apt/sources.list.d/r.sources'),
    'Types: deb\nURIs: http://h/r\nSuites: bookworm trixie\nComponents: main\nSigned-By: /etc/apt/keyrings/r.asc\n\n'
    + 'Types: deb\nURIs: http://h/r\nSuites: unstable\nComponents: contrib main\nSigned-By: /etc/apt/keyrings/r.asc\n');
});

test('a private repository: credentials in auth.conf.d (with the scheme, as apt needs for http), and for the key', () => {
  const s = aptSetup({ name: 'priv', kind: 'hosted' }, site('http://127.0.0.1:8080/priv/', { private: true }), { suites: [{ suite: 'stable', components: ['main'] }], upload });
  assert.equal(step(s, '/etc/apt/auth.conf.d/priv.conf'), 'machine http://127.0.0.1:8080/priv\nlogin __token__\npassword YOUR_TOKEN\n');
  assert.match(s[0].steps[0].code!, /curl -fsSL -u __token__:YOUR_TOKEN -o /);
});

test('a proxy: the upstream\'s key and suites, no uploads', () => {
  const s = aptSetup({ name: 'debian', kind: 'proxy' }, site('http://h/debian/'), { suites: [], upload });
  assert.match(step(s, '/etc/apt/sources.list.d/debian.sources')!, /Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg/);
  assert.ok(!JSON.stringify(s).includes('key.asc'));
  assert.match(s[1].steps[0].text, /proxy/);
});

test('a proxy with a cooldown: its own key (it re-signs the filtered suites), the upstream\'s suites, no uploads', () => {
  const s = aptSetup({ name: 'debian', kind: 'proxy' }, site('http://h/debian/'), { suites: [], upload, ownKey: true });
  assert.match(s[0].steps[0].code!, /curl -fsSL -o \/etc\/apt\/keyrings\/debian\.asc http:\/\/h\/debian\/key\.asc/);
  assert.match(step(s, '/etc/apt/sources.list.d/debian.sources')!, /Suites: SUITE\n[\s\S]*Signed-By: \/etc\/apt\/keyrings\/debian\.asc/);
  assert.match(s[1].steps[0].text, /proxy/);
});
