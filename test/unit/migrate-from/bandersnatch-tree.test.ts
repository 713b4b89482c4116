// The bandersnatch web/ tree reader on trees built here in the layouts bandersnatch writes
// (JSON and HTML pages, hash-index folders); the integration test runs real bandersnatch.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMirrorPage, readMirror } from '../../../src/migrate-from/bandersnatch/mirror-tree.ts';

const SHA = 'ab'.repeat(32);

test('an HTML page: file names, relative URLs without the fragment, the sha256 from it', () => {
  const html = `<a href="../../packages/ab/cd/x/a-1.0.tar.gz#sha256=${SHA.toUpperCase()}" data-requires-python="&gt;=3">a-1.0.tar.gz</a><br/>
<a href="https://elsewhere.example/b-1.whl">b-1.whl</a>`;
  assert.deepEqual(parseMirrorPage(html, false), [
    { filename: 'a-1.0.tar.gz', url: '../../packages/ab/cd/x/a-1.0.tar.gz', sha256: SHA },
    { filename: 'b-1.whl', url: 'https://elsewhere.example/b-1.whl', sha256: null },
  ]);
});

test('a tree: JSON pages preferred, hash-index folders, URLs leaving packages/ refused', async () => {
  const web = await mkdtemp(join(tmpdir(), 'wharf-bs-tree-'));
  try {
    await mkdir(join(web, 'simple/alpha'), { recursive: true });
    await mkdir(join(web, 'simple/b/beta'), { recursive: true });
    await writeFile(join(web, 'simple/alpha/index.html'), '<a href="../../wrong">x</a>');
    await writeFile(join(web, 'simple/alpha/index.v1_json'), JSON.stringify({ files: [
      { filename: 'alpha-1.whl', url: '../../packages/aa/bb/c/alpha-1.whl', hashes: { sha256: SHA } },
      { filename: 'evil.whl', url: '../../../../etc/passwd', hashes: { sha256: SHA } },
    ] }));
    await writeFile(join(web, 'simple/b/beta/index.html'), `<a href="../../packages/cc/dd/e/beta-2.whl#sha256=${SHA}">beta-2.whl</a>`);
    const projects = await readMirror(web);
    assert.deepEqual(projects.map((p) => [p.name, p.pageDir]), [['alpha', 'simple/alpha'], ['beta', 'simple/b/beta']]);
    assert.equal(projects[0].files[0].localPath, join(web, 'packages/aa/bb/c/alpha-1.whl'));
    assert.equal(projects[0].files[1].localPath, null, 'a URL leaving the tree');
    assert.equal(projects[1].files[0].localPath, join(web, 'packages/cc/dd/e/beta-2.whl'));
    await assert.rejects(readMirror(join(web, 'simple')), /no simple\/ folder/);
  } finally {
    await rm(web, { recursive: true, force: true });
  }
});
