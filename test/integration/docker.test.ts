// Wharf's Docker image as an operator gets it, with no image registry: a Debian 12 base made
// with debootstrap from Debian's archive and imported, the image built from the Dockerfile
// with Debian's docker.io, then the private-index compose example run with docker-compose:
// twine uploads, pip installs from the published port, the container restarts and pip
// installs again from what the volume kept, and nothing inside runs as root. The per-variant
// example's config runs in the image too: uploads through a variant's own port land in its
// hosted member; tarballs on theirs.
//
// Slow the first time (debootstrap and the build: about 3 minutes); the base image and
// Docker's layer cache are kept (WHARF_DOCKER_CACHE, default /var/cache/wharf-test), so later
// runs rebuild only what changed. Skips, saying why, where no Docker daemon can be started
// (e.g. inside an unprivileged container); WHARF_REQUIRE_DOCKER=1 makes that a failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, run, twineUpload, type RunResult } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { onPostgres, sqliteOnly } from '../helpers/test-database.ts';

const ROOT = join(import.meta.dirname, '../..');
const CACHE = process.env.WHARF_DOCKER_CACHE ?? '/var/cache/wharf-test';
// Bump the tag when the recipe of the base changes.
const BASE_IMAGE = 'wharf-test-base:bookworm-1';
const IMAGE = 'wharf-test:latest';
const SYSTEMD_IMAGE = 'wharf-test-systemd:latest';
const PASSWORD = 'docker-admin-pw';

// Linux capability numbers, to run systemd in a container with every capability this machine
// has (docker's --privileged asks for all of them and fails where one is missing).
const CAPS = ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE',
  'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE',
  'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE'];

/** docker run options for a container whose PID 1 is systemd. */
async function systemdRunOptions(): Promise<string[]> {
  const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(await readFile('/proc/self/status', 'utf8'))![1]}`);
  const drop = CAPS.filter((_, i) => !(bounding & (1n << BigInt(i)))).flatMap((c) => ['--cap-drop', c]);
  // cgroup v1 (this machine): systemd only reads the host's hierarchy; v2: it needs its own.
  const cgroup = existsSync('/sys/fs/cgroup/systemd') ? ['-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro'] : ['--cgroupns=private', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw'];
  return ['--cap-add', 'ALL', ...drop, '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
    ...cgroup, '--tmpfs', '/run', '--tmpfs', '/run/lock'];
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

async function canRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { timeoutMs: 30_000 })).code === 0;
  } catch {
    return false; // not installed
  }
}

/** Why no Docker daemon can be used here, or null when one answers (started if need be). */
async function dockerUnavailable(): Promise<string | null> {
  if (!(await canRun('docker', ['--version']))) return 'no docker command (apt-get install docker.io)';
  if (await canRun('docker', ['info'])) return null;
  if (process.getuid?.() !== 0) return 'the Docker daemon is not running and only root can start it';
  if (!existsSync('/usr/sbin/dockerd')) return 'the Docker daemon is not running and dockerd is not installed (apt-get install docker.io)';
  await mkdir(CACHE, { recursive: true });
  const log = openSync(join(CACHE, 'dockerd.log'), 'a');
  // Left running for later runs, as a daemon would be.
  spawn('/usr/sbin/dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  for (let i = 0; i < 60; i++) {
    if (await canRun('docker', ['info'])) return null;
    await new Promise((r) => setTimeout(r, 500));
  }
  return `dockerd did not start (see ${join(CACHE, 'dockerd.log')}); in a container it needs --privileged`;
}

/** Debian's archive as this machine's apt reaches it. */
async function debianMirror(): Promise<string> {
  for (const [file, re] of [['/etc/apt/sources.list.d/debian.sources', /^URIs:\s*(\S+)/m], ['/etc/apt/sources.list', /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m]] as const) {
    const m = re.exec(await readFile(file, 'utf8').catch(() => ''));
    if (m) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

/** A Debian 12 base image made from Debian's archive, as a site without a registry makes one. */
async function ensureBaseImage(): Promise<void> {
  if (await canRun('docker', ['image', 'inspect', BASE_IMAGE])) return;
  const rootfs = join(CACHE, 'rootfs');
  if (!existsSync(join(rootfs, 'bin/bash'))) {
    await rm(`${rootfs}.tmp`, { recursive: true, force: true });
    // curl and CA certificates let the build stage fetch Node.js without apt.
    ok(await run('debootstrap', ['--variant=minbase', '--include=ca-certificates,curl', 'bookworm', `${rootfs}.tmp`, await debianMirror()], { timeoutMs: 900_000 }), 'debootstrap');
    await rm(join(`${rootfs}.tmp`, 'var/lib/apt/lists'), { recursive: true, force: true });
    await rm(join(`${rootfs}.tmp`, 'var/cache/apt'), { recursive: true, force: true });
    await rename(`${rootfs}.tmp`, rootfs);
  }
  // This machine's trust store: it reaches the npm registry through its own CA, as a site's
  // base image would trust the site's.
  await copyFile('/etc/ssl/certs/ca-certificates.crt', join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
  ok(await run('bash', ['-c', `tar -C "$1" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8' - "$2"`, 'import', rootfs, BASE_IMAGE], { timeoutMs: 300_000 }), 'docker import');
}

async function imageId(name: string): Promise<string | null> {
  const r = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', name]);
  return r.code === 0 ? r.stdout.trim() : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const res = await fetch(`${url}/-/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url}/-/health did not answer: ${last}`);
}

/** The host port Docker published for a container's port on 127.0.0.1. */
async function hostPort(container: string, port: number): Promise<number> {
  const r = ok(await run('docker', ['port', container, `${port}/tcp`]), 'docker port');
  const m = /127\.0\.0\.1:(\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m[1]);
}

function compose(project: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WHARF_') && !k.startsWith('COMPOSE_')) clean[k] = v;
  return run('docker-compose', ['-p', project, '-f', join(ROOT, 'deploy/compose/private-index/compose.yaml'), ...args], { env: { ...clean, ...env }, timeoutMs: 180_000 });
}

const unavailable = await dockerUnavailable();
const required = process.env.WHARF_REQUIRE_DOCKER === '1';

if (unavailable && required && !onPostgres) {
  it('a Docker daemon to build and run the image (WHARF_REQUIRE_DOCKER=1)', () => {
    assert.fail(unavailable);
  });
}

// The image and its compose files run the embedded SQLite; the suite's PostgreSQL is this test process's.
describe('the Docker image', { skip: unavailable ? `no Docker daemon: ${unavailable}` : sqliteOnly('the image runs its own embedded SQLite database') }, () => {
  let work: string;
  const project = `wharftest${process.pid}`;
  const variants = `wharf-test-variants-${process.pid}`;
  const systemd = `wharf-test-systemd-${process.pid}`;
  const tls = `wharf-test-tls-${process.pid}`;
  let env: Record<string, string>;
  let url: string;
  const started = Date.now();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-docker-'));
    await ensureBaseImage();
    const old = await imageId(IMAGE);
    const t = Date.now();
    ok(await run('docker', ['build', '--network', 'host', '--build-arg', `BASE=${BASE_IMAGE}`, '-t', IMAGE, ROOT], { timeoutMs: 900_000 }), 'docker build');
    const now = await imageId(IMAGE);
    // The previous build, now untagged, would pile up run after run.
    if (old && old !== now) await run('docker', ['rmi', old]);
    const size = (await run('docker', ['image', 'inspect', '-f', '{{.Size}}', IMAGE])).stdout.trim();
    process.stderr.write(`# docker: base ready and image built in ${((Date.now() - started) / 1000).toFixed(0)} s (build ${((Date.now() - t) / 1000).toFixed(0)} s), image ${(Number(size) / 1e6).toFixed(0)} MB\n`);
  }, { timeout: 1_800_000 });

  after(async () => {
    if (env) await compose(project, ['down', '-v', '--timeout', '5'], env);
    await run('docker', ['rm', '-f', '-v', variants]);
    await run('docker', ['rm', '-f', '-v', systemd]);
    await run('docker', ['rm', '-f', '-v', tls]);
    await rm(work, { recursive: true, force: true });
    process.stderr.write(`# docker: whole test ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  });

  it('runs the private-index compose example: twine uploads, pip installs, and again after a restart from the volume', { timeout: 600_000 }, async () => {
    const port = await freePort();
    env = { WHARF_IMAGE: IMAGE, WHARF_LISTEN: `127.0.0.1:${port}`, WHARF_ADMIN_PASSWORD: PASSWORD };
    url = `http://127.0.0.1:${port}`;
    ok(await compose(project, ['up', '-d', '--no-build'], env), 'docker-compose up');
    await waitHealthy(url);
    const id = ok(await compose(project, ['ps', '-q', 'wharf'], env), 'docker-compose ps').stdout.trim();
    assert.ok(id);

    // The image's own HEALTHCHECK command succeeds inside (its first run would come 30 s later).
    const check = JSON.parse(ok(await run('docker', ['inspect', '-f', '{{json .Config.Healthcheck.Test}}', IMAGE]), 'inspect').stdout) as string[];
    assert.equal(check[0], 'CMD');
    ok(await run('docker', ['exec', id, ...check.slice(1)]), 'the HEALTHCHECK command');
    assert.equal(ok(await run('docker', ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', id]), 'inspect').stdout.trim(), 'always');

    // The config file from the example made the one repository private.
    assert.equal((await fetch(`${url}/private/simple/`)).status, 401);

    const wheel = join(work, wheelFilename({ name: 'docker-probe', version: '1.0' }));
    await writeFile(wheel, buildWheel({ name: 'docker-probe', version: '1.0' }));
    ok(await twineUpload(`${url}/private/`, 'admin', PASSWORD, [wheel]), 'twine upload');
    const index = `http://admin:${PASSWORD}@127.0.0.1:${port}/private/simple/`;
    const first = join(work, 'first');
    ok(await pip(['install', '--index-url', index, '--target', first, 'docker-probe']), 'pip install');
    assert.ok((await readdir(first)).includes('docker_probe-1.0.dist-info'));

    const startedAt = async () => ok(await run('docker', ['inspect', '-f', '{{.State.StartedAt}}', id]), 'inspect').stdout.trim();
    const before = await startedAt();
    ok(await compose(project, ['restart', '--timeout', '30'], env), 'docker-compose restart');
    assert.notEqual(await startedAt(), before, 'the container restarted');
    // Docker keeps the published port across a restart of the same container.
    await waitHealthy(url);
    const second = join(work, 'second');
    ok(await pip(['install', '--index-url', index, '--target', second, 'docker-probe']), 'pip install after the restart');
    assert.ok((await readdir(second)).includes('docker_probe-1.0.dist-info'));

    // Nothing in the container runs as root, and the data on the volume is the wharf user's.
    const top = ok(await run('docker', ['top', id, '-eo', 'uid,pid,args']), 'docker top').stdout.trim().split('\n').slice(1);
    assert.ok(top.length >= 1 && top.some((l) => /wharf serve/.test(l)), top.join('\n'));
    for (const line of top) assert.notEqual(line.trim().split(/\s+/)[0], '0', `runs as root: ${line}`);
    assert.equal(ok(await run('docker', ['exec', id, 'id', '-u']), 'id').stdout.trim(), '10001');
    assert.equal(ok(await run('docker', ['exec', id, 'stat', '-c', '%u', '/data/wharf.db']), 'stat').stdout.trim(), '10001');
  });

  it('serves the per-variant example config: a variant port takes uploads into its hosted member, the tarball port stores files', { timeout: 300_000 }, async () => {
    const config = join(ROOT, 'deploy/compose/pypi-variants/wharf.json');
    ok(await run('docker', ['run', '-d', '--name', variants, '-e', `WHARF_ADMIN_PASSWORD=${PASSWORD}`, '-e', 'WHARF_CONFIG=/etc/wharf/wharf.json',
      '-v', `${config}:/etc/wharf/wharf.json:ro`, '-p', '127.0.0.1::8080', '-p', '127.0.0.1::8126', '-p', '127.0.0.1::8034', IMAGE]), 'docker run');
    const main = `http://127.0.0.1:${await hostPort(variants, 8080)}`;
    await waitHealthy(main);
    const cu126 = `http://127.0.0.1:${await hostPort(variants, 8126)}`;
    const tarballs = `http://127.0.0.1:${await hostPort(variants, 8034)}`;
    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

    const listed = (await (await fetch(`${main}/-/api/v1/repositories`, { headers: { authorization: auth } })).json()) as { name: string; kind: string }[] | { repositories: { name: string; kind: string }[] };
    const repos = Array.isArray(listed) ? listed : listed.repositories;
    assert.deepEqual(repos.map((r) => r.name).sort(), ['cu126', 'cu126-community', 'cu126-local', 'cu129', 'cu129-community', 'cu129-local', 'cu130', 'cu130-community', 'cu130-local', 'pypi-org', 'tarballs']);

    // Extra listeners start just after the main one.
    await waitHealthy(cu126, 30_000);
    const wheel = join(work, wheelFilename({ name: 'variant-probe', version: '2.0' }));
    await writeFile(wheel, buildWheel({ name: 'variant-probe', version: '2.0' }));
    ok(await twineUpload(`${cu126}/`, 'admin', PASSWORD, [wheel]), 'twine upload to the variant port');
    const page = await fetch(`${main}/cu126-local/simple/variant-probe/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /variant_probe-2\.0-py3-none-any\.whl/);

    await waitHealthy(tarballs, 30_000);
    const put = await fetch(`${tarballs}/models/m.tar.gz`, { method: 'PUT', headers: { authorization: auth }, body: 'tarball bytes' });
    assert.ok(put.status === 201 || put.status === 200, `PUT: ${put.status}`);
    assert.equal(await (await fetch(`${main}/tarballs/models/m.tar.gz`)).text(), 'tarball bytes');
  });

  it('the image\'s HEALTHCHECK passes when the server speaks HTTPS only', { timeout: 300_000 }, async () => {
    const dir = join(work, 'tls');
    await mkdir(dir);
    ok(await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2']), 'openssl');
    // The container's user reads them (a test key; a real one stays 0600, owned by 10001).
    ok(await run('chmod', ['0644', join(dir, 'key.pem'), join(dir, 'cert.pem')]), 'chmod');
    ok(await run('docker', ['run', '-d', '--name', tls, '-e', 'WHARF_TLS_CERT=/etc/wharf/cert.pem', '-e', 'WHARF_TLS_KEY=/etc/wharf/key.pem',
      '-v', `${join(dir, 'cert.pem')}:/etc/wharf/cert.pem:ro`, '-v', `${join(dir, 'key.pem')}:/etc/wharf/key.pem:ro`, '-p', '127.0.0.1::8080', IMAGE]), 'docker run');
    const port = await hostPort(tls, 8080);
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      up = (await run('curl', ['-ksf', '--max-time', '2', `https://127.0.0.1:${port}/-/health`])).code === 0;
      if (!up) await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(up, `no HTTPS on ${port}: ${(await run('docker', ['logs', tls])).stderr}`);
    const check = JSON.parse(ok(await run('docker', ['inspect', '-f', '{{json .Config.Healthcheck.Test}}', IMAGE]), 'inspect').stdout) as string[];
    ok(await run('docker', ['exec', tls, ...check.slice(1)]), 'the HEALTHCHECK command against HTTPS');
  });

  it('runs under the systemd unit, sandbox and all: starts once, takes an upload, pip installs, backs up to its second state directory', { timeout: 600_000 }, async () => {
    // The command as `npm install -g` lays it out (/usr/local/bin/wharf, a node on PATH),
    // taken from the image just built, and the unit exactly as shipped.
    const ctx = join(work, 'systemd');
    await mkdir(ctx);
    await copyFile(join(ROOT, 'deploy/systemd/wharf.service'), join(ctx, 'wharf.service'));
    await writeFile(join(ctx, 'Dockerfile'), [
      `FROM ${IMAGE} AS wharf`,
      `FROM ${BASE_IMAGE}`,
      'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv >/dev/null && rm -rf /var/lib/apt/lists/*',
      'COPY --from=wharf /opt/wharf /usr/local/lib/node_modules/wharf',
      'RUN ln -s ../lib/node_modules/wharf/node_modules/node/bin/node /usr/local/bin/node && ln -s ../lib/node_modules/wharf/bin/wharf.js /usr/local/bin/wharf',
      'COPY wharf.service /etc/systemd/system/wharf.service',
      `RUN mkdir -p /etc/wharf && echo WHARF_ADMIN_PASSWORD=${PASSWORD} > /etc/wharf/wharf.env && systemctl enable wharf`,
      'CMD ["/sbin/init"]',
      '',
    ].join('\n'));
    const old = await imageId(SYSTEMD_IMAGE);
    ok(await run('docker', ['build', '-q', '--network', 'host', '-t', SYSTEMD_IMAGE, ctx], { timeoutMs: 600_000 }), 'docker build (systemd)');
    if (old && old !== (await imageId(SYSTEMD_IMAGE))) await run('docker', ['rmi', old]);
    ok(await run('docker', ['run', '-d', '--name', systemd, ...(await systemdRunOptions()), '-p', '127.0.0.1::8080', SYSTEMD_IMAGE]), 'docker run (systemd)');
    const url = `http://127.0.0.1:${await hostPort(systemd, 8080)}`;
    const journal = async () => (await run('docker', ['exec', systemd, 'journalctl', '-u', 'wharf', '--no-pager'])).stdout;
    await waitHealthy(url).catch(async (err: Error) => assert.fail(`${err.message}\n${await journal()}`));
    const show = async (prop: string) => ok(await run('docker', ['exec', systemd, 'systemctl', 'show', 'wharf', '-p', prop, '--value']), 'systemctl show').stdout.trim();
    assert.equal(await show('NRestarts'), '0', `the service failed and was restarted:\n${await journal()}`);

    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const wheel = join(work, wheelFilename({ name: 'unit-probe', version: '1.0' }));
    await writeFile(wheel, buildWheel({ name: 'unit-probe', version: '1.0' }));
    ok(await twineUpload(`${url}/pypi/`, 'admin', PASSWORD, [wheel]), 'twine upload');
    const target = join(work, 'unit');
    ok(await pip(['install', '--index-url', `${url}/pypi/simple/`, '--target', target, 'unit-probe']), 'pip install');
    assert.ok((await readdir(target)).includes('unit_probe-1.0.dist-info'));
    const backup = await fetch(`${url}/-/api/v1/backup`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ dir: '/var/lib/wharf-backups/first' }) });
    assert.equal(backup.status, 200, await backup.text());

    // A user made up for the service, owner of its state; nothing runs as root.
    const pid = await show('MainPID');
    const uid = ok(await run('docker', ['exec', systemd, 'stat', '-c', '%u', `/proc/${pid}`]), 'stat').stdout.trim();
    assert.notEqual(uid, '0');
    assert.equal(ok(await run('docker', ['exec', systemd, 'stat', '-c', '%u', '/var/lib/private/wharf/wharf.db', '/var/lib/private/wharf-backups/first/wharf.db']), 'stat').stdout.trim(), `${uid}\n${uid}`);
    assert.equal(await show('NRestarts'), '0', await journal());
    assert.doesNotMatch(await journal(), /"level":(50|60)|ERR_|at \S+ \(/, 'no error in the log');
  });
});
