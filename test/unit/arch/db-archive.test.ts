import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WharfError } from '../../../src/core/errors.ts';
import { buildRepoDb, readRepoDb, type RepoDbEntry } from '../../../src/formats/arch/db-archive.ts';
import { buildDesc, buildFilesEntry, dbEntryName } from '../../../src/formats/arch/desc.ts';
import { readArchPackage } from '../../../src/formats/arch/package-reader.ts';
import { buildPackage, fileFacts, makePkginfo, removeDir, tempDir } from './fixtures.ts';

let dir: string;
let srv: string;
const entries: RepoDbEntry[] = [];

before(async () => {
  dir = await tempDir();
  srv = path.join(dir, 'srv');
  await mkdir(srv);
  const specs: Array<{ file: string; pkginfo: string; files: Record<string, string> }> = [
    {
      file: 'greet-1.0-1-any.pkg.tar.zst',
      pkginfo: makePkginfo({ pkgname: 'greet', pkgbase: 'greet', pkgver: '1.0-1', pkgdesc: 'Says hello', arch: 'any', size: '20', license: 'MIT', provides: 'hello' }),
      files: { 'usr/bin/greet': '#!/bin/sh\necho hello\n', 'usr/share/greet/README': 'hi\n' },
    },
    {
      file: 'needy-2:0.5-3-x86_64.pkg.tar.xz',
      pkginfo: makePkginfo({ pkgname: 'needy', pkgver: '2:0.5-3', arch: 'x86_64', depend: ['greet>=1.0', 'missing-lib'], optdepend: 'other: extras' }),
      files: { 'usr/lib/needy/x': 'x' },
    },
  ];
  for (const spec of specs) {
    const file = await buildPackage(path.join(srv, spec.file), { pkginfo: spec.pkginfo, files: spec.files, compression: spec.file.endsWith('.xz') ? 'xz' : 'zstd' });
    const pkg = await readArchPackage(file);
    entries.push({ name: dbEntryName(pkg.pkginfo), desc: buildDesc(pkg.pkginfo, await fileFacts(file)), files: buildFilesEntry(pkg.files) });
  }
});
after(async () => { await removeDir(dir); });

/** Runs pacman on a throw-away root against the repository `wharf` served from `srv`. */
async function pacman(name: string, ...args: string[]): Promise<string> {
  const p = path.join(dir, `pacman-${name}`);
  await mkdir(path.join(p, 'db'), { recursive: true });
  for (const d of ['root', 'cache', 'gnupg', 'hooks']) await mkdir(path.join(p, d), { recursive: true });
  const conf = path.join(p, 'pacman.conf');
  await writeFile(conf, `[options]\nArchitecture = x86_64\nSigLevel = Never\n[wharf]\nServer = file://${srv}\n`);
  return execFileSync('pacman', [
    '--config', conf, '--dbpath', path.join(p, 'db'), '--root', path.join(p, 'root'), '--cachedir', path.join(p, 'cache'),
    '--gpgdir', path.join(p, 'gnupg'), '--hookdir', path.join(p, 'hooks'), '--logfile', path.join(p, 'log'), '--noconfirm', ...args,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' } });
}

const asRoot = process.getuid?.() === 0 ? {} : { skip: 'pacman needs root (or fakeroot)' };

describe('buildRepoDb', () => {
  test('lays the archive out like repo-add: a directory per package, root-owned, 0755/0644', async () => {
    const files = await buildRepoDb(entries, { withFiles: true });
    assert.deepEqual([...files.subarray(0, 2)], [0x1f, 0x8b]);
    await writeFile(path.join(dir, 'layout.files'), files);
    const listing = execFileSync('bsdtar', ['-tvf', path.join(dir, 'layout.files')], { encoding: 'utf8' })
      .trim().split('\n').map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f[2]}:${f[3]} ${f[f.length - 1]}`; });
    assert.deepEqual(listing, [
      'drwxr-xr-x root:root greet-1.0-1/',
      '-rw-r--r-- root:root greet-1.0-1/desc',
      '-rw-r--r-- root:root greet-1.0-1/files',
      'drwxr-xr-x root:root needy-2:0.5-3/',
      '-rw-r--r-- root:root needy-2:0.5-3/desc',
      '-rw-r--r-- root:root needy-2:0.5-3/files',
    ]);
  });

  test('is deterministic and independent of the input order', async () => {
    const a = await buildRepoDb(entries, { withFiles: false });
    const b = await buildRepoDb([...entries].reverse(), { withFiles: false });
    assert.ok(a.equals(b));
  });

  test('round-trips through readRepoDb', async () => {
    const db = await readRepoDb(await buildRepoDb(entries, { withFiles: false }));
    assert.deepEqual(db, new Map(entries.map((e) => [e.name, { desc: e.desc }])));
    const files = await readRepoDb(await buildRepoDb(entries, { withFiles: true }));
    assert.deepEqual(files, new Map(entries.map((e) => [e.name, { desc: e.desc, files: e.files }])));
    assert.deepEqual(await readRepoDb(await buildRepoDb([], { withFiles: false })), new Map());
  });

  test('refuses duplicate or malformed entry names and a missing files text', async () => {
    await assert.rejects(buildRepoDb([entries[0], entries[0]], { withFiles: false }), /duplicate db entry/);
    await assert.rejects(buildRepoDb([{ name: 'a/b', desc: '' }], { withFiles: false }), /invalid db entry name/);
    await assert.rejects(buildRepoDb([{ name: 'a-1-1', desc: '' }], { withFiles: true }), /has no files list/);
  });

  test('pacman syncs, lists, installs from and searches files in our db', asRoot, async () => {
    await writeFile(path.join(srv, 'wharf.db'), await buildRepoDb(entries, { withFiles: false }));
    await writeFile(path.join(srv, 'wharf.files'), await buildRepoDb(entries, { withFiles: true }));
    await pacman('ok', '-Sy');
    assert.equal(await pacman('ok', '-Sl', 'wharf'), 'wharf greet 1.0-1\nwharf needy 2:0.5-3\n');
    const info = await pacman('ok', '-Si', 'wharf/needy');
    assert.match(info, /^Depends On\s*: greet>=1.0\s+missing-lib$/m);
    assert.match(info, /^Optional Deps\s*: other: extras$/m);
    assert.match(await pacman('ok', '-Ss', 'hello'), /wharf\/greet 1\.0-1\n\s+Says hello/);
    // Installing checks the db's size and sha256 against the package file.
    await pacman('ok', '-S', 'greet');
    assert.equal(await readFile(path.join(dir, 'pacman-ok', 'root', 'usr', 'bin', 'greet'), 'utf8'), '#!/bin/sh\necho hello\n');
    await pacman('ok', '-Fy');
    assert.equal(await pacman('ok', '-Fl', 'greet'), 'greet usr/\ngreet usr/bin/\ngreet usr/bin/greet\ngreet usr/share/\ngreet usr/share/greet/\ngreet usr/share/greet/README\n');
  });

  test('pacman refuses a package whose db entry has another sha256 (the check is real)', asRoot, async () => {
    const bad = entries.map((e) => ({ ...e, desc: e.desc.replace(/(%SHA256SUM%\n)[0-9a-f]+/, `$1${'0'.repeat(64)}`) }));
    await writeFile(path.join(srv, 'wharf.db'), await buildRepoDb(bad, { withFiles: false }));
    await pacman('bad', '-Sy');
    await assert.rejects(pacman('bad', '-S', 'greet'), (err: { stderr?: string }) => /invalid or corrupted package \(checksum\)/.test(String(err.stderr)));
  });
});

describe('readRepoDb', () => {
  test('reads repo-add layouts in any compression and ignores other members', async () => {
    const src = path.join(dir, 'manual');
    await mkdir(path.join(src, 'foo-1-1'), { recursive: true });
    await writeFile(path.join(src, 'foo-1-1', 'desc'), '%NAME%\nfoo\n\n');
    await writeFile(path.join(src, 'README'), 'not a package');
    for (const [compress, flag] of [['zstd -q -c', 'zst'], ['xz -c', 'xz'], ['cat', 'tar']]) {
      const out = path.join(dir, `manual.db.${flag}`);
      execFileSync('sh', ['-c', `bsdtar -cf - foo-1-1 README | ${compress} > '${out}'`], { cwd: src });
      assert.deepEqual(await readRepoDb(await readFile(out)), new Map([['foo-1-1', { desc: '%NAME%\nfoo\n\n' }]]));
    }
  });

  test('refuses bytes that are not a db archive', async () => {
    for (const data of [Buffer.from('definitely not a database'), Buffer.from([0x1f, 0x8b, 1, 2, 3])]) {
      await assert.rejects(readRepoDb(data), (err: unknown) => err instanceof WharfError && /not a pacman repository database/.test(err.message));
    }
  });
});
