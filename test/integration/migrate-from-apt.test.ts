// `wharf migrate-from reprepro|aptly` (issue 14, source 4) on repositories the real tools
// built: reprepro with two suites and two components signed by a test gpg key, aptly
// publishing two distributions. Every .deb lands in the suites/components the source's
// Packages files list it in (one .deb in two suites goes to both); apt-get, trusting only
// Wharf's key, installs from each suite what apt-get installed from the source; a .deb whose
// bytes do not match its Packages SHA256 is reported and not moved; a second run changes
// nothing. WHARF_TEST_DATABASE=postgres runs it on PostgreSQL.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { wharfCli } from '../helpers/child-server.ts';
import { gpgKey } from '../helpers/gpg.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

interface Report { moved: { kind: string; name: string; note?: string }[]; unchanged: { kind: string; name: string }[]; skipped: { kind: string; name: string; note?: string }[]; notices: string[] }

describe('wharf migrate-from reprepro and aptly', () => {
  let server: TestServer;
  let dir: string;
  let gnupg: string;
  let fingerprint: string;
  const debs: Record<string, string> = {};

  const migrate = async (...args: string[]): Promise<Report> => {
    const r = await wharfCli(['--json', 'migrate-from', ...args], { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out) as Report;
  };
  const wharfKey = async (repo: string) => {
    const file = path.join(dir, `${repo}.asc`);
    await writeFile(file, await (await fetch(`${server.url}/${repo}/key.asc`)).text());
    return file;
  };
  /** apt-get update + install (download only) from one suite/component; returns apt's output. */
  const aptInstall = async (where: string, o: { url: string; suite: string; component: string; keyFile: string }, ...pkgs: string[]) => {
    const env = await aptEnv(path.join(dir, where), o);
    const update = await env.apt('apt-get', 'update');
    assert.deepEqual(problems(update), [], update.stdout + update.stderr);
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', ...pkgs);
    assert.equal(install.code, 0, install.stdout + install.stderr);
    return install.stdout;
  };

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-mig-apt-'));
    gnupg = path.join(dir, 'gnupg');
    await mkdir(gnupg, { mode: 0o700 });
    fingerprint = gpgKey(gnupg, 'Old Repository <old@example.com>');
    const build = path.join(dir, 'build');
    await mkdir(build);
    for (const [name, version] of [['alpha', '1.0'], ['beta', '2.0'], ['gamma', '0.1'], ['delta', '3.0']]) {
      debs[name] = await buildDeb(build, name, control(name, version, 'Section: misc\nPriority: optional\n'));
    }
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves a reprepro repository: two suites, two components, a .deb in both suites; apt-get installs; a bad .deb is reported; a rerun changes nothing', async () => {
    const base = path.join(dir, 'oldrepo');
    await mkdir(path.join(base, 'conf'), { recursive: true });
    await writeFile(path.join(base, 'conf', 'distributions'), [
      'Codename: bookworm', 'Suite: stable', 'Origin: OldCo', 'Label: OldCo', 'Components: main contrib', 'Architectures: amd64 arm64', `SignWith: ${fingerprint}`, 'Description: the old stable', '',
      'Codename: trixie', 'Suite: testing', 'Origin: OldCo', 'Components: main contrib', 'Architectures: amd64', `SignWith: ${fingerprint}`, '',
    ].join('\n'));
    const reprepro = (...args: string[]) => execFileSync('reprepro', ['-b', base, ...args], { env: { ...process.env, GNUPGHOME: gnupg }, stdio: 'pipe' });
    reprepro('includedeb', 'bookworm', debs.alpha);
    reprepro('-C', 'contrib', 'includedeb', 'bookworm', debs.beta);
    reprepro('includedeb', 'trixie', debs.alpha);
    reprepro('-C', 'contrib', 'includedeb', 'trixie', debs.gamma);
    reprepro('includedeb', 'trixie', debs.delta);

    // The source works with apt-get, trusting its own key (file:// URL).
    const oldKey = path.join(dir, 'old.asc');
    await writeFile(oldKey, execFileSync('gpg', ['--armor', '--export', fingerprint], { env: { ...process.env, GNUPGHOME: gnupg } }));
    await aptInstall('apt-src', { url: `file://${base}`, suite: 'bookworm', component: 'contrib', keyFile: oldKey }, 'beta');

    // delta's bytes in the pool no longer match the Packages file: reported, not moved.
    await appendFile(path.join(base, 'pool/main/d/delta/delta_3.0_amd64.deb'), 'tampered');

    // The old key signs beside Wharf's for a while: clients that trust only it keep working.
    const oldSecret = path.join(dir, 'old-secret.asc');
    await writeFile(oldSecret, execFileSync('gpg', ['--armor', '--export-secret-keys', fingerprint], { env: { ...process.env, GNUPGHOME: gnupg } }));
    const first = await migrate('reprepro', base, '--repo', 'moved', '--keep-signer', oldSecret);
    const movedDebs = first.moved.filter((m) => m.kind === 'package').map((m) => m.name).sort();
    assert.deepEqual(movedDebs, [
      'bookworm/contrib pool/contrib/b/beta/beta_2.0_amd64.deb',
      'bookworm/main pool/main/a/alpha/alpha_1.0_amd64.deb',
      'trixie/contrib pool/contrib/g/gamma/gamma_0.1_amd64.deb',
      'trixie/main pool/main/a/alpha/alpha_1.0_amd64.deb',
    ]);
    assert.deepEqual(first.skipped.map((s) => s.name), ['trixie/main pool/main/d/delta/delta_3.0_amd64.deb']);
    assert.match(first.skipped[0].note!, /SHA256 .* does not match/);
    assert.ok(first.moved.some((m) => m.kind === 'repository' && m.name === 'moved'));
    assert.ok(first.moved.some((m) => m.kind === 'signing key' && m.name === oldSecret), JSON.stringify(first.moved));

    // The suites' Release headers keep the codename, origin, components and architectures.
    const release = await (await fetch(`${server.url}/moved/dists/bookworm/Release`)).text();
    assert.match(release, /^Codename: bookworm$/m);
    assert.match(release, /^Origin: OldCo$/m);
    assert.match(release, /^Components: contrib main$/m); // Wharf lists them sorted
    assert.match(release, /^Architectures: amd64 arm64$/m);

    const key = await wharfKey('moved');
    const url = `${server.url}/moved`;
    await aptInstall('apt-bw-main', { url, suite: 'bookworm', component: 'main', keyFile: key }, 'alpha');
    await aptInstall('apt-bw-contrib', { url, suite: 'bookworm', component: 'contrib', keyFile: key }, 'beta');
    await aptInstall('apt-tx-main', { url, suite: 'trixie', component: 'main', keyFile: key }, 'alpha');
    await aptInstall('apt-tx-contrib', { url, suite: 'trixie', component: 'contrib', keyFile: key }, 'gamma');
    await aptInstall('apt-old-key', { url, suite: 'bookworm', component: 'contrib', keyFile: oldKey }, 'beta');
    // What apt-get fetched is the source's .deb, byte for byte.
    const fetched = await readFile(path.join(dir, 'apt-tx-contrib/apt/cache/archives/gamma_0.1_amd64.deb'));
    assert.deepEqual(fetched, await readFile(debs.gamma));

    const second = await migrate('reprepro', base, '--repo', 'moved', '--keep-signer', oldSecret);
    assert.deepEqual(second.moved, []);
    assert.equal(second.unchanged.filter((u) => u.kind === 'package').length, 4);
    assert.equal(second.skipped.length, 1);
  });

  it('moves an aptly publication (published dists/ + pool/, no conf/distributions)', async () => {
    const aptlyRoot = path.join(dir, 'aptly');
    const conf = path.join(dir, 'aptly.conf');
    await writeFile(conf, JSON.stringify({ rootDir: aptlyRoot, architectures: ['amd64'], gpgProvider: 'internal' }));
    const aptly = (...args: string[]) => execFileSync('aptly', ['-config', conf, ...args], { env: { ...process.env, GNUPGHOME: gnupg }, stdio: 'pipe' }).toString();
    aptly('repo', 'create', '-distribution', 'jammy', '-component', 'main', 'tools');
    aptly('repo', 'add', 'tools', debs.alpha, debs.beta);
    aptly('repo', 'create', '-distribution', 'noble', '-component', 'main', 'tools2');
    aptly('repo', 'add', 'tools2', debs.beta, debs.gamma);
    aptly('publish', 'repo', '-skip-signing', '-origin', 'Tools', 'tools');
    aptly('publish', 'repo', '-skip-signing', '-origin', 'Tools', 'tools2');
    const published = path.join(aptlyRoot, 'public');

    const first = await migrate('aptly', published, '--repo', 'from-aptly');
    assert.deepEqual(first.moved.filter((m) => m.kind === 'package').map((m) => m.name).sort(), [
      'jammy/main pool/main/a/alpha/alpha.deb',
      'jammy/main pool/main/b/beta/beta.deb',
      'noble/main pool/main/b/beta/beta.deb',
      'noble/main pool/main/g/gamma/gamma.deb',
    ]);
    assert.deepEqual(first.skipped, []);
    const key = await wharfKey('from-aptly');
    const url = `${server.url}/from-aptly`;
    await aptInstall('apt-jammy', { url, suite: 'jammy', component: 'main', keyFile: key }, 'alpha', 'beta');
    await aptInstall('apt-noble', { url, suite: 'noble', component: 'main', keyFile: key }, 'gamma');
    const second = await migrate('aptly', published, '--repo', 'from-aptly');
    assert.deepEqual(second.moved, []);
    assert.equal(second.unchanged.filter((u) => u.kind === 'package').length, 4);
  });
});
