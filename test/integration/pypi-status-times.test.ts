// Upload times (PEP 700, and data-upload-time in HTML) for hosted, proxy and group pages, read
// by the rules an installer's "exclude newer" uses; and project status (PEP 792): set on a
// hosted project, refused uploads, no files for a quarantined project, passed through proxies
// and groups. Debian's pip (23.x) has no --uploaded-prior-to, so the pages are read by a
// Python script that applies the rule pip 25 and uv apply (see the script).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, pythonExecutable, run, twineUpload } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

async function api(server: TestServer, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/-/api/v1${path}`, {
    method, headers: { authorization: server.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function uploadWheel(server: TestServer, repo: string, name: string, version: string) {
  const res = await fetch(`${server.url}/-/api/v1/repositories/${repo}/upload?filename=${wheelFilename({ name, version })}`, {
    method: 'POST', body: buildWheel({ name, version }), headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
  });
  return { status: res.status, text: await res.text() };
}

const setStatus = (s: TestServer, repo: string, pkg: string, status: string, reason?: string) =>
  api(s, 'POST', `/repositories/${repo}/actions/project-status`, { package: pkg, status, ...(reason ? { reason } : {}) });

const JSON_ACCEPT = { accept: 'application/vnd.pypi.simple.v1+json' };

// An installer's "uploaded before" filter over one project page: HTML anchors' data-upload-time
// (uv, and the pip that has --uploaded-prior-to) or JSON files' upload-time (PEP 700), parsed as ISO 8601 with
// Python's own parser; a file without a time, or at or after the cutoff, is left out. Prints the
// newest version left, and every file's time.
const PICK = `
import json, sys, urllib.request
from datetime import datetime
from html.parser import HTMLParser
url, kind, cutoff = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
req = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json" if kind == "json" else "text/html"})
body = urllib.request.urlopen(req).read().decode()
files = []
if kind == "json":
    doc = json.loads(body)
    files = [(f["filename"], f.get("upload-time")) for f in doc["files"]]
else:
    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "a":
                files.append((a["href"].split("#")[0].rsplit("/", 1)[-1], a.get("data-upload-time")))
    P().feed(body)
times = {}
for name, t in files:
    if t is None:
        continue
    assert t.endswith("Z"), t
    times[name] = datetime.fromisoformat(t)
ok = [n for n, t in times.items() if t < cutoff]
def version(n): return tuple(int(x) for x in n.split("-")[1].split("."))
print(json.dumps({"pick": ".".join(map(str, max(map(version, ok)))) if ok else None, "times": {n: t.isoformat() for n, t in times.items()}}))
`;

async function pick(url: string, kind: 'html' | 'json', cutoff: string): Promise<{ pick: string | null; times: Record<string, string> }> {
  const r = await run(pythonExecutable(), ['-c', PICK, url, kind, cutoff]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const installed = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.dist-info')).sort();

describe('PyPI upload times and project status', () => {
  let upstream: TestServer;
  let local: TestServer;
  let bare: Server;
  let bareUrl = '';
  let cutoff = '';
  const tmp: string[] = [];

  before(async () => {
    upstream = await startServer();
    assert.equal((await uploadWheel(upstream, 'pypi', 'timed', '1.0')).status, 201);
    await new Promise((r) => setTimeout(r, 30));
    cutoff = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await uploadWheel(upstream, 'pypi', 'timed', '2.0')).status, 201);
    assert.equal((await uploadWheel(upstream, 'pypi', 'badlib', '1.0')).status, 201);

    // An upstream of the oldest kind: HTML without times or a PEP 629 marker.
    const wheel = buildWheel({ name: 'bare', version: '1.0' });
    const sha = createHash('sha256').update(wheel).digest('hex');
    bare = createServer((req, res) => {
      if (req.url === '/simple/bare/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><a href="/f/${wheelFilename({ name: 'bare', version: '1.0' })}#sha256=${sha}">${wheelFilename({ name: 'bare', version: '1.0' })}</a></body></html>`);
      } else if (req.url?.startsWith('/f/')) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wheel);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;

    local = await startServer();
    assert.equal((await api(local, 'POST', '/repositories', { name: 'local', format: 'pypi' })).status, 201);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'up', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, metadataTtl: 0, timeout: 5 } })).status, 201);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'old', format: 'pypi', kind: 'proxy', options: { upstream: `${bareUrl}/simple/`, metadataTtl: 0, timeout: 5 } })).status, 201);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'cu', format: 'pypi', kind: 'group', options: { members: ['local', 'up'] } })).status, 201);
  });
  after(async () => {
    await local.close();
    await upstream.close();
    await new Promise((r) => bare.close(r));
    for (const d of tmp) await rm(d, { recursive: true, force: true });
  });

  it('every page gives upload times an installer can filter on: hosted, proxy (the upstream\'s) and group, HTML and JSON', async () => {
    const pages = [`${upstream.url}/pypi/simple/timed/`, `${local.url}/up/simple/timed/`, `${local.url}/cu/simple/timed/`];
    const seen: Record<string, string>[] = [];
    for (const url of pages) {
      for (const kind of ['html', 'json'] as const) {
        const r = await pick(url, kind, cutoff);
        assert.equal(r.pick, '1.0', `${kind} ${url}: the release before the cutoff`);
        assert.equal(Object.keys(r.times).length, 2, `${kind} ${url}: both files have a time`);
        assert.equal((await pick(url, kind, '2100-01-01T00:00:00Z')).pick, '2.0');
        seen.push(r.times);
      }
    }
    // The proxy and the group give the upstream's times, not their own.
    for (const t of seen) assert.deepEqual(t, seen[0]);
  });

  it('a proxy whose upstream gives no times lists the time it first saw each file, the same at every refresh', async () => {
    const first = await pick(`${local.url}/old/simple/bare/`, 'html', '2100-01-01T00:00:00Z');
    const t = Object.values(first.times);
    assert.equal(t.length, 1);
    assert.ok(Math.abs(Date.parse(t[0]) - Date.now()) < 60_000, t[0]);
    await new Promise((r) => setTimeout(r, 20));
    // metadataTtl 0: this reads the upstream again.
    const again = await pick(`${local.url}/old/simple/bare/`, 'json', '2100-01-01T00:00:00Z');
    assert.deepEqual(again.times, first.times);
  });

  it('an archived project takes no uploads (409 with the reason, twine included), and says so on its pages', async () => {
    assert.equal((await uploadWheel(local, 'local', 'frozen', '1.0')).status, 201);
    const set = await setStatus(local, 'local', 'Frozen', 'archived', 'moved to frozen2');
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const up = await uploadWheel(local, 'local', 'frozen', '1.1');
    assert.equal(up.status, 409);
    assert.match(up.text, /frozen is archived \(moved to frozen2\)/);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-status-'));
    tmp.push(dir);
    const file = join(dir, wheelFilename({ name: 'frozen', version: '1.2' }));
    await writeFile(file, buildWheel({ name: 'frozen', version: '1.2' }));
    const tw = await twineUpload(`${local.url}/local/`, 'admin', ADMIN_PASSWORD, [file]);
    assert.notEqual(tw.code, 0);
    assert.match(tw.stdout + tw.stderr, /409/);
    const json = await (await fetch(`${local.url}/local/simple/frozen/`, { headers: JSON_ACCEPT })).json() as { meta: Record<string, string>; 'project-status': unknown; files: unknown[] };
    assert.equal(json.meta['api-version'], '1.4');
    assert.deepEqual(json['project-status'], { status: 'archived', reason: 'moved to frozen2' });
    assert.equal(json.files.length, 1, 'archived files stay installable');
    const html = await (await fetch(`${local.url}/local/simple/frozen/`)).text();
    assert.match(html, /<meta name="pypi:project-status" content="archived">\s*<meta name="pypi:project-status-reason" content="moved to frozen2">/);
    // The package's web page says so too.
    assert.match(await (await fetch(`${local.url}/-/package/local/frozen`)).text(), /project archived: moved to frozen2/);
    // Read back, then active again: uploads work.
    assert.deepEqual((await api(local, 'POST', '/repositories/local/actions/project-status', { package: 'frozen' })).json, { package: 'frozen', status: 'archived', reason: 'moved to frozen2' });
    assert.equal((await setStatus(local, 'local', 'frozen', 'active')).status, 200);
    assert.equal((await uploadWheel(local, 'local', 'frozen', '1.1')).status, 201);
    assert.equal((await setStatus(local, 'local', 'frozen', 'broken')).status, 400);
    assert.equal((await setStatus(local, 'up', 'timed', 'archived')).status, 400, 'a proxy shows its upstream\'s status');
  });

  it('a quarantined hosted project lists no files, serves none, takes no uploads; pip cannot install it; lifting it restores all', async () => {
    assert.equal((await uploadWheel(local, 'local', 'evil', '1.0')).status, 201);
    const file = `${local.url}/local/packages/evil/${wheelFilename({ name: 'evil', version: '1.0' })}`;
    assert.equal((await fetch(file)).status, 200);
    assert.equal((await setStatus(local, 'local', 'evil', 'quarantined', 'malware')).status, 200);
    const json = await (await fetch(`${local.url}/local/simple/evil/`, { headers: JSON_ACCEPT })).json() as { 'project-status': unknown; files: unknown[]; versions: unknown[] };
    assert.deepEqual(json['project-status'], { status: 'quarantined', reason: 'malware' });
    assert.deepEqual(json.files, []);
    assert.deepEqual(json.versions, []);
    const res = await fetch(file);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /quarantined \(malware\)/);
    assert.equal((await uploadWheel(local, 'local', 'evil', '1.1')).status, 409);
    // Through the group too (the hosted member has it, so it decides).
    assert.equal((await fetch(`${local.url}/cu/packages/evil/${wheelFilename({ name: 'evil', version: '1.0' })}`)).status, 403);
    const target = await mkdtemp(join(tmpdir(), 'wharf-status-'));
    tmp.push(target);
    const r = await pip(['install', '--index-url', `${local.url}/local/simple/`, '--target', target, 'evil']);
    assert.notEqual(r.code, 0, 'pip finds nothing to install');
    assert.equal((await setStatus(local, 'local', 'evil', 'active')).status, 200);
    // The group learns of the member's change too (each member's status is kept with the member).
    assert.equal((await fetch(`${local.url}/cu/packages/evil/${wheelFilename({ name: 'evil', version: '1.0' })}`)).status, 200);
    assert.equal(((await (await fetch(`${local.url}/cu/simple/evil/`, { headers: JSON_ACCEPT })).json()) as { files: unknown[] }).files.length, 1);
    const ok = await pip(['install', '--index-url', `${local.url}/local/simple/`, '--target', target, 'evil']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await installed(target), ['evil-1.0.dist-info']);
  });

  it('proxies and groups pass the upstream\'s status through; a quarantined upstream project\'s cached files stop being served', async () => {
    const name = wheelFilename({ name: 'badlib', version: '1.0' });
    // Cached while the project was active.
    assert.equal((await fetch(`${local.url}/up/packages/badlib/${name}`)).status, 200);
    assert.equal((await setStatus(upstream, 'pypi', 'badlib', 'quarantined', 'typosquat')).status, 200);
    for (const repo of ['up', 'cu']) {
      const json = await (await fetch(`${local.url}/${repo}/simple/badlib/`, { headers: JSON_ACCEPT })).json() as { 'project-status': unknown; files: unknown[] };
      assert.deepEqual(json['project-status'], { status: 'quarantined', reason: 'typosquat' }, repo);
      assert.deepEqual(json.files, [], repo);
      const html = await (await fetch(`${local.url}/${repo}/simple/badlib/`)).text();
      assert.match(html, /<meta name="pypi:project-status" content="quarantined">/, repo);
      const res = await fetch(`${local.url}/${repo}/packages/badlib/${name}`);
      assert.equal(res.status, 403, repo);
      assert.match(await res.text(), /quarantined/);
    }
    const target = await mkdtemp(join(tmpdir(), 'wharf-status-'));
    tmp.push(target);
    assert.notEqual((await pip(['install', '--index-url', `${local.url}/cu/simple/`, '--target', target, 'badlib'])).code, 0);
    // Deprecated upstream: shown, files served.
    assert.equal((await setStatus(upstream, 'pypi', 'badlib', 'deprecated', 'use goodlib')).status, 200);
    const json = await (await fetch(`${local.url}/cu/simple/badlib/`, { headers: JSON_ACCEPT })).json() as { 'project-status': unknown; files: unknown[] };
    assert.deepEqual(json['project-status'], { status: 'deprecated', reason: 'use goodlib' });
    assert.equal(json.files.length, 1);
    assert.equal((await fetch(`${local.url}/cu/packages/badlib/${name}`)).status, 200);
  });
});
