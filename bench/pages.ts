// Page and search latency for people's pages at two sizes (default 1,000 and 100,000
// packages in 10 PyPI repositories): the home page, a repository page (first page by name, a
// later page by last upload), a package page and search (HTML and JSON). The server runs in
// this process so each request's own time (Fastify's reply.elapsedTime, from its arrival to
// the last byte handed to the socket) is measured beside the time the client saw. Requests
// carry a token: a signed-in viewer's page is rendered every time, never taken from the
// response cache (anonymous viewers get cached copies; their figures are shown too). nginx
// serving the very same bytes of each page is the reference, in the same run.
//   node bench/run.ts pages [--sizes 1000,100000] [--requests N] [--no-write]
// The data set is written straight into the database by a generator (rows as PyPI uploads
// make them, no blob bytes: no page reads one) and kept in bench/.work/pages-<size>/.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateToken, hashToken } from '../src/core/auth/tokens.ts';
import { openDatabase } from '../src/db/database.ts';
import { Store } from '../src/db/store.ts';
import { buildServer } from '../src/server/app.ts';
import { DEFAULTS, type Config } from '../src/server/config.ts';
import { sequentialLatency } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { ROOT, startNginx } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, percentile, ratio } from './lib/stats.ts';

const REPOS = 10;
const ADMIN_PASSWORD = 'pages-bench-admin-pw';
const WORDS = ['async', 'http', 'client', 'parser', 'toolkit', 'image', 'data', 'cloud', 'test', 'crypto', 'queue', 'graph', 'yaml', 'json', 'schema', 'vector', 'stream', 'cache', 'orm', 'web'];
const word = (i: number, k: number) => WORDS[(i * 7 + k * 13) % WORDS.length];
const pkgName = (i: number) => `${word(i, 0)}-${word(i, 1)}-${i}`;

/** Rows as PyPI uploads leave them: two versions per package, a wheel and its metadata file each. */
async function generate(file: string, packages: number): Promise<void> {
  const db = await openDatabase(file);
  const store = new Store(db);
  const perRepo = Math.ceil(packages / REPOS);
  let n = 0;
  for (let r = 0; r < REPOS; r++) {
    const repo = await store.createRepo({ name: `repo-${r}`, format: 'pypi', kind: 'hosted', publicRead: r !== REPOS - 1, options: {} });
    await store.transaction(async () => {
      for (let i = 0; i < perRepo && n < packages; i++, n++) {
        const name = pkgName(n);
        const id = await store.upsertPackage(repo.id, name, name);
        const summary = `A ${word(n, 2)} ${word(n, 3)} library for ${word(n, 4)} work`;
        await store.setPackageSummary(id, summary);
        for (const version of ['1.0.0', '1.1.0']) {
          const v = await store.upsertVersion(id, version, {
            metadataVersion: '2.1', name, version, summary, requiresPython: '>=3.9', requiresDist: ['requests>=2'],
            description: `# ${name}\n\n${summary}.\n\n- fast\n- small\n\n\`\`\`python\nimport ${name.replace(/-/g, '_')}\n\`\`\`\n`,
            descriptionContentType: 'text/markdown',
          });
          const wheel = `${name.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
          const sha = (n * 4 + (version === '1.0.0' ? 0 : 2)).toString(16).padStart(64, '0');
          const metaSha = (n * 4 + (version === '1.0.0' ? 1 : 3)).toString(16).padStart(64, '0');
          await store.insertBlob(sha, 20_000);
          await store.insertBlob(metaSha, 800);
          await store.insertFile({
            repoId: repo.id, versionId: v, path: `packages/${name}/${wheel}`, filename: wheel, sha256: sha, size: 20_000, uploadedBy: 'admin',
            meta: { kind: 'dist', packagetype: 'bdist_wheel', pythonVersion: 'py3', requiresPython: '>=3.9', md5: null, coreMetadataSha256: metaSha, yanked: false, yankedReason: null },
          });
          await store.insertFile({
            repoId: repo.id, versionId: v, path: `packages/${name}/${wheel}.metadata`, filename: `${wheel}.metadata`, sha256: metaSha, size: 800, uploadedBy: 'admin',
            meta: { kind: 'core-metadata', of: wheel },
          });
        }
      }
    });
  }
  await db.close();
}

interface Target {
  what: string;
  path: string;
  accept: string;
}

function targets(packages: number): Target[] {
  const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const perRepo = Math.ceil(packages / REPOS);
  const mid = Math.floor(perRepo / 2);
  const laterPage = Math.max(1, Math.floor(perRepo / 50 / 2));
  return [
    { what: 'home', path: '/', accept: html },
    { what: 'repository, by name', path: '/repo-0/', accept: html },
    { what: `repository, by last upload, page ${laterPage}`, path: `/repo-0/?sort=updated&page=${laterPage}`, accept: html },
    { what: 'package', path: `/-/package/repo-0/${pkgName(mid)}`, accept: html },
    { what: 'search, one word', path: `/-/search?q=${word(3, 0)}`, accept: html },
    { what: 'search, two words', path: `/-/search?q=${word(5, 2)}+${word(5, 3)}`, accept: html },
    { what: 'search, JSON (as you type)', path: `/-/search?q=${word(9, 1).slice(0, 3)}`, accept: 'application/json' },
  ];
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { sizes: { type: 'string', default: '1000,100000' }, requests: { type: 'string', default: '300' }, 'no-write': { type: 'boolean', default: false } },
  });
  const sizes = values.sizes!.split(',').map(Number);
  const count = Number(values.requests);
  const machine = machineInfo();
  const rows: string[][] = [];
  const goal: string[] = [];
  for (const size of sizes) {
    const data = join(ROOT, 'bench/.work', `pages-${size}`);
    if (!existsSync(join(data, 'wharf.db'))) {
      await rm(data, { recursive: true, force: true });
      await mkdir(data, { recursive: true });
      const t0 = Date.now();
      await generate(join(data, 'wharf.db'), size);
      process.stderr.write(`generated ${size} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    const config: Config = { ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword: ADMIN_PASSWORD };
    const { app, wharf } = await buildServer(config, { logger: { level: 'warn' } });
    const serverMs = new Map<string, number[]>();
    app.addHook('onResponse', async (req, reply) => {
      const list = serverMs.get(req.url) ?? [];
      list.push(reply.elapsedTime);
      serverMs.set(req.url, list);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const admin = (await wharf.store.getUserByName('admin'))!;
    const { id, token } = generateToken();
    await wharf.store.createToken({ id, userId: admin.id, name: 'bench', secretHash: hashToken(token), repos: ['*'], permission: 'read', expiresAt: null });
    const signedIn = { authorization: `Bearer ${token}` };
    const staticRoot = join(data, 'static');
    await rm(staticRoot, { recursive: true, force: true });
    await mkdir(staticRoot, { recursive: true });
    const list = targets(size);
    for (const [i, t] of list.entries()) {
      const res = await fetch(url + t.path, { headers: { ...signedIn, accept: t.accept } });
      if (res.status !== 200) throw new Error(`${t.path}: HTTP ${res.status}`);
      await writeFile(join(staticRoot, `page-${i}.html`), Buffer.from(await res.arrayBuffer()));
    }
    const nginx = await startNginx(join(data, 'nginx'), staticRoot);
    try {
      for (const [i, t] of list.entries()) {
        serverMs.clear();
        await sequentialLatency(url + t.path, 20, { ...signedIn, accept: t.accept });
        serverMs.clear();
        const wharfRun = await sequentialLatency(url + t.path, count, { ...signedIn, accept: t.accept });
        const server = serverMs.get(t.path) ?? [];
        const anon = await sequentialLatency(url + t.path, count, { accept: t.accept });
        const ref = await sequentialLatency(`${nginx.url}/page-${i}.html`, count);
        const serverMedian = median(server);
        rows.push([
          fmt(size), t.what, fmt(wharfRun.bytes / 1024, 1),
          fmt(serverMedian, 2), fmt(percentile(server, 95), 2), fmt(median(wharfRun.latenciesMs), 2),
          fmt(median(anon.latenciesMs), 2), fmt(median(ref.latenciesMs), 2),
          ratio(median(wharfRun.latenciesMs), median(ref.latenciesMs)),
        ]);
        if (size >= 100_000 && !['search, JSON (as you type)'].includes(t.what)) goal.push(`${t.what}: ${fmt(serverMedian, 2)} ms ${serverMedian < 20 ? '< 20 ms ✓' : '≥ 20 ms ✗'}`);
        process.stderr.write(`${size} ${t.what}: server ${fmt(serverMedian, 2)} ms, client ${fmt(median(wharfRun.latenciesMs), 2)} ms, nginx ${fmt(median(ref.latenciesMs), 2)} ms\n`);
      }
    } finally {
      await nginx.stop();
      await app.close();
    }
  }
  const body = [
    `${machineLine(machine)} \`npm run bench -- pages --sizes ${sizes.join(',')} --requests ${count}\`.`,
    '',
    `${REPOS} PyPI repositories (one private), two versions per package, each with a wheel and its`
      + ' metadata file; rows generated into the database. Each figure is the median (and p95) of'
      + ` ${count} sequential requests over one keep-alive connection on 127.0.0.1, after 20 warm-up`
      + ' requests. **server** is Fastify\'s own time for a signed-in viewer (a token: the page is'
      + ' rendered every time); **client** is what that viewer waited; **anonymous** is a viewer'
      + ' without credentials (home and repository pages come from the response cache); **nginx** serves'
      + ' the same bytes from a file, the reference.',
    '',
    table(['packages', 'page', 'KiB', 'server median ms', 'server p95 ms', 'client median ms', 'anonymous median ms', 'nginx median ms', 'client ÷ nginx'], rows),
    '',
    goal.length ? `Goal (under 20 ms server-side median at 100,000 packages): ${goal.join('; ')}.` : '',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Pages', body);
}
