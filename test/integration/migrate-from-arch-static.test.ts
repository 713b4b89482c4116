// `wharf migrate-from repo-add` and `wharf migrate-from static` (issue 14, sources 5 and 6).
// repo-add: packages built by makepkg (as a non-root user), signed with gpg --detach-sign,
// their db by repo-add; one package's .sig removed (its signature then comes from the db's
// %PGPSIG%), one listed package deleted from disk and one stray file added (both reported);
// pacman, trusting Wharf's key and the packager's, installs from Wharf, and the packager's
// own signatures are what Wharf serves. static: a dist/ tree of tarballs in folders becomes a
// files repository with the same paths; curl fetches files whose sha256 match the source.
// Both: a second run changes nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wharfCli } from '../helpers/child-server.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { keyring, pacman, run, trustKey } from './arch-helpers.ts';
import { gpgKey } from '../helpers/gpg.ts';

interface Report { moved: { kind: string; name: string; note?: string }[]; unchanged: { kind: string; name: string }[]; skipped: { kind: string; name: string; note?: string }[] }

const isRoot = process.getuid?.() === 0;

describe('wharf migrate-from repo-add and static', () => {
  let server: TestServer;
  let dir: string;

  const migrate = async (...args: string[]): Promise<Report> => {
    const r = await wharfCli(['--json', 'migrate-from', ...args], { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out) as Report;
  };

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-mig-arch-'));
    await chmod(dir, 0o755);
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves a repo-add directory with the packages\' own signatures; pacman installs; what is missing or unlisted is reported', { skip: isRoot ? false : 'makepkg runs as nobody through runuser (root only)' }, async () => {
    const gnupg = path.join(dir, 'gnupg');
    await mkdir(gnupg, { mode: 0o700 });
    const fingerprint = gpgKey(gnupg, 'Packager <packager@example.com>');
    const gpgEnv = { ...process.env, GNUPGHOME: gnupg };
    const out = path.join(dir, 'myrepo');
    await mkdir(out);
    // makepkg refuses root: it builds as nobody, in folders nobody may write.
    const build = path.join(dir, 'build');
    await mkdir(build, { mode: 0o777 });
    await chmod(build, 0o777);
    for (const [name, ver] of [['hello', '1.0'], ['world', '2.1'], ['gone', '0.5']]) {
      const pkgDir = path.join(build, name);
      await mkdir(pkgDir, { mode: 0o777 });
      await chmod(pkgDir, 0o777);
      await writeFile(path.join(pkgDir, 'PKGBUILD'), [
        `pkgname=${name}`, `pkgver=${ver}`, 'pkgrel=1', `pkgdesc="${name} for the migration test"`, "arch=('any')", "license=('MIT')",
        `package() { mkdir -p "$pkgdir/usr/share/${name}"; echo "${name} ${ver}" > "$pkgdir/usr/share/${name}/version"; }`, '',
      ].join('\n'));
      const r = await run('runuser', ['-u', 'nobody', '--', 'env', `HOME=${build}`, `PKGDEST=${build}`, 'PKGEXT=.pkg.tar.zst', 'sh', '-c', `cd ${pkgDir} && makepkg --nodeps`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const file = `${name}-${ver}-1-any.pkg.tar.zst`;
      await copyFile(path.join(build, file), path.join(out, file));
      execFileSync('gpg', ['--batch', '--detach-sign', '--no-armor', '-o', path.join(out, `${file}.sig`), path.join(out, file)], { env: gpgEnv, stdio: 'pipe' });
    }
    const pkgs = ['hello-1.0-1-any.pkg.tar.zst', 'world-2.1-1-any.pkg.tar.zst', 'gone-0.5-1-any.pkg.tar.zst'];
    const add = await run('repo-add', [path.join(out, 'myrepo.db.tar.gz'), ...pkgs.map((p) => path.join(out, p))]);
    assert.equal(add.code, 0, add.stdout + add.stderr);
    // world's signature only in the db (%PGPSIG%); gone is listed but not on disk; a stray file.
    await unlink(path.join(out, `${pkgs[1]}.sig`));
    await unlink(path.join(out, pkgs[2]));
    await unlink(path.join(out, `${pkgs[2]}.sig`));
    await writeFile(path.join(out, 'notes.txt'), 'not a package\n');

    const first = await migrate('repo-add', out);
    assert.deepEqual(first.moved.filter((m) => m.kind === 'package').map((m) => m.name).sort(), pkgs.slice(0, 2));
    assert.deepEqual(first.moved.filter((m) => m.kind === 'file').map((m) => m.name).sort(), pkgs.slice(0, 2).map((p) => `${p}.sig`));
    assert.ok(first.moved.some((m) => m.kind === 'repository' && m.name === 'myrepo'));
    assert.deepEqual(first.skipped.map((s) => `${s.name}: ${s.note}`).sort(), [
      `${pkgs[2]}: listed in myrepo.db.tar.gz but not in the directory`,
      'notes.txt: not listed in myrepo.db.tar.gz',
    ]);
    // Wharf serves the packager's own signatures (its key could not have made them).
    for (const pkg of pkgs.slice(0, 2)) {
      const served = path.join(dir, `${pkg}.served.sig`);
      await writeFile(served, Buffer.from(await (await fetch(`${server.url}/myrepo/x86_64/${pkg}.sig`)).arrayBuffer()));
      const v = await run('gpg', ['--homedir', gnupg, '--status-fd', '1', '--verify', served, path.join(out, pkg)]);
      assert.match(v.stdout, new RegExp(`VALIDSIG ${fingerprint}`), v.stdout + v.stderr);
    }
    const gpgdir = await keyring(path.join(dir, 'pacman-gpg'));
    const wharfKey = path.join(dir, 'myrepo.asc');
    await writeFile(wharfKey, await (await fetch(`${server.url}/myrepo/key.asc`)).text());
    const { keys } = await (await fetch(`${server.url}/-/api/v1/repositories/myrepo/keys`, { headers: { authorization: server.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, wharfKey, keys[0].fingerprint);
    const packagerKey = path.join(dir, 'packager.asc');
    await writeFile(packagerKey, execFileSync('gpg', ['--armor', '--export', fingerprint], { env: gpgEnv }));
    await trustKey(gpgdir, packagerKey, fingerprint);
    const p = await pacman(path.join(dir, 'pacman'), gpgdir, 'myrepo', `${server.url}/myrepo/$arch`);
    await p.ok('-Sy');
    await p.ok('-S', 'hello', 'world');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/share/world/version'), 'utf8'), 'world 2.1\n');

    const second = await migrate('repo-add', out);
    assert.deepEqual(second.moved, []);
    assert.equal(second.unchanged.filter((u) => u.kind === 'package').length, 2);
    assert.equal(second.skipped.length, 2);
  });

  it('moves a static tree of tarballs to a files repository with the same paths; curl fetches the same bytes', async () => {
    const tree = path.join(dir, 'dist');
    const files: Record<string, Buffer> = {
      'apt/r35.4/tools-1.0.tar.gz': Buffer.alloc(70_000, 1),
      'apt/r35.4/tools-1.0.tar.gz.sha256': Buffer.from('abc  tools-1.0.tar.gz\n'),
      'apt/r36.2/kernel/Image-6.1.tar.xz': Buffer.alloc(2_000_000, 7),
      'README.txt': Buffer.from('the dist tree\n'),
    };
    for (const [rel, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tree, rel)), { recursive: true });
      await writeFile(path.join(tree, rel), data);
    }
    const first = await migrate('static', tree, '--repo', 'jetson');
    assert.deepEqual(first.moved.filter((m) => m.kind === 'file').map((m) => m.name).sort(), Object.keys(files).sort());
    assert.deepEqual(first.skipped, []);
    for (const rel of Object.keys(files)) {
      const r = await run('curl', ['-sS', '-f', '-o', path.join(dir, 'got'), `${server.url}/jetson/${rel}`]);
      assert.equal(r.code, 0, r.stderr);
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      assert.equal(sha(await readFile(path.join(dir, 'got'))), sha(files[rel]), rel);
    }
    const second = await migrate('static', tree, '--repo', 'jetson');
    assert.deepEqual(second.moved, []);
    assert.equal(second.unchanged.filter((u) => u.kind === 'file').length, 4);
  });
});
