// What the server writes to its log: one readable line per request, no duplicate keys,
// no lines for health checks and metrics scrapes at info, pretty lines on a terminal.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildServer, loggerOptions } from '../../../src/server/app.ts';
import { DEFAULTS } from '../../../src/server/config.ts';
import { prettyLine } from '../../../src/server/log-pretty.ts';

/** Top-level keys that occur more than once in one JSON line (JSON.parse keeps the last). */
function duplicateKeys(line: string): string[] {
  const dups: string[] = [];
  let depth = 0;
  const seen = new Set<string>();
  const re = /"((?:[^"\\]|\\.)*)"(\s*:)?|[{}[\]]/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[0] === '{' || m[0] === '[') depth++;
    else if (m[0] === '}' || m[0] === ']') depth--;
    else if (m[2] && depth === 1) {
      if (seen.has(m[1])) dups.push(m[1]);
      seen.add(m[1]);
    }
  }
  return dups;
}

async function withServer(fn: (url: string, lines: () => Record<string, unknown>[], raw: () => string[]) => Promise<void>): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'wharf-log-'));
  const raw: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { raw.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  const { app } = await buildServer({ ...DEFAULTS, data, port: 0, adminPassword: 'pw-for-logs' }, { logger: { level: 'info', stream } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  try {
    await fn(url, () => raw.map((l) => JSON.parse(l)), () => raw);
  } finally {
    await app.close();
    await rm(data, { recursive: true, force: true });
  }
}

describe('server log', () => {
  it('has no duplicate keys in a line, also for refused requests', async () => {
    await withServer(async (url, _lines, raw) => {
      assert.equal((await fetch(`${url}/no-such-repo/`)).status, 404);
      assert.equal((await fetch(`${url}/-/api/v1/users`)).status, 401);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(raw().some((l) => l.includes('no-such-repo')), raw().join('\n'));
      for (const line of raw()) assert.deepEqual(duplicateKeys(line), [], line);
    });
  });

  it('does not log health checks and metrics scrapes at info, and logs other requests once', async () => {
    await withServer(async (url, lines) => {
      for (let i = 0; i < 3; i++) {
        assert.equal((await fetch(`${url}/-/health`)).status, 200);
        assert.equal((await fetch(`${url}/-/metrics`)).status, 200);
      }
      assert.equal((await fetch(`${url}/pypi/simple/`)).status, 200);
      await new Promise((r) => setTimeout(r, 50));
      const all = lines();
      const urls = all.map((l) => (l.req as { url?: string } | undefined)?.url).filter(Boolean);
      assert.ok(!urls.includes('/-/health'), JSON.stringify(all));
      assert.ok(!urls.includes('/-/metrics'), JSON.stringify(all));
      assert.equal(urls.filter((u) => u === '/pypi/simple/').length, 1, 'one line per request');
      const line = all.find((l) => (l.req as { url?: string } | undefined)?.url === '/pypi/simple/')!;
      assert.equal((line.res as { statusCode: number }).statusCode, 200);
      assert.equal(typeof line.responseTime, 'number');
    });
  });
});

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless chosen', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WriteStream;
    const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
    assert.ok(loggerOptions({ logLevel: 'info', logFormat: 'auto' }, tty).stream, 'pretty on a terminal');
    assert.equal(loggerOptions({ logLevel: 'info', logFormat: 'auto' }, pipe).stream, undefined, 'JSON into a pipe');
    assert.ok(loggerOptions({ logLevel: 'info', logFormat: 'pretty' }, pipe).stream);
    assert.equal(loggerOptions({ logLevel: 'info', logFormat: 'json' }, tty).stream, undefined);
  });

  it('prints a request as one short line without pid and hostname', () => {
    const line = prettyLine(JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 1, hostname: 'vm', reqId: 'req-3', req: { method: 'GET', url: '/pypi/simple/', host: 'h:1', remoteAddress: '10.0.0.7', remotePort: 5 }, res: { statusCode: 200 }, responseTime: 2.345, msg: 'request' }));
    assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} INFO  request GET \/pypi\/simple\/ 200 2\.3ms 10\.0\.0\.7 reqId=req-3\n$/);
    assert.doesNotMatch(line, /pid|hostname|vm/);
  });

  it('prints nested fields as dotted keys and an error stack indented below', () => {
    const line = prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'request failed', code: 'X', repo: { name: 'a b' }, err: { message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:1)' } }));
    const [first, ...rest] = line.trimEnd().split('\n');
    assert.match(first, /ERROR request failed error=boom code=X repo\.name="a b"$/);
    assert.deepEqual(rest, ['    Error: boom', '        at f (x.ts:1:1)']);
  });

  it('passes a line that is not JSON through', () => {
    assert.equal(prettyLine('plain text'), 'plain text\n');
  });
});
