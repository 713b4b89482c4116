// Wharf's pages against devpi-web's on the same packages, in the same run: the index page, a
// project page, a version page and search (a common and a rare word), asked as a browser asks
// (Accept: text/html), sequential requests over one keep-alive connection, rounds interleaved.
//   node bench/run.ts pages-vs-devpi [--packages 1000] [--requests 200] [--rounds 3] [--no-write]
// devpi-server and devpi-web run from their source in a venv on Debian's Python under
// bench/.work/devpi/ (fetched code is never committed); without it the script prints the
// commands that make it (or does them itself with --devpi-git and --packaging-legacy-git).
// Both servers get the same wheels through twine; the populated data directories are kept in
// bench/.work/pages-vs-devpi-<N>/ so reruns only measure.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { sequentialLatency } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { freePort, ROOT, startWharf, stop, type RunningServer } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, percentile, ratio } from './lib/stats.ts';

const run = promisify(execFile);
const PASSWORD = 'pages-vs-devpi-pw';
const REPO = 'dev';
const VERSIONS = ['1.0.0', '1.1.0'];
const WORDS = ['async', 'http', 'client', 'parser', 'toolkit', 'image', 'data', 'cloud', 'test', 'crypto', 'queue', 'graph', 'yaml', 'json', 'schema', 'vector', 'stream', 'cache', 'orm', 'web'];
const COMMON = 'http';
const RARE = 'quokka';
const word = (i: number, k: number) => WORDS[(i * 7 + k * 13) % WORDS.length];
const pkgName = (i: number) => `${word(i, 0)}-${word(i, 1)}-${i}`;
/** One project in 500 (and always the last one uploaded) has the rare word in its summary. */
const isRare = (i: number, n: number) => i % 500 === 499 || i === n - 1;
const summaryOf = (i: number, n: number) => `A ${word(i, 2)} ${word(i, 3)} library for ${word(i, 4)} work${isRare(i, n) ? ` by a ${RARE}` : ''}`;

const DEVPI = join(ROOT, 'bench/.work/devpi');
const VENV = join(DEVPI, 'venv');
const SRC = join(DEVPI, 'src');
const DEBIAN_PACKAGES = [
  'twine', 'python3-venv', 'python3-setuptools', 'python3-wheel', 'python3-packaging', 'python3-requests', 'python3-defusedxml',
  'python3-pyramid', 'python3-repoze.lru', 'python3-strictyaml', 'python3-ruamel.yaml', 'python3-argon2', 'python3-attr',
  'python3-httpx', 'python3-itsdangerous', 'python3-lazy', 'python3-platformdirs', 'python3-pluggy', 'python3-py',
  'python3-passlib', 'python3-waitress',
  // devpi-web
  'python3-whoosh', 'python3-pyramid-chameleon', 'python3-bs4', 'python3-readme-renderer', 'python3-cmarkgfm', 'python3-docutils', 'python3-pygments',
];

function setupCommands(devpiGit = '<devpi bare clone>', legacyGit = '<packaging_legacy bare clone>'): string[] {
  return [
    `apt-get install -y ${DEBIAN_PACKAGES.join(' ')}`,
    `mkdir -p ${SRC}/devpi ${SRC}/packaging_legacy`,
    // server/test_devpi_server/reqmock.py is a symlink into client/testing: the server's build copies it.
    `git --git-dir=${devpiGit} archive HEAD common server web client/testing | tar -x -C ${SRC}/devpi`,
    `git --git-dir=${legacyGit} archive HEAD | tar -x -C ${SRC}/packaging_legacy`,
    // Debian's setuptools (66) rejects PEP 639 license strings.
    `sed -i -e 's/^license = "\\(.*\\)"$/license = {text = "\\1"}/' -e '/^license-files = /d' ${SRC}/devpi/server/pyproject.toml ${SRC}/devpi/web/pyproject.toml`,
    `/usr/bin/python3 -m venv --system-site-packages ${VENV}`,
    `PIP_CONFIG_FILE=/dev/null ${VENV}/bin/pip --isolated --disable-pip-version-check install --no-deps --no-build-isolation --no-index ${SRC}/packaging_legacy ${SRC}/devpi/common ${SRC}/devpi/server ${SRC}/devpi/web`,
  ];
}

/** What is missing to run devpi-server with devpi-web, or nothing. */
async function missing(): Promise<string[]> {
  const out: string[] = [];
  try {
    await run('twine', ['--version']);
  } catch {
    out.push('twine');
  }
  if (!existsSync(join(VENV, 'bin/devpi-server'))) out.push(`${VENV}/bin/devpi-server`);
  else {
    try {
      await run(join(VENV, 'bin/python3'), ['-c', 'import devpi_server, devpi_web, whoosh, pyramid_chameleon, bs4, readme_renderer.markdown, cmarkgfm, pygments, docutils']);
    } catch (e) {
      out.push(`devpi-web's imports: ${String((e as { stderr?: string }).stderr ?? e).trim().split('\n').pop()}`);
    }
  }
  return out;
}

async function installDevpi(devpiGit: string, legacyGit: string): Promise<void> {
  await rm(DEVPI, { recursive: true, force: true });
  for (const cmd of setupCommands(devpiGit, legacyGit).slice(1)) {
    process.stderr.write(`$ ${cmd}\n`);
    await run('/bin/sh', ['-c', cmd], { maxBuffer: 64 * 1024 * 1024 });
  }
}

/** The wheels, in upload order: project by project, older version first. */
async function buildWheels(dir: string, n: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = pkgName(i);
    const summary = summaryOf(i, n);
    for (const version of VERSIONS) {
      const description = `# ${name} ${version}\n\n${summary}.\n\n## Features\n\n- fast **${word(i, 5)}** handling\n- small, with [docs](https://example.org/${name})\n\n\`\`\`python\nimport ${name.replace(/-/g, '_')}\n\`\`\`\n`;
      const o = { name, version, summary, description, requiresPython: '>=3.9', requiresDist: ['requests>=2'] };
      const file = join(dir, wheelFilename(o));
      if (!existsSync(file)) await writeFile(file, buildWheel(o));
      files.push(file);
    }
  }
  return files;
}

interface Devpi extends RunningServer {
  log: string;
}

async function startDevpi(serverdir: string, logFile: string): Promise<Devpi> {
  if (!existsSync(join(serverdir, '.nodeinfo'))) {
    await run(join(VENV, 'bin/devpi-init'), ['--serverdir', serverdir, '--root-passwd', PASSWORD, '--no-root-pypi']);
  }
  const port = await freePort();
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(join(VENV, 'bin/devpi-server'), ['--serverdir', serverdir, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000; // its first start (and a restart with a search index) takes a while
  for (;;) {
    if (child.exitCode !== null) throw new Error(`devpi-server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${url}/+api`, { headers: { accept: 'application/json' } });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`devpi-server did not answer within 180 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const stopDevpi = async () => {
    await stop(child);
    log.end();
  };
  return { url, port, pid: child.pid!, stop: stopDevpi, log: logFile };
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}`;

async function call(url: string, method: string, auth: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method, headers: { authorization: auth, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function twine(repoUrl: string, user: string, files: string[], label: string): Promise<void> {
  const chunk = 250;
  for (let i = 0; i < files.length; i += chunk) {
    await run('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', repoUrl, '-u', user, '-p', PASSWORD, ...files.slice(i, i + chunk)], { maxBuffer: 64 * 1024 * 1024 });
    process.stderr.write(`${label}: ${Math.min(i + chunk, files.length)}/${files.length} files uploaded\n`);
  }
}

async function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers: { accept: 'text/html', ...headers } });
  return { status: res.status, text: await res.text() };
}

/** The project names a devpi-web search page lists (its hits are `/root/dev/<name>` or `.../<version>` links). */
function devpiHits(html: string): string[] {
  return [...html.matchAll(/<dt class="packagename">\s*<a href="[^"]*\/root\/dev\/([^/"]+)(?:\/[^"]*)?"/g)].map((m) => m[1]);
}

/** Whoosh indexes after the upload's transaction, in a thread of its own: wait until the rare search shows every project it should, the last one uploaded at its newest version. */
async function waitForDevpiSearch(url: string, n: number): Promise<number> {
  const want = Array.from({ length: n }, (_, i) => i).filter((i) => isRare(i, n)).map(pkgName);
  const t0 = Date.now();
  for (;;) {
    const { status, text } = await getText(`${url}/+search?query=${RARE}`);
    const hits = new Set(devpiHits(text));
    if (status === 200 && want.every((w) => hits.has(w)) && text.includes(`${pkgName(n - 1)}-${VERSIONS.at(-1)}`)) return Date.now() - t0;
    if (Date.now() - t0 > 30 * 60_000) throw new Error(`devpi-web's search did not list ${want.join(', ')} within 30 minutes`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

interface Pair {
  what: string;
  devpi: string;
  wharf: string;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      packages: { type: 'string', default: '1000' },
      requests: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '3' },
      'no-write': { type: 'boolean', default: false },
      'devpi-git': { type: 'string' },
      'packaging-legacy-git': { type: 'string' },
    },
  });
  const n = Number(values.packages);
  const count = Number(values.requests);
  const rounds = Number(values.rounds);
  if (values['devpi-git'] && values['packaging-legacy-git'] && !existsSync(join(VENV, 'bin/devpi-server'))) {
    await installDevpi(values['devpi-git'], values['packaging-legacy-git']);
  }
  const lacking = await missing();
  if (lacking.length) {
    process.stderr.write(`pages-vs-devpi needs devpi-server and devpi-web from source; missing: ${lacking.join('; ')}\n`
      + 'Get the sources as bare clones (in these sessions: the fetch tool with github:devpi/devpi and github:di/packaging_legacy),\n'
      + 'then either rerun with --devpi-git <devpi>.git --packaging-legacy-git <packaging_legacy>.git or run:\n\n'
      + setupCommands().map((c) => `  ${c}`).join('\n') + '\n');
    process.exitCode = 1;
    return;
  }

  const work = join(ROOT, 'bench/.work', `pages-vs-devpi-${n}`);
  const marker = join(work, 'loaded.json');
  const fresh = !existsSync(marker);
  if (fresh) {
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
  }
  const t0 = Date.now();
  const files = await buildWheels(join(work, 'wheels'), n);
  if (fresh) process.stderr.write(`built ${files.length} wheels in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const devpi = await startDevpi(join(work, 'devpi'), join(work, 'devpi.log'));
  let wharf: RunningServer | undefined;
  try {
    wharf = await startWharf({ data: join(work, 'wharf'), adminPassword: PASSWORD });
    if (fresh) {
      await call(`${devpi.url}/root/dev`, 'PUT', basic('root'), { type: 'stage', bases: [], volatile: true });
      await call(`${wharf.url}/-/api/v1/repositories`, 'POST', basic('admin'), { name: REPO, format: 'pypi', kind: 'hosted', public: true });
      const t1 = Date.now();
      // Both at once: devpi takes far longer, and twine spends most of its time waiting on it.
      const [devpiMs, wharfMs] = await Promise.all([
        twine(`${devpi.url}/root/dev/`, 'root', files, 'devpi').then(() => Date.now() - t1),
        twine(`${wharf.url}/${REPO}/`, 'admin', files, 'wharf').then(() => Date.now() - t1),
      ]);
      const indexMs = await waitForDevpiSearch(devpi.url, n);
      await writeFile(marker, JSON.stringify({ packages: n, files: files.length, devpiUploadMs: devpiMs, wharfUploadMs: wharfMs, devpiSearchIndexWaitMs: indexMs }, null, 2));
    } else {
      await waitForDevpiSearch(devpi.url, n);
    }
    const loaded = JSON.parse(await readFile(marker, 'utf8')) as { devpiUploadMs: number; wharfUploadMs: number; devpiSearchIndexWaitMs: number };

    // A signed-in viewer (a read token) gets every page rendered; an anonymous one may get a cached copy.
    const token = ((await call(`${wharf.url}/-/api/v1/tokens`, 'POST', basic('admin'), { name: 'pages-vs-devpi', repos: [REPO], permission: 'read' })) as { token: string }).token;
    const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const signedIn = { ...html, authorization: `Bearer ${token}` };
    const mid = pkgName(Math.floor(n / 2));
    const pairs: Pair[] = [
      { what: 'index / repository page', devpi: '/root/dev', wharf: `/${REPO}/` },
      { what: 'project page', devpi: `/root/dev/${mid}`, wharf: `/-/package/${REPO}/${mid}` },
      { what: `version page (${VERSIONS[0]}, not the newest)`, devpi: `/root/dev/${mid}/${VERSIONS[0]}`, wharf: `/-/package/${REPO}/${mid}?version=${VERSIONS[0]}` },
      { what: `search, common word "${COMMON}"`, devpi: `/+search?query=${COMMON}`, wharf: `/-/search?q=${COMMON}` },
      { what: `search, rare word "${RARE}"`, devpi: `/+search?query=${RARE}`, wharf: `/-/search?q=${RARE}` },
    ];
    // Both must answer the page for real before anything is timed.
    for (const p of pairs) {
      const d = await getText(devpi.url + p.devpi);
      const w = await getText(wharf.url + p.wharf, signedIn);
      if (d.status !== 200 || w.status !== 200) throw new Error(`${p.what}: devpi HTTP ${d.status}, Wharf HTTP ${w.status}`);
      if (p.what.startsWith('search') && (!devpiHits(d.text).length || !w.text.includes('/-/package/'))) throw new Error(`${p.what}: no hits (devpi ${devpiHits(d.text).length})`);
      if (p.what.startsWith('project') || p.what.startsWith('version')) {
        if (!d.text.includes(mid) || !w.text.includes(mid)) throw new Error(`${p.what}: the page does not name ${mid}`);
      }
    }
    const lat = new Map<string, { devpi: number[]; wharf: number[]; anon: number[]; bytes: { devpi: number; wharf: number } }>();
    for (const p of pairs) lat.set(p.what, { devpi: [], wharf: [], anon: [], bytes: { devpi: 0, wharf: 0 } });
    const loadBefore = loadavg()[0];
    for (let r = 0; r < rounds; r++) {
      for (const p of pairs) {
        const l = lat.get(p.what)!;
        const d = async () => {
          const res = await sequentialLatency(devpi.url + p.devpi, count, html);
          l.devpi.push(...res.latenciesMs);
          l.bytes.devpi = res.bytes;
        };
        const w = async () => {
          const res = await sequentialLatency(wharf!.url + p.wharf, count, signedIn);
          l.wharf.push(...res.latenciesMs);
          l.bytes.wharf = res.bytes;
          l.anon.push(...(await sequentialLatency(wharf!.url + p.wharf, count, html)).latenciesMs);
        };
        if (r === 0) {
          await sequentialLatency(devpi.url + p.devpi, 10, html);
          await sequentialLatency(wharf.url + p.wharf, 10, signedIn);
        }
        if (r % 2 === 0) { await d(); await w(); } else { await w(); await d(); }
        process.stderr.write(`round ${r + 1} ${p.what}: devpi ${fmt(median(l.devpi), 2)} ms, Wharf ${fmt(median(l.wharf), 2)} ms (anonymous ${fmt(median(l.anon), 2)} ms)\n`);
      }
    }
    const loadAfter = loadavg()[0];
    const rows = pairs.map((p) => {
      const l = lat.get(p.what)!;
      return [
        p.what, `\`${p.devpi}\``, `\`${p.wharf}\``, `${fmt(l.bytes.devpi / 1024, 1)} / ${fmt(l.bytes.wharf / 1024, 1)}`,
        `${fmt(median(l.devpi), 2)} / ${fmt(percentile(l.devpi, 95), 2)}`,
        `${fmt(median(l.wharf), 2)} / ${fmt(percentile(l.wharf, 95), 2)}`,
        `${fmt(median(l.anon), 2)} / ${fmt(percentile(l.anon, 95), 2)}`,
        ratio(median(l.devpi), median(l.wharf)), ratio(median(l.devpi), median(l.anon)),
      ];
    });
    const versions = await run(join(VENV, 'bin/python3'), ['-c', 'import devpi_server, devpi_web, whoosh; print(devpi_server.__version__, devpi_web.__version__, ".".join(map(str, whoosh.__version__)))']);
    const [serverV, webV, whooshV] = versions.stdout.trim().split(' ');
    const body = [
      `${machineLine(machineInfo())} \`npm run bench -- pages-vs-devpi --packages ${n} --requests ${count} --rounds ${rounds}\`;`
        + ` devpi-server ${serverV} with devpi-web ${webV} (whoosh ${whooshV}) from source on Debian's Python ${(await run(join(VENV, 'bin/python3'), ['-c', 'import platform; print(platform.python_version())'])).stdout.trim()}, its defaults (waitress, 50 threads).`
        + ` Load average ${loadBefore.toFixed(1)} when measuring began, ${loadAfter.toFixed(1)} when it ended (the machine is shared).`,
      '',
      `The same ${fmt(n)} projects, two versions each (a wheel with a summary and a Markdown description), uploaded with twine`
        + ` into devpi's \`root/dev\` index and into a Wharf PyPI repository \`${REPO}\` (when the data was loaded, twine took ${fmt(loaded.devpiUploadMs / 1000)} s for devpi and`
        + ` ${fmt(loaded.wharfUploadMs / 1000)} s for Wharf, both at once; devpi's whoosh search index was complete ${fmt(loaded.devpiSearchIndexWaitMs / 1000)} s after the last upload).`
        + ` Each server runs as its own process; each figure is the median / p95 of ${rounds} × ${count} sequential requests over one keep-alive connection on 127.0.0.1`
        + ' with a browser\'s `Accept: text/html`, the rounds interleaved (the order alternates). devpi is asked anonymously (it renders every page);'
        + ' Wharf **signed in** (a read token) renders every page too, Wharf **anonymous** may answer from its response cache.',
      '',
      table(['page', 'devpi-web', 'Wharf', 'KiB devpi / Wharf', 'devpi ms median / p95', 'Wharf signed-in ms median / p95', 'Wharf anonymous ms median / p95', 'devpi ÷ Wharf signed-in', 'devpi ÷ Wharf anonymous'], rows),
      '',
      'What differs: devpi\'s index page lists every project of the index on one page, Wharf\'s lists 50 a page (sorted, with a count and the set-up snippets);'
        + ' devpi\'s project page lists the versions and files, its version page renders the description from the stored metadata on every request'
        + ' (readme_renderer: cmarkgfm and bleach), while Wharf\'s package page is the newest (or `?version=`) version with its files and the description'
        + ' rendered by its own Markdown renderer; devpi-web\'s search (whoosh, a query language over name, summary, description, keywords and classifiers)'
        + ' shows 10 hits a page grouped by project with highlighted excerpts, Wharf\'s (SQLite FTS5 over names and summaries, prefix matches) 20 projects a page.'
        + ' So the index page\'s ratio is mostly the size of devpi\'s page (every project of the index in one answer), not the same work done faster;'
        + ' the project, version and search pages are like for like. For an anonymous viewer of a public repository Wharf answers every one of these pages from its response cache after the first request; the signed-in column is the rendering cost.',
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Pages vs devpi-web', body);
  } finally {
    await wharf?.stop();
    await devpi.stop();
  }
}
