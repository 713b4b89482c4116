// The test run's preflight names every missing tool with its Debian package and fails,
// rather than letting tests skip or fail far from the cause.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '../../..');
const SCRIPT = join(ROOT, 'scripts/test-preflight.sh');

function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

test('passes with every tool, and names a missing one with its package when one is gone', async (t) => {
  const all = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
  assert.equal(all.status, 0, `this machine should have every tool (bash scripts/install-test-deps.sh):\n${all.stderr}`);

  // A PATH with everything the script looks up on PATH, except zstd and twine.
  const bin = await mkdtemp(join(tmpdir(), 'wharf-preflight-'));
  t.after(() => rm(bin, { recursive: true, force: true }));
  // Read from the script's own table, so a tool added there is covered here too.
  const table = (await readFile(SCRIPT, 'utf8')).match(/^tools=\(\n([\s\S]*?)^\)/m)![1];
  const programs = [...table.matchAll(/^\s*"(\S+) /gm)].map((m) => m[1]).filter((p) => !p.startsWith('/'));
  const names = [...programs.filter((p) => p !== 'zstd' && p !== 'twine' && p !== 'python3'), 'sort', 'tr', 'bash', 'dirname'];
  for (const n of names) {
    const p = which(n);
    if (p) await symlink(p, join(bin, n));
  }
  // python3 itself, not a version manager's shim that needs its own PATH.
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  await symlink(python, join(bin, 'python3'));
  const r = spawnSync(join(bin, 'bash'), [SCRIPT], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, PATH: bin } });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^test preflight: 2 missing; no test was run:$/m);
  assert.match(r.stderr, /^ {2}- zstd \(zstd: arch packages\)$/m);
  assert.match(r.stderr, /^ {2}- twine \(twine: upload tests\)$/m);
  assert.match(r.stderr, /apt-get install twine zstd $/m);
});
