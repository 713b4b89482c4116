// Each format's packageView on packages ingested by the format itself (real wheels, .debs
// from dpkg-deb, .pkg.tar.zst from bsdtar): versions newest first in the format's own order,
// files with size and sha256, badges, fields, the description, and install commands for
// exactly one version.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { PackageSite } from '../../../src/core/format-plugin.ts';
import type { Repository } from '../../../src/core/model.ts';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { buildDeb } from '../apt/helpers.ts';
import { buildPackage, makePkginfo } from '../arch/fixtures.ts';
import { buildWheel, buildSdist, sdistFilename, wheelFilename } from '../../helpers/python-dists.ts';

const site = (repo: string, priv = false): PackageSite => ({ server: 'http://127.0.0.1:8080/', url: `http://127.0.0.1:8080/${repo}/`, filesUrl: `http://127.0.0.1:8080/${repo}/`, name: repo, private: priv });

describe('packageView of each format', () => {
  let dir: string;
  let wharf: Wharf;

  async function put(repo: Repository, filename: string, bytes: Uint8Array, fields: Record<string, string[]> = {}) {
    const staged = await wharf.blobs.stageBuffer(bytes);
    await wharf.services.ingest(repo, { uploader: 'alice', staged, filename, fields });
  }
  const view = async (repo: Repository, name: string, s = site(repo.name)) => {
    const plugin = wharf.pluginFor(repo);
    const pkg = await wharf.store.getPackage(repo.id, plugin.packageName?.(name) ?? name);
    assert.ok(pkg, `${name} stored`);
    return plugin.packageView!(wharf.contextFor(repo), pkg, s);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-package-view-'));
    const store = new Store(await openDatabase(join(dir, 'wharf.db')));
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    wharf = await Wharf.open(store, blobs, formats, pino({ level: 'silent' }));
  });
  after(async () => {
    await wharf.publisher.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('pypi: releases in PEP 440 order, latest / pre-release / yanked badges, pip pinned to the release, Markdown description', async () => {
    const repo = await wharf.createRepo({ name: 'py', format: 'pypi' });
    const dist = (version: string) => ({
      name: 'Demo.Pkg', version, summary: `Demo ${version}`, requiresPython: '>=3.8', requiresDist: ['requests>=2', 'rich; extra == "cli"'],
      extraMetadata: ['Provides-Extra: cli', 'Project-URL: Source, https://example.org/src', 'Project-URL: Evil, javascript:alert(1)'],
      description: `# Demo ${version}\n\n<script>alert(1)</script>`,
    });
    for (const version of ['1.0', '1.10', '1.9', '2.0rc1']) await put(repo, wheelFilename({ name: 'Demo.Pkg', version }), buildWheel(dist(version)));
    await put(repo, sdistFilename({ name: 'Demo.Pkg', version: '1.10' }), await buildSdist(dist('1.10')));
    await wharf.pluginFor(repo).actions!.yank(wharf.contextFor(repo), { package: 'demo-pkg', version: '1.9', reason: 'broken <b>build</b>' });

    // The name as a person types it finds the project.
    const v = await view(repo, 'DEMO_pkg');
    assert.deepEqual(v.versions.map((x) => x.version), ['2.0rc1', '1.10', '1.9', '1.0']);
    const [rc, latest, yanked] = v.versions;
    assert.deepEqual(rc.badges.map((b) => b.text), ['pre-release']);
    assert.deepEqual(latest.badges.map((b) => b.text), ['latest']);
    assert.deepEqual(yanked.badges.map((b) => b.text), ['yanked']);
    assert.equal(yanked.files[0].note, 'Yanked: broken <b>build</b>');
    assert.equal(latest.install[0].code, 'pip install --index-url http://127.0.0.1:8080/py/simple/ demo-pkg==1.10');
    assert.equal(rc.install[0].code, 'pip install --index-url http://127.0.0.1:8080/py/simple/ demo-pkg==2.0rc1');
    assert.match(yanked.install[0].text, /yanked/);
    // Files: the wheel and the sdist, no .metadata companions; sizes and digests from the store.
    assert.deepEqual(latest.files.map((f) => f.filename).sort(), ['demo_pkg-1.10-py3-none-any.whl', 'demo_pkg-1.10.tar.gz']);
    const wheel = latest.files.find((f) => f.filename.endsWith('.whl'))!;
    const row = (await wharf.store.getFileByPath(repo.id, 'packages/demo-pkg/demo_pkg-1.10-py3-none-any.whl'))!;
    assert.equal(wheel.sha256, row.sha256);
    assert.equal(wheel.size, row.size);
    assert.equal(wheel.url, 'http://127.0.0.1:8080/py/packages/demo-pkg/demo_pkg-1.10-py3-none-any.whl');
    assert.deepEqual(wheel.badges.map((b) => b.text), ['wheel', 'py3']);
    assert.equal(wheel.uploadedBy, 'alice');
    assert.equal(wheel.uploadedAt, row.createdAt);
    assert.deepEqual(latest.fields.find(([l]) => l === 'Requires-Python'), ['Requires-Python', '>=3.8']);
    assert.deepEqual(latest.fields.find(([l]) => l === 'Requires-Dist'), ['Requires-Dist', ['requests>=2', 'rich; extra == "cli"']]);
    assert.deepEqual(latest.fields.find(([l]) => l === 'Provides-Extra'), ['Provides-Extra', ['cli']]);
    // The description and summary of the release pip picks (1.10), not of the pre-release.
    assert.equal(v.summary, 'Demo 1.10');
    assert.deepEqual(v.description, { kind: 'markdown', text: '# Demo 1.10\n\n<script>alert(1)</script>' });
    // Links as data: the page decides which it shows.
    assert.deepEqual(v.links, [{ label: 'Source', url: 'https://example.org/src' }, { label: 'Evil', url: 'javascript:alert(1)' }]);
    // A private repository's command carries placeholders, never a secret.
    assert.equal((await view(repo, 'demo-pkg', site('py', true))).versions[1].install[0].code, 'pip install --index-url http://__token__:YOUR_TOKEN@127.0.0.1:8080/py/simple/ demo-pkg==1.10');
  });

  it('apt: versions in dpkg order (an epoch wins), suites and architecture badges, relationship fields, Debian description', async () => {
    const repo = await wharf.createRepo({ name: 'deb', format: 'apt' });
    const control = (version: string) => [
      'Package: hello-tool', `Version: ${version}`, 'Architecture: amd64', 'Maintainer: Team <team@example.org>', 'Section: utils', 'Priority: optional',
      'Depends: libc6 (>= 2.36), libfoo | libbar', 'Provides: hello', 'Homepage: https://example.org/hello',
      `Description: greets the world ${version}`, ' A longer text.', ' .', ' Second <script>paragraph</script>.', '  verbatim line', '',
    ].join('\n');
    for (const [i, version] of ['1.0-1', '1.0-10', '1:0.9-1', '1.0~rc1-1'].entries()) {
      await put(repo, `hello-tool_${i}.deb`, await readFile(await buildDeb(dir, `hello-${i}`, { control: control(version) })));
    }
    await put(repo, 'again.deb', await readFile(join(dir, 'hello-1.deb')), { suite: ['testing'] });
    const v = await view(repo, 'hello-tool');
    assert.deepEqual(v.versions.map((x) => x.version), ['1:0.9-1', '1.0-10', '1.0-1', '1.0~rc1-1']);
    assert.equal(v.versions[0].install[0].code, 'sudo apt-get install hello-tool=1:0.9-1');
    assert.equal(v.versions[2].install[0].code, 'sudo apt-get install hello-tool=1.0-1');
    assert.deepEqual(v.versions[1].files[0].badges.map((b) => b.text), ['amd64', 'stable/main', 'testing/main']);
    assert.deepEqual(v.versions[0].fields.find(([l]) => l === 'Depends'), ['Depends', ['libc6 (>= 2.36)', 'libfoo | libbar']]);
    assert.deepEqual(v.versions[0].fields.find(([l]) => l === 'Provides'), ['Provides', ['hello']]);
    assert.equal(v.summary, 'greets the world 1:0.9-1');
    assert.deepEqual(v.description, { kind: 'text', text: 'A longer text.\n\nSecond <script>paragraph</script>.\n verbatim line' });
    assert.deepEqual(v.links, [{ label: 'Homepage', url: 'https://example.org/hello' }]);
    assert.match(v.versions[0].files[0].url, /^http:\/\/127\.0\.0\.1:8080\/deb\/pool\/main\/h\/hello-tool\/hello-tool_0\.9-1_amd64\.deb$/);
  });

  it('arch: versions in vercmp order, signature and held badges, depends, pacman -S cannot pin but -U takes the file', async () => {
    const repo = await wharf.createRepo({ name: 'arch', format: 'arch' });
    for (const version of ['1.0-1', '1.0-10', '1.0-2', '1:0.5-1']) {
      const pkginfo = makePkginfo({
        pkgname: 'tool', pkgbase: 'tool', pkgver: version, pkgdesc: `The tool ${version}`, url: 'https://example.org/tool', builddate: '1700000000',
        packager: 'Test <test@example.org>', size: '2048', arch: 'x86_64', license: 'MIT', depend: ['glibc', 'zlib>=1.3'], provides: 'tool-bin', optdepend: 'bash: completion',
      });
      const file = join(dir, `tool-${version.replace(':', '_')}-x86_64.pkg.tar.zst`);
      await buildPackage(file, { pkginfo, files: { 'usr/bin/tool': 'x' } });
      await put(repo, `tool-${version}-x86_64.pkg.tar.zst`, await readFile(file), version === '1.0-2' ? { add: ['false'] } : {});
    }
    const v = await view(repo, 'tool');
    assert.deepEqual(v.versions.map((x) => x.version), ['1:0.5-1', '1.0-10', '1.0-2', '1.0-1']);
    const newest = v.versions[0];
    assert.equal(newest.install[0].code, 'sudo pacman -S arch/tool');
    assert.match(newest.install[0].text, /cannot pin/);
    assert.equal(newest.install[1].code, 'sudo pacman -U http://127.0.0.1:8080/arch/x86_64/tool-1%3A0.5-1-x86_64.pkg.tar.zst');
    assert.deepEqual(newest.files.map((f) => f.filename), ['tool-1:0.5-1-x86_64.pkg.tar.zst'], 'the .sig and .files companions are not listed');
    assert.deepEqual(newest.files[0].badges.map((b) => b.text), ['x86_64', 'signed by the server']);
    const held = v.versions[2];
    assert.deepEqual(held.badges.map((b) => b.text), ['held: not in the db']);
    assert.equal(held.install.length, 1, 'a held version is not in the db: only pacman -U installs it');
    assert.deepEqual(newest.fields.find(([l]) => l === 'Depends'), ['Depends', ['glibc', 'zlib>=1.3']]);
    assert.deepEqual(newest.fields.find(([l]) => l === 'Optional depends'), ['Optional depends', ['bash: completion']]);
    assert.deepEqual(newest.fields.find(([l]) => l === 'Build date'), ['Build date', '2023-11-14T22:13:20.000Z']);
    assert.equal(v.summary, 'The tool 1:0.5-1');
    assert.equal(v.description, null);
    assert.match((await view(repo, 'tool', site('arch', true))).versions[0].install[1].code, /^sudo pacman -U http:\/\/__token__:YOUR_TOKEN@127\.0\.0\.1:8080\/arch\//);
  });

  it('files: no packages, so no view', () => {
    const plugin = formats.find((f) => f.format === 'files')!;
    assert.equal(plugin.packageView, undefined);
  });
});
