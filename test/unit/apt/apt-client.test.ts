// The building blocks, put together by hand into a repository on disk, must satisfy the
// real apt: signature (InRelease and Release.gpg), Release hashes, by-hash paths,
// Packages fields, and the .deb's checksums. apt reads it over a file: URI, so no server.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { clearsign, detachSign, generateSigningKey, publicKeysArmored } from '../../../src/core/signing.ts';
import { compressBuffer } from '../../../src/lib/compression.ts';
import { buildContents } from '../../../src/formats/apt/contents.ts';
import { readDeb } from '../../../src/formats/apt/deb-reader.ts';
import { buildPackagesIndex, type PackagesEntry } from '../../../src/formats/apt/packages-index.ts';
import { poolPath } from '../../../src/formats/apt/pool-path.ts';
import { buildArchRelease, buildRelease, suiteIndexPaths, type ReleaseFile } from '../../../src/formats/apt/release.ts';
import { aptEnv } from '../../helpers/apt.ts';
import { buildDeb, digests, tempDir } from './helpers.ts';

async function put(root: string, rel: string, data: Buffer | string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), data);
}

test('apt-get update and install --download-only accept a repository made from these modules', async (t) => {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const [oldKey, newKey] = await Promise.all([
    generateSigningKey({ name: 'Wharf old', email: 'old@example.com' }),
    generateSigningKey({ name: 'Wharf new', email: 'new@example.com' }),
  ]);

  // Two versions of one package and a library, each placed at its pool path.
  const entries: PackagesEntry[] = [];
  const contents = [];
  for (const [name, version, extra] of [['wharf-hello', '1.0-1', ''], ['wharf-hello', '1:0.5-1', 'Depends: libwharf1\n'], ['libwharf1', '2.0~rc1', 'Source: libwharf (2.0)\n']]) {
    const deb = await buildDeb(dir, `${name}-${entries.length}`, {
      control: `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: T <t@example.com>\n${extra}Description: test\n long text\n`,
      files: { [`usr/share/${name}/${version}`]: 'x\n' },
    });
    const info = await readDeb(deb, { listFiles: true });
    const filename = poolPath('main', info.source, info.name, info.version, info.architecture);
    const bytes = await readFile(deb);
    await put(repo, filename, bytes);
    entries.push({ control: info.fields, filename, size: bytes.length, ...digests(bytes) });
    contents.push({ name: info.name, files: info.files! });
  }

  const suiteDir = 'dists/stable';
  const files: ReleaseFile[] = [];
  const publish = async (rel: string, data: Buffer) => {
    const d = digests(data);
    await put(repo, `${suiteDir}/${rel}`, data);
    // Acquire-By-Hash: the same bytes under every listed hash.
    for (const [field, hex] of [['MD5Sum', d.md5], ['SHA256', d.sha256], ['SHA512', d.sha512]]) {
      await put(repo, `${suiteDir}/${path.dirname(rel)}/by-hash/${field}/${hex}`, data);
    }
    files.push({ path: rel, size: data.length, ...d });
  };
  const packages = Buffer.from(buildPackagesIndex(entries));
  const expected = suiteIndexPaths({ components: ['main'], architectures: ['amd64'], contents: true });
  await publish('main/binary-amd64/Packages', packages);
  await publish('main/binary-amd64/Packages.gz', await compressBuffer('gzip', packages));
  await publish('main/binary-amd64/Packages.xz', await compressBuffer('xz', packages));
  await publish('main/binary-amd64/Release', Buffer.from(buildArchRelease({ archive: 'stable', origin: 'Wharf', label: 'Wharf', component: 'main', architecture: 'amd64' })));
  await publish('main/Contents-amd64.gz', await compressBuffer('gzip', Buffer.from(buildContents(contents))));
  assert.deepEqual(files.map((f) => f.path).sort(), [...expected].sort());

  const release = buildRelease({
    origin: 'Wharf', label: 'Wharf', suite: 'stable', codename: 'stable', date: new Date(Date.now() - 60_000),
    validUntil: new Date(Date.now() + 86_400_000), acquireByHash: true, architectures: ['amd64'], components: ['main'],
    description: 'test', files,
  });
  await put(repo, `${suiteDir}/Release`, release);
  await put(repo, `${suiteDir}/InRelease`, await clearsign(release, [oldKey, newKey]));
  await put(repo, `${suiteDir}/Release.gpg`, await detachSign(Buffer.from(release), [newKey], { armor: true }));
  // A client that only knows the new key (after rotation) must still accept it.
  const keyFile = path.join(dir, 'key.asc');
  await writeFile(keyFile, publicKeysArmored([newKey]));

  const { apt: aptRun } = await aptEnv(dir, { url: `file:${repo}`, suite: 'stable', component: 'main', keyFile });
  const apt = async (...args: string[]) => {
    const r = await aptRun(...args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.stdout;
  };

  const update = await apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
  assert.doesNotMatch(update, /^(W|E):/m, update);
  const policy = await apt('apt-cache', 'policy', 'wharf-hello');
  assert.match(policy, /Candidate: 1:0\.5-1/, policy);
  const show = await apt('apt-cache', 'show', 'libwharf1');
  assert.match(show, /^Source: libwharf \(2\.0\)$/m);
  const install = await apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello');
  assert.match(install, /libwharf1/, install);
  assert.doesNotMatch(install, /^(W|E):/m, install);
});
