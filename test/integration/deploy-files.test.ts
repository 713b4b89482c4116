// The deployment files as an operator uses them, checked without a Docker daemon: each compose
// file is read by docker-compose itself, the config file it mounts is loaded by Wharf's own
// config loader and starts a real server with every repository it declares, and the systemd
// unit passes `systemd-analyze verify` without a single warning. (docker.test.ts builds and
// runs the image.)
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/server/config.ts';
import { run } from '../helpers/clients.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const ROOT = join(import.meta.dirname, '../..');
const COMPOSE = join(ROOT, 'deploy/compose');
const UNIT = join(ROOT, 'deploy/systemd/wharf.service');

/** `docker-compose config` of one example: the file as compose resolves it (YAML text). */
async function composeConfig(example: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WHARF_') && !k.startsWith('COMPOSE_')) clean[k] = v;
  return run('docker-compose', ['-f', join(COMPOSE, example, 'compose.yaml'), 'config'], { env: { ...clean, ...env } });
}

/** The config file an example mounts, loaded as the container loads it (WHARF_CONFIG). */
function exampleConfig(example: string): Config {
  return loadConfig({ env: { WHARF_CONFIG: join(COMPOSE, example, 'wharf.json') } });
}

describe('compose examples', () => {
  it('docker-compose reads both, refuses to start without an admin password, and publishes the ports the config listens on', async () => {
    for (const example of ['pypi-variants', 'private-index']) {
      const missing = await composeConfig(example, {});
      assert.notEqual(missing.code, 0, `${example}: compose accepted no WHARF_ADMIN_PASSWORD`);
      assert.match(missing.stderr, /set WHARF_ADMIN_PASSWORD/);
      const r = await composeConfig(example, { WHARF_ADMIN_PASSWORD: 'pw-from-env' });
      assert.equal(r.code, 0, `${example}: ${r.stderr}`);
      assert.match(r.stdout, /WHARF_ADMIN_PASSWORD: pw-from-env/);
      assert.match(r.stdout, /WHARF_CONFIG: \/etc\/wharf\/wharf\.json/);
      // docker-compose 1.29 (Debian's) prints the short syntax.
      assert.ok(r.stdout.includes(`- ${join(COMPOSE, example, 'wharf.json')}:/etc/wharf/wharf.json:ro\n`), `the config file is mounted:\n${r.stdout}`);
      assert.match(r.stdout, /- wharf-data:\/data:rw\n/, 'a named volume at /data');
    }
    const priv = await composeConfig('private-index', { WHARF_ADMIN_PASSWORD: 'x', WHARF_LISTEN: '127.0.0.1:18080' });
    assert.match(priv.stdout, /restart: always/);
    assert.match(priv.stdout, /- 127\.0\.0\.1:18080:8080\/tcp\n/, 'WHARF_LISTEN is the address and port on the host');

    // Every port a repository listens on (and the main one) is published, and nothing else.
    const variants = await composeConfig('pypi-variants', { WHARF_ADMIN_PASSWORD: 'x' });
    // `published: P` / `target: T` lines, or `- [ADDRESS:]P:T/tcp`: docker-compose 1.29 prints both.
    const published = [...variants.stdout.matchAll(/published: (\d+)\n\s+target: (\d+)|^\s+- (?:[\d.]+:)?(\d+):(\d+)\/tcp$/gm)].map((m) => `${m[1] ?? m[3]}:${m[2] ?? m[4]}`).sort();
    const listens = exampleConfig('pypi-variants').repositories.flatMap((r) => (r.options?.listen ? [String(r.options.listen)] : []));
    assert.deepEqual(listens.sort(), ['8034', '8126', '8129', '8130']);
    assert.deepEqual(published, ['8080', ...listens].map((p) => `${p}:${p}`).sort());
  });

  describe('the one-port-per-variant config starts a server with its group chains', () => {
    let srv: TestServer;
    before(async () => {
      // Its own ports are fixed (8126 ...); here any free one, so runs never collide.
      const repositories = exampleConfig('pypi-variants').repositories.map((r) => (r.options?.listen ? { ...r, options: { ...r.options, listen: '127.0.0.1:0' } } : r));
      srv = await startServer({ repositories });
    });
    after(() => srv.close());

    it('creates every repository with its kind, members in order, and a listener per variant and for tarballs', async () => {
      const repos = new Map(srv.wharf.listRepos().map((r) => [r.name, r]));
      for (const v of ['cu126', 'cu129', 'cu130']) {
        assert.equal(repos.get(`${v}-local`)?.kind, 'hosted');
        assert.equal(repos.get(`${v}-community`)?.kind, 'proxy');
        assert.equal(repos.get(v)?.kind, 'group');
        assert.deepEqual(repos.get(v)?.options.members, [`${v}-local`, `${v}-community`, 'pypi-org']);
        assert.equal(repos.get(v)?.options.uploadTo, `${v}-local`);
      }
      assert.equal(repos.get('pypi-org')?.kind, 'proxy');
      assert.equal(repos.get('tarballs')?.format, 'files');
      assert.equal(repos.has('pypi'), false, 'no default repository beside the declared ones');
      for (const name of ['cu126', 'cu129', 'cu130', 'tarballs']) {
        // The listeners start just after the main one.
        let port = 0;
        for (let i = 0; i < 100 && !port; i++) {
          port = srv.listeners.address(name)?.port ?? 0;
          if (!port) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(port, `${name} listens on a port of its own`);
        const res = await fetch(`http://127.0.0.1:${port}/-/health`);
        assert.equal(res.status, 200);
      }
    });
  });

  it('the private index config declares one private PyPI repository', () => {
    const cfg = exampleConfig('private-index');
    assert.deepEqual(cfg.repositories, [{ name: 'private', format: 'pypi', public: false }]);
  });
});

describe('systemd unit', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-unit-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The unit with its ExecStart pointing at this clone's `wharf` (verify needs the binary to exist). */
  async function unitHere(text?: string): Promise<string> {
    const unit = (text ?? (await readFile(UNIT, 'utf8'))).replace(/^ExecStart=\/usr\/local\/bin\/wharf /m, `ExecStart=${join(ROOT, 'bin/wharf.js')} `);
    const path = join(dir, 'wharf.service');
    await writeFile(path, unit);
    return path;
  }

  it('passes systemd-analyze verify with no warning at all', async () => {
    const text = await readFile(UNIT, 'utf8');
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/wharf serve$/m, 'ExecStart is where npm install -g puts the command');
    const r = await run('systemd-analyze', ['verify', await unitHere()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify warns about nothing (unknown keys and bad values are only warnings)');
    // The check above can fail: a misspelled key and a bad value are reported.
    const bad = await run('systemd-analyze', ['verify', await unitHere(text.replace('PrivateTmp=yes', 'PrivatTmp=yes').replace('ProtectHome=yes', 'ProtectHome=maybe'))]);
    assert.match(bad.stderr, /Unknown key 'PrivatTmp'/);
    assert.match(bad.stderr, /ProtectHome|protect home/i);
  });

  it('runs as a user of its own in a state directory, hardened, and leaves V8 its writable code pages', async () => {
    const text = await readFile(UNIT, 'utf8');
    const settings = new Map<string, string[]>();
    for (const m of text.matchAll(/^(\w+)=(.*)$/gm)) settings.set(m[1], [...(settings.get(m[1]) ?? []), m[2]]);
    const one = (k: string) => settings.get(k)?.at(-1);
    assert.equal(one('DynamicUser'), 'yes');
    const stateDirs = one('StateDirectory')!.split(/\s+/);
    assert.ok(settings.get('Environment')!.includes(`WHARF_DATA=/var/lib/${stateDirs[0]}`), 'WHARF_DATA is the state directory');
    for (const [k, v] of [['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['NoNewPrivileges', 'yes'], ['SystemCallFilter', '@system-service'], ['CapabilityBoundingSet', '']]) {
      assert.equal(one(k), v, k);
    }
    assert.match(one('RestrictAddressFamilies')!, /AF_INET AF_INET6/);
    // Without it os.networkInterfaces() throws and the server dies at start on 0.0.0.0
    // (docker.test.ts runs the unit under systemd and saw it).
    assert.match(one('RestrictAddressFamilies')!, /AF_NETLINK/);
    assert.equal(settings.has('MemoryDenyWriteExecute'), false, 'Node.js (V8) needs W+X pages');
    const sec = await run('systemd-analyze', ['security', '--offline=yes', await unitHere()]);
    const level = /Overall exposure level for wharf\.service: ([\d.]+)/.exec(sec.stdout + sec.stderr);
    assert.ok(level, sec.stdout + sec.stderr);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]} (systemd's scale: 0 safe .. 10 unsafe)`);
  });
});
