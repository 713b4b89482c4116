// The source readers of `wharf migrate-from reprepro|aptly|repo-add`, on small trees written
// here: what they take from the indexes, and what they refuse or report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRepoDb } from '../../../src/formats/arch/db-archive.ts';
import { readAptTree } from '../../../src/migrate-from/apt-tree/read.ts';
import { readArchDbDir } from '../../../src/migrate-from/arch-db/read.ts';

let dir: string;
before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'wharf-mig-readers-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const stanza = (name: string, filename: string, arch = 'amd64') =>
  `Package: ${name}\nVersion: 1.0\nArchitecture: ${arch}\nFilename: ${filename}\nSize: 10\nSHA256: ${'AB'.repeat(32)}\n\n`;

describe('readAptTree', () => {
  it('reads suites from dists/*/Release, Packages in any compression, an arch-all .deb once, and refuses Filenames outside the tree', async () => {
    const root = path.join(dir, 'published');
    const bin = (suite: string, comp: string, arch: string) => path.join(root, 'dists', suite, comp, `binary-${arch}`);
    for (const arch of ['amd64', 'arm64']) await mkdir(bin('jammy', 'main', arch), { recursive: true });
    await mkdir(path.join(root, 'dists', 'broken'), { recursive: true });
    await writeFile(path.join(root, 'dists/jammy/Release'), 'Origin: Tools\nCodename: jammy\nSuite: stable\nArchitectures: amd64 arm64 source\nComponents: main\n');
    const amd64 = stanza('a', 'pool/main/a/a_1.0_amd64.deb') + stanza('common', 'pool/main/c/common_1.0_all.deb', 'all') + stanza('evil', '../../etc/x.deb');
    await writeFile(path.join(bin('jammy', 'main', 'amd64'), 'Packages'), amd64);
    // arm64 only as Packages.xz: read all the same.
    await writeFile(path.join(bin('jammy', 'main', 'arm64'), 'Packages'), stanza('common', 'pool/main/c/common_1.0_all.deb', 'all') + stanza('b', 'pool/main/b/b_1.0_arm64.deb', 'arm64'));
    execFileSync('xz', [path.join(bin('jammy', 'main', 'arm64'), 'Packages')]);

    const tree = await readAptTree(root);
    assert.equal(tree.from, 'dists');
    assert.deepEqual(tree.suites, [{ name: 'jammy', codename: 'jammy', suite: 'stable', origin: 'Tools', components: ['main'], architectures: ['amd64', 'arm64'] }]);
    assert.deepEqual(tree.debs.map((d) => d.filename).sort(), ['pool/main/a/a_1.0_amd64.deb', 'pool/main/b/b_1.0_arm64.deb', 'pool/main/c/common_1.0_all.deb']);
    assert.equal(tree.debs[0].sha256, 'ab'.repeat(32));
    assert.deepEqual(tree.problems.map((p) => p.what).sort(), ['dists/broken', 'jammy/main evil']);
  });

  it('takes the suites from reprepro\'s conf/distributions when there is one, a suite not yet exported included', async () => {
    const root = path.join(dir, 'reprepro');
    await mkdir(path.join(root, 'conf'), { recursive: true });
    await writeFile(path.join(root, 'conf/distributions'), 'Codename: one\nComponents: main\nArchitectures: amd64\nDescription: first\n\nCodename: two\nComponents: main non-free\nArchitectures: i386\n');
    const tree = await readAptTree(root);
    assert.equal(tree.from, 'conf/distributions');
    assert.deepEqual(tree.suites.map((s) => [s.name, s.components, s.architectures, s.description]), [['one', ['main'], ['amd64'], 'first'], ['two', ['main', 'non-free'], ['i386'], undefined]]);
    assert.deepEqual(tree.debs, []);
  });

  it('refuses a directory that is neither', async () => {
    await assert.rejects(readAptTree(dir), /neither conf\/distributions nor dists/);
  });
});

describe('readArchDbDir', () => {
  const desc = (name: string, sig?: string) => `%FILENAME%\n${name}-1.0-1-any.pkg.tar.zst\n\n%NAME%\n${name}\n\n%VERSION%\n1.0-1\n\n%ARCH%\nany\n\n%SHA256SUM%\n${'CD'.repeat(32)}\n\n${sig ? `%PGPSIG%\n${sig}\n\n` : ''}`;

  it('lists the db\'s packages with their signatures, and only the files that are neither the db\'s nor listed', async () => {
    const d = path.join(dir, 'arch');
    await mkdir(d);
    const db = await buildRepoDb([{ name: 'foo-1.0-1', desc: desc('foo', 'c2lnbmF0dXJl') }, { name: 'bar-1.0-1', desc: desc('bar') }], { withFiles: false });
    await writeFile(path.join(d, 'myrepo.db.tar.gz'), db);
    for (const f of ['myrepo.db', 'myrepo.files', 'myrepo.files.tar.gz', 'myrepo.db.tar.gz.old', 'foo-1.0-1-any.pkg.tar.zst', 'foo-1.0-1-any.pkg.tar.zst.sig', 'stray-2.0-1-any.pkg.tar.zst', 'README']) await writeFile(path.join(d, f), '');
    const src = await readArchDbDir(d);
    assert.equal(src.name, 'myrepo');
    assert.deepEqual(src.packages.map((p) => [p.filename, p.sha256, p.pgpsig]), [
      ['bar-1.0-1-any.pkg.tar.zst', 'cd'.repeat(32), undefined],
      ['foo-1.0-1-any.pkg.tar.zst', 'cd'.repeat(32), 'c2lnbmF0dXJl'],
    ]);
    assert.deepEqual(src.unlisted, ['README', 'stray-2.0-1-any.pkg.tar.zst']);
    await writeFile(path.join(d, 'other.db.tar.gz'), db);
    await assert.rejects(readArchDbDir(d), /several databases \(myrepo, other\): choose one with --db/);
    assert.equal((await readArchDbDir(d, 'other')).name, 'other');
  });
});
