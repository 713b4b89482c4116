// A change that commits while a build of its index scope runs, then a crash before that
// change's own publish: the index must list it after the restart (issue 8, defect 6: the
// first build cleared the scope's dirty mark although it had not seen the change, so the
// restart found nothing to republish and the .deb stayed missing from Packages).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FormatPlugin } from '../../src/core/format-plugin.ts';
import { aptFormat } from '../../src/formats/apt/plugin.ts';
import { formats } from '../../src/formats/index.ts';
import { buildServer, type WharfServer } from '../../src/server/app.ts';
import { DEFAULTS, type Config } from '../../src/server/config.ts';
import { aptEnv, buildDeb, control } from '../helpers/apt.ts';
import { ADMIN_PASSWORD, basic } from '../helpers/server.ts';

interface Hold {
  reached: Promise<void>;
  release(outcome: 'write' | 'crash'): void;
}

describe('a change committed during a build of its scope survives a crash', () => {
  let dir: string;
  let data: string;
  const servers: WharfServer[] = [];

  // The next suite build stops after building (from what the database held then) and
  // before writing, until released; 'crash' makes it fail, so nothing of it is written.
  let nextHold: (Hold & { arrive(): void; outcome: Promise<'write' | 'crash'> }) | null = null;
  const hold = (): Hold => {
    let arrive!: () => void;
    let release!: (o: 'write' | 'crash') => void;
    const reached = new Promise<void>((r) => (arrive = r));
    const outcome = new Promise<'write' | 'crash'>((r) => (release = r));
    nextHold = { reached, release, arrive, outcome };
    return nextHold;
  };
  const heldApt: FormatPlugin = {
    ...aptFormat,
    async buildScope(ctx, scope) {
      const docs = await aptFormat.buildScope(ctx, scope);
      const h = nextHold;
      if (h) {
        nextHold = null;
        h.arrive();
        if ((await h.outcome) === 'crash') throw new Error('simulated crash before this publish was written');
      }
      return docs;
    },
  };

  const start = async (plugins: FormatPlugin[]) => {
    const config: Config = { ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword: ADMIN_PASSWORD };
    const s = await buildServer(config, { formats: plugins, logger: false });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    servers.push(s);
    return { s, url: `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}` };
  };
  const auth = basic('admin', ADMIN_PASSWORD);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-publish-crash-'));
    data = path.join(dir, 'data');
  });
  after(async () => {
    for (const s of servers) await s.app.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('apt: the .deb is in the Packages apt-get fetches after the restart', async () => {
    const first = await start([...formats.filter((f) => f.format !== 'apt'), heldApt]);
    await first.s.wharf.createRepo({ name: 'deb', format: 'apt' });
    const repoId = first.s.wharf.requireRepo('deb').id;
    const debs = await Promise.all(['alpha', 'bravo', 'charlie'].map((n) => buildDeb(dir, n, control(n, '1.0'))));
    const upload = async (file: string) => {
      const res = await fetch(`${first.url}/deb/upload/stable/main/${path.basename(file)}`, { method: 'PUT', headers: { authorization: auth }, body: await readFile(file) });
      return { status: res.status, text: await res.text() };
    };
    assert.equal((await upload(debs[0])).status, 201);

    // bravo's publish builds the suite (with bravo) and is held before writing.
    const h1 = hold();
    const bravo = upload(debs[1]);
    await h1.reached;
    // charlie commits meanwhile; its own publish waits for bravo's.
    const charlie = upload(debs[2]);
    while ((await first.s.wharf.store.countFiles(repoId)) < 3) await new Promise((r) => setTimeout(r, 10));
    // bravo's build is written; then the process "dies" before charlie's build is.
    const h2 = hold();
    h1.release('write');
    assert.equal((await bravo).status, 201);
    await h2.reached;
    h2.release('crash');
    assert.equal((await charlie).status, 500, 'the simulated crash');
    await first.s.app.close();

    // The restart republishes what was left dirty before it answers.
    const second = await start(formats);
    const keyFile = path.join(dir, 'key.asc');
    await writeFile(keyFile, await (await fetch(`${second.url}/deb/key.asc`)).text());
    const env = await aptEnv(dir, { url: `${second.url}/deb`, suite: 'stable', component: 'main', keyFile });
    const update = await env.apt('apt-get', 'update');
    assert.equal(update.code, 0, update.stderr);
    const lists = path.join(env.dir, 'state/lists');
    const packagesFile = (await readdir(lists)).find((f) => f.endsWith('_Packages'));
    assert.ok(packagesFile, `apt-get fetched no Packages: ${await readdir(lists)}`);
    const names = [...(await readFile(path.join(lists, packagesFile), 'utf8')).matchAll(/^Package: (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names.sort(), ['alpha', 'bravo', 'charlie']);
    assert.deepEqual(await second.s.wharf.store.listDirty(), []);

  });
});
