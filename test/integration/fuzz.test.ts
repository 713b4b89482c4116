// The fuzz suite (issue 8): generated bad inputs against a real server, across the formats.
// Mutated wheels, sdists, .debs and Arch packages (bit flips, truncations, lying sizes in
// zip, ar and tar headers), path traversal in every encoding on every path-taking route,
// malformed multipart bodies and odd Range headers. It asserts that no request answers 5xx
// (or goes unanswered), that the server stays alive, and that everything it accepted is
// usable by real clients: every stored wheel and zip passes Python's zipfile testzip, every
// tar sdist reads to its end with Python's tarfile, every .deb lists with dpkg-deb and every
// Arch package extracts with bsdtar, and the project's own readers accept them again.
//
// Seeded and reproducible: the seed is printed; WHARF_FUZZ_SEED=<n> reruns it and
// WHARF_FUZZ_COUNT=<n> changes the number of inputs (1,000 by default, for CI).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDeb } from '../../src/formats/apt/deb-reader.ts';
import { readArchPackage } from '../../src/formats/arch/package-reader.ts';
import { checkStoredPath } from '../../src/formats/files/paths.ts';
import { readDistMetadata } from '../../src/formats/pypi/dist-reader.ts';
import { parseDistFilename } from '../../src/formats/pypi/filename.ts';
import { buildCorpus, type Sample } from '../helpers/fuzz-corpus.ts';
import { generateCases, Rng, type FuzzCase, type FuzzRequest } from '../helpers/fuzz.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const SEED = process.env.WHARF_FUZZ_SEED ? Number(process.env.WHARF_FUZZ_SEED) : randomBytes(4).readUInt32BE(0);
const COUNT = process.env.WHARF_FUZZ_COUNT ? Number(process.env.WHARF_FUZZ_COUNT) : 1000;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Send a request exactly as generated (node:http does not normalise the path). */
function send(port: number, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.body) headers['content-length'] = r.body.length;
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    // The server may answer (e.g. 401, 413) before reading the whole body; the answer counts.
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A Range answer must be right, not only non-5xx. */
function checkRange(c: FuzzCase, a: Answer): string | null {
  const full = c.expect!;
  const range = c.request.headers.range ?? '';
  if (c.request.method === 'HEAD') return null;
  if (a.status === 200) return a.body.equals(full) ? null : `200 with ${a.body.length} bytes, not the file's ${full.length}`;
  if (a.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(a.headers['content-range']));
    if (!m) return `206 with Content-Range ${a.headers['content-range']}`;
    const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (size !== full.length || start > end || end >= size) return `206 with an impossible Content-Range ${m[0]}`;
    if (!a.body.equals(full.subarray(start, end + 1))) return `206 ${m[0]} but the body is not those bytes`;
    return null;
  }
  if (a.status === 304 && c.request.headers['if-none-match'] !== undefined) return null;
  if (a.status === 416) return /^bytes \*\/\d+$/.test(String(a.headers['content-range'])) ? null : `416 without Content-Range bytes */size (${range})`;
  return a.status >= 400 && a.status < 500 ? null : `unexpected status ${a.status}`;
}

describe(`fuzz: ${COUNT} generated bad inputs (WHARF_FUZZ_SEED=${SEED})`, () => {
  let server: TestServer;
  let work: string;
  let corpus: Sample[];
  const outcomes = { total: 0, byKind: {} as Record<string, Record<string, number>>, fiveXX: [] as string[], unanswered: [] as string[], wrong: [] as string[], accepted: [] as string[] };

  const api = async (method: string, url: string, body: unknown) => {
    const res = await fetch(`${server.url}/-/api/v1${url}`, {
      method, headers: { authorization: server.adminAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };

  /**
   * Keep a copy of every package the server stored, then delete the packages, so the next
   * accepted mutant of the same name is stored too (instead of answering 409): every upload
   * the server accepts is checked, not only the first per name.
   */
  const harvested: { copy: string; repo: string; filename: string }[] = [];
  const seen = new Set<string>();
  const harvest = async (reset = true) => {
    for (const name of ['pypi', 'deb', 'arch']) {
      const repo = server.wharf.requireRepo(name);
      for (const f of await server.wharf.store.listFilesByPrefix(repo.id, '')) {
        if (seen.has(f.sha256) || !/\.(whl|zip|tar\.gz|deb)$|\.pkg\.tar(\.(zst|xz|gz|bz2))?$/.test(f.filename)) continue;
        seen.add(f.sha256);
        // Under its own name, so the verifier knows what it is.
        const copy = path.join(work, `stored-${harvested.length}-${f.filename}`);
        await copyFile(server.wharf.blobs.localPath(f.sha256)!, copy);
        harvested.push({ copy, repo: name, filename: f.filename });
      }
      if (!reset) continue;
      for (const pkg of await server.wharf.store.listPackages(repo.id)) {
        const status = await api('DELETE', `/repositories/${name}/packages/${encodeURIComponent(pkg.name)}`, undefined);
        assert.equal(status, 204, `deleting ${name}/${pkg.name}`);
      }
    }
  };

  before(async () => {
    server = await startServer();
    work = await mkdtemp(path.join(tmpdir(), 'wharf-fuzz-'));
    for (const [name, format] of [['deb', 'apt'], ['arch', 'arch'], ['files', 'files']]) assert.equal(await api('POST', '/repositories', { name, format }), 201);
    corpus = await buildCorpus();
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('the corpus is valid for the real tools and for Wharf', async () => {
    const files: string[] = [];
    for (const s of corpus) {
      const file = path.join(work, s.filename);
      await writeFile(file, s.bytes);
      files.push(file);
    }
    const broken = await verifyWithClients(files, work);
    assert.deepEqual(broken, [], 'a valid sample fails verification: the verifier is wrong');
    // The verifier must be able to fail: a wheel whose member's CRC lies is reported.
    const wheel = corpus.find((s) => s.filename.endsWith('.whl'))!;
    const flipped = Buffer.from(wheel.bytes);
    flipped[Math.floor(flipped.length / 3)] ^= 0x01;
    const badFile = path.join(work, 'flipped-' + wheel.filename);
    await writeFile(badFile, flipped);
    assert.equal((await verifyWithClients([badFile], work)).length, 1, 'the verifier accepted a corrupt wheel');
  });

  it('no 5xx, no unanswered request, right Range answers; the server stays up', async (t) => {
    const target = { path: '/files/range/target.bin', bytes: new Rng(SEED ^ 0x5eed).bytes(10_000) };
    const put = await send(server.port, { method: 'PUT', path: target.path, headers: { authorization: server.adminAuth }, body: target.bytes });
    assert.equal(put.status, 201);
    const cases = generateCases(SEED, COUNT, corpus, { auth: server.adminAuth, rangeTarget: target });
    t.diagnostic(`seed ${SEED}, ${cases.length} inputs (rerun: WHARF_FUZZ_SEED=${SEED} WHARF_FUZZ_COUNT=${COUNT})`);
    const started = Date.now();
    for (const c of cases) {
      outcomes.total++;
      const label = `#${c.id} ${c.kind}: ${c.what}`;
      let a: Answer;
      try {
        a = await send(server.port, c.request);
      } catch (err) {
        // Node's HTTP parser answers a request line it cannot parse (raw non-ASCII bytes) with
        // a 400 that has a body even for HEAD, which node:http then fails to read: ask by GET.
        const parseError = /^HPE_/.test(String((err as { code?: unknown }).code));
        if (!(parseError && c.request.method === 'HEAD')) {
          outcomes.unanswered.push(`${label}: ${(err as Error).message}`);
          continue;
        }
        try {
          a = await send(server.port, { ...c.request, method: 'GET' });
        } catch (again) {
          outcomes.unanswered.push(`${label}: ${(again as Error).message}`);
          continue;
        }
      }
      const kind = (outcomes.byKind[c.kind] ??= {});
      kind[a.status] = (kind[a.status] ?? 0) + 1;
      if (a.status >= 500) outcomes.fiveXX.push(`${label}: ${a.status} ${a.body.toString('utf8', 0, 200)}`);
      if (c.kind === 'range' && c.expect) {
        const wrong = checkRange(c, a);
        if (wrong) outcomes.wrong.push(`${label}: ${wrong}`);
      }
      if (c.kind === 'upload' && a.status >= 200 && a.status < 300) outcomes.accepted.push(label);
      if (a.status >= 200 && a.status < 300 && c.request.method !== 'GET' && c.request.method !== 'HEAD') await harvest();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`${outcomes.total} inputs in ${seconds} s; statuses by kind: ${JSON.stringify(outcomes.byKind)}`);
    t.diagnostic(`5xx: ${outcomes.fiveXX.length}, unanswered: ${outcomes.unanswered.length}, wrong Range answers: ${outcomes.wrong.length}, mutants accepted: ${outcomes.accepted.length}`);
    for (const a of outcomes.accepted.slice(0, 20)) t.diagnostic(`accepted ${a}`);
    assert.deepEqual(outcomes.fiveXX, [], `5xx answers (WHARF_FUZZ_SEED=${SEED})`);
    assert.deepEqual(outcomes.unanswered, [], `requests without an answer (WHARF_FUZZ_SEED=${SEED})`);
    assert.deepEqual(outcomes.wrong, [], `wrong Range answers (WHARF_FUZZ_SEED=${SEED})`);
    const health = await fetch(`${server.url}/-/health`);
    assert.equal(health.status, 200);
  });

  it('everything stored is usable: real clients and Wharf\'s readers accept every stored package', async (t) => {
    await harvest(false);
    for (const { copy, repo, filename } of harvested) {
      if (repo === 'pypi') await readDistMetadata(copy, parseDistFilename(filename));
      if (repo === 'deb') await readDeb(copy, { listFiles: true });
      if (repo === 'arch') await readArchPackage(copy);
    }
    const files = harvested.map((h) => h.copy);
    const broken = await verifyWithClients(files, work);
    t.diagnostic(`stored packages: ${files.length}, unusable by a client: ${broken.length}`);
    assert.deepEqual(broken, [], `stored but unusable (WHARF_FUZZ_SEED=${SEED})`);
  });

  it('nothing escaped: stored paths are clean, no temp files, no file named by a traversal on disk', async () => {
    const filesRepo = server.wharf.requireRepo('files');
    for (const f of await server.wharf.store.listFilesByPrefix(filesRepo.id, '')) assert.doesNotThrow(() => checkStoredPath(f.path), f.path);
    for (const f of await server.wharf.store.listFilesByPrefix(server.wharf.requireRepo('deb').id, '')) {
      assert.match(f.path, /^(pool\/[A-Za-z0-9][A-Za-z0-9._+-]*\/[a-z0-9]+\/[a-z0-9][a-z0-9+.-]+\/[^/\\]+\.deb)$/, f.path);
    }
    for (const f of await server.wharf.store.listFilesByPrefix(server.wharf.requireRepo('arch').id, '')) assert.match(f.path, /^[A-Za-z0-9_]+\/[^/\\.][^/\\]*$/, f.path);
    assert.deepEqual(await readdir(path.join(server.data, 'blobs', 'tmp')), []);
    const escaped = spawnSync('find', [server.data, path.dirname(server.data), '-maxdepth', '4', '-name', '*fuzzescape*'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(escaped, '', 'a file named by a traversal payload exists on disk');
  });
});

/**
 * The files real clients would fail on: Python's zipfile (testzip) for wheels and zip
 * sdists, Python's tarfile reading every member of a .tar.gz, dpkg-deb for .debs, bsdtar
 * extracting every byte of an Arch package.
 */
async function verifyWithClients(files: string[], work: string): Promise<string[]> {
  const broken: string[] = [];
  const py = files.filter((f) => /\.(whl|zip|tar\.gz)$/.test(f) && !/\.pkg\.tar/.test(f));
  if (py.length > 0) {
    const list = path.join(work, `py-${Date.now()}.txt`);
    await writeFile(list, py.join('\n'));
    const script = [
      'import sys, zipfile, tarfile',
      'for p in open(sys.argv[1]).read().split("\\n"):',
      '    try:',
      '        if p.endswith(".tar.gz"):',
      '            with tarfile.open(p, "r:gz") as t:',
      '                for m in t:',
      '                    f = t.extractfile(m)',
      '                    if f: f.read()',
      '        else:',
      '            bad = zipfile.ZipFile(p).testzip()',
      '            if bad: raise Exception("bad member " + bad)',
      '    except Exception as e:',
      '        print(p + "\\t" + repr(e))',
    ].join('\n');
    const out = execFileSync('python3', ['-c', script, list], { encoding: 'utf8' });
    for (const line of out.split('\n').filter(Boolean)) broken.push(line);
  }
  for (const f of files.filter((x) => x.endsWith('.deb'))) {
    const info = spawnSync('dpkg-deb', ['--info', f], { encoding: 'utf8' });
    const list = spawnSync('dpkg-deb', ['--contents', f], { encoding: 'utf8' });
    if (info.status !== 0 || list.status !== 0) broken.push(`${f}\t${info.stderr}${list.stderr}`.trim());
  }
  for (const f of files.filter((x) => /\.pkg\.tar/.test(x))) {
    const r = spawnSync('bsdtar', ['-xOf', f], { encoding: 'buffer', maxBuffer: 1 << 28 });
    if (r.status !== 0) broken.push(`${f}\t${r.stderr.toString()}`.trim());
  }
  return broken;
}
