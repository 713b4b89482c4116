// The `wharf` command line against `wharf serve` run as its own process, as an operator would.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, twineUpload } from '../helpers/clients.ts';
import { freePort } from '../helpers/ports.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { databaseEnv } from '../helpers/test-database.ts';

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

describe('wharf CLI against wharf serve', () => {
  let child: ChildProcess;
  let data: string;
  let url: string;
  let password = '';
  let stderr = '';

  const wharf = (args: string[], env: Record<string, string> = {}) => run(NODE, [MAIN, ...args], {
    env: { ...process.env, WHARF_URL: url, WHARF_USER: 'admin', WHARF_PASSWORD: password, ...env },
  });

  before(async () => {
    data = await mkdtemp(join(tmpdir(), 'wharf-cli-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, ...(await databaseEnv(join(data, 'd'))) };
    delete env.WHARF_ADMIN_PASSWORD;
    child = spawn(NODE, [MAIN, 'serve', '--data', join(data, 'd'), '--port', String(port), '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${url}/-/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    password = /password: (\S+)/.exec(stderr)?.[1] ?? '';
  });
  after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(data, { recursive: true, force: true });
  });

  it('prints a generated admin password once and serves the default pypi repository', async () => {
    assert.match(password, /^[A-Za-z0-9_-]{24}$/, stderr);
    const r = await wharf(['repo', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pypi\s+pypi\s+hosted\s+public/m);
  });

  it('creates repositories, users, grants and tokens; a token uploads with twine', async () => {
    assert.equal((await wharf(['repo', 'create', 'team', '--format', 'pypi', '--private'])).code, 0);
    const bad = await wharf(['repo', 'create', 'Bad/Name', '--format', 'pypi']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid repository name/);
    assert.equal((await wharf(['user', 'add', 'alice', '--password-stdin'].concat([]), {})).code, 1, 'empty stdin is refused');
    const add = await run(NODE, [MAIN, 'user', 'add', 'alice', '--password-stdin'], { env: { ...process.env, WHARF_URL: url, WHARF_USER: 'admin', WHARF_PASSWORD: password }, input: 'alice-password\n' });
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await wharf(['user', 'grant', 'alice', 'team', 'write'])).code, 0);
    const tok = await wharf(['token', 'create', '--name', 'ci', '--repo', 'team'], { WHARF_USER: 'alice', WHARF_PASSWORD: 'alice-password' });
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    assert.match(token, /^wharf_/);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cli-dist-'));
    const file = join(dir, wheelFilename({ name: 'cli-demo', version: '0.1' }));
    await writeFile(file, buildWheel({ name: 'cli-demo', version: '0.1', summary: 'from the cli' }));
    const up = await twineUpload(`${url}/team/`, '__token__', token, [file]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const denied = await twineUpload(`${url}/pypi/`, '__token__', token, [file]);
    assert.notEqual(denied.code, 0, 'the token is scoped to team');
    const ls = await wharf(['ls', 'team'], { WHARF_TOKEN: token, WHARF_USER: '', WHARF_PASSWORD: '' });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /cli-demo\s+0\.1/);
  });

  it('uploads with a progress-reporting client, yanks, downloads, deletes and reports status', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cli-dist-'));
    const file = join(dir, wheelFilename({ name: 'tool', version: '2.0' }));
    const bytes = buildWheel({ name: 'tool', version: '2.0' });
    await writeFile(file, bytes);
    const up = await wharf(['upload', 'pypi', file]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /uploaded: packages\/tool\/tool-2\.0-py3-none-any\.whl/);
    assert.match((await wharf(['upload', 'pypi', file])).stdout, /already there/);
    const y = await wharf(['yank', 'pypi', 'tool', '2.0', '--reason', 'bad']);
    assert.equal(y.code, 0, y.stderr);
    assert.match(await (await fetch(`${url}/pypi/simple/tool/`)).text(), /data-yanked="bad"/);
    const ps = await wharf(['project-status', 'pypi', 'Tool', 'deprecated', '--reason', 'use tool2']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(ps.stdout.trim(), 'tool: deprecated (use tool2)');
    assert.match(await (await fetch(`${url}/pypi/simple/tool/`)).text(), /<meta name="pypi:project-status" content="deprecated">/);
    assert.equal((await wharf(['project-status', 'pypi', 'tool'])).stdout.trim(), 'tool: deprecated (use tool2)');
    const badStatus = await wharf(['project-status', 'pypi', 'tool', 'gone']);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /status must be one of active, archived, quarantined, deprecated/);
    assert.equal((await wharf(['project-status', 'pypi', 'tool', 'active'])).stdout.trim(), 'tool: active');
    const out = join(dir, 'copy.whl');
    assert.equal((await wharf(['download', 'pypi', 'packages/tool/tool-2.0-py3-none-any.whl', '-o', out])).code, 0);
    assert.deepEqual(await readFile(out), bytes);
    const status = await wharf(['status']);
    assert.match(status.stdout, /^pypi\s+pypi\s+hosted\s+1\s+1\s+2/m);
    assert.equal((await wharf(['rm', 'pypi', 'tool', '2.0'])).code, 0);
    assert.equal((await fetch(`${url}/pypi/simple/tool/`)).status, 404);
    // The deleted version's blobs are kept for time travel until historyDays is lowered.
    assert.match((await wharf(['gc', '--grace', '0', '--dry-run'])).stdout, /would free 0 blobs/);
    assert.equal((await wharf(['repo', 'set', 'pypi', '--option', 'historyDays=0'])).code, 0);
    // Just uploaded: inside the grace period, kept unless the operator says otherwise.
    assert.match((await wharf(['gc'])).stdout, /freed 0 blobs, 0 B; kept 2 younger than the grace period/);
    assert.match((await wharf(['gc', '--grace', '0', '--dry-run'])).stdout, /would free 2 blobs/);
    const gc = await wharf(['gc', '--grace', '0']);
    assert.match(gc.stdout, /freed 2 blobs/);
  });

  it('imports a directory, reporting invalid files without stopping', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cli-import-'));
    for (const v of ['1.0', '1.1', '1.2']) await writeFile(join(dir, wheelFilename({ name: 'bulk', version: v })), buildWheel({ name: 'bulk', version: v }));
    await writeFile(join(dir, 'notes.txt'), 'not a distribution');
    const r = await wharf(['import', 'pypi', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 3 new, 0 already present, 1 refused, of 4 files/);
    assert.match(r.stderr, /skipped .*notes\.txt/);
  });

  it('explains an unreachable server and bad credentials', async () => {
    const r = await run(NODE, [MAIN, 'repo', 'list'], { env: { ...process.env, WHARF_URL: 'http://127.0.0.1:9' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the server/);
    const c = await wharf(['user', 'list'], { WHARF_PASSWORD: 'wrong-password' });
    assert.equal(c.code, 1);
    assert.match(c.stderr, /invalid credentials \(401/);
  });
});
