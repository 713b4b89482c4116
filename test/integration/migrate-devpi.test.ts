// `wharf migrate-from devpi` on an export real devpi-server wrote (issue 14, source 1): devpi
// runs from its public source (test/helpers/devpi.ts), twine uploads into it, pip downloads
// from it; after the migration pip gets the same files (same sha256) from Wharf, the users,
// groups, allowOverwrite and grants are there, a minted token uploads, and a second run
// changes nothing. The export's parser and plan are checked on the same export.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { parseDevpiExport, type DevpiExport } from '../../src/migrate-from/devpi/export.ts';
import { planMigration } from '../../src/migrate-from/devpi/plan.ts';
import { wharfCli } from '../helpers/child-server.ts';
import { pip, twineUpload } from '../helpers/clients.ts';
import { devpiMissing, makeDevpiExport, type DevpiScenario } from '../helpers/devpi.ts';
import { buildSdist, buildWheel, sdistFilename, wheelFilename, type WheelOptions } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const skip = await devpiMissing();

async function sha256s(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
  return out;
}

describe('wharf migrate-from devpi', { skip }, () => {
  let work: string;
  let scenario: DevpiScenario;
  let exp: DevpiExport;
  let server: TestServer;
  /** What pip downloaded from devpi's alice/staging (delta and, through the base, alpha-lib). */
  let fromDevpi: Record<string, string>;
  const admin = { WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD };
  const migrate = (...args: string[]) => wharfCli(['migrate-from', 'devpi', ...args], { WHARF_URL: server.url, ...admin });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-devpi-'));
    const dists = join(work, 'dists');
    await mkdir(dists);
    const wheel = async (o: WheelOptions) => {
      const f = join(dists, wheelFilename(o));
      await writeFile(f, buildWheel(o));
      return f;
    };
    const alpha = { name: 'alpha-lib', version: '1.0', summary: 'Alpha library' };
    const sdist = join(dists, sdistFilename(alpha));
    await writeFile(sdist, await buildSdist(alpha));
    const up = [
      { index: 'alice/dev', user: 'alice', files: [await wheel(alpha), sdist, await wheel({ ...alpha, version: '1.1' })] },
      // bob is in alice/dev's acl_upload
      { index: 'alice/dev', user: 'bob', files: [await wheel({ name: 'beta', version: '2.0', summary: 'Beta' })] },
      // delta needs alpha-lib, which alice/staging has only through its base alice/dev
      { index: 'alice/staging', user: 'alice', files: [await wheel({ name: 'delta', version: '1.0', summary: 'Delta', requiresDist: ['alpha-lib>=1.0'] })] },
      { index: 'bob/scratch', user: 'bob', files: [await wheel({ name: 'gamma', version: '0.1', summary: 'Gamma' })] },
    ];
    scenario = await makeDevpiExport(work, up, async (devpi) => {
      const d = join(work, 'from-devpi');
      const r = await pip(['download', '--dest', d, '--only-binary', ':all:', '--index-url', `${devpi.url}/alice/staging/+simple/`, 'delta']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      fromDevpi = await sha256s(d);
    });
    exp = parseDevpiExport(await readFile(join(scenario.exportDir, 'dataindex.json'), 'utf8'));
    server = await startServer();
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('parses what devpi-export wrote: users, index settings, release files with sha256, uploader and time', () => {
    assert.deepEqual(exp.users.map((u) => u.name).sort(), ['alice', 'bob', 'root']);
    assert.ok(exp.users.every((u) => u.hasPassword));
    const ix = Object.fromEntries(exp.indexes.map((i) => [i.name, i]));
    assert.deepEqual(Object.keys(ix).sort(), ['alice/dev', 'alice/staging', 'bob/scratch', 'root/pypi']);
    assert.deepEqual(ix['alice/staging'].bases, ['alice/dev', 'root/pypi']);
    assert.equal(ix['bob/scratch'].volatile, true);
    assert.equal(ix['alice/dev'].volatile, false);
    assert.deepEqual(ix['alice/dev'].aclUpload.sort(), ['alice', 'bob']);
    assert.equal(ix['root/pypi'].type, 'mirror');
    assert.equal(ix['root/pypi'].mirrorUrl, 'http://127.0.0.1:9/simple/');
    // Every base comes before the index built on it.
    const order = exp.indexes.map((i) => i.name);
    assert.ok(order.indexOf('alice/dev') < order.indexOf('alice/staging') && order.indexOf('root/pypi') < order.indexOf('alice/staging'));
    for (const [index, files] of Object.entries(scenario.files)) {
      const got = Object.fromEntries(ix[index].files.map((f) => [f.filename, f.sha256]));
      assert.deepEqual(got, files, index);
    }
    const beta = ix['alice/dev'].files.find((f) => f.project === 'beta')!;
    assert.equal(beta.version, '2.0');
    assert.equal(beta.uploadedBy, 'bob');
    assert.ok(Math.abs(Date.parse(beta.uploadedAt!) - Date.now()) < 3_600_000, beta.uploadedAt);
  });

  it('plans user-index names, a group for an index with bases, a proxy for the mirror, and grants from the ACLs', () => {
    const plan = planMigration(exp);
    assert.deepEqual(plan.repos.map((r) => [r.name, r.kind]).sort(), [
      ['alice-dev', 'hosted'], ['alice-staging', 'group'], ['alice-staging-local', 'hosted'], ['bob-scratch', 'hosted'], ['root-pypi', 'proxy'],
    ]);
    const group = plan.repos.find((r) => r.name === 'alice-staging')!;
    assert.deepEqual(group.options, { members: ['alice-staging-local', 'alice-dev', 'root-pypi'], uploadTo: 'alice-staging-local' });
    assert.deepEqual(plan.repos.find((r) => r.name === 'bob-scratch')!.options, { allowOverwrite: true });
    assert.deepEqual(plan.users.map((u) => u.name).sort(), ['alice', 'bob']);
    assert.ok(plan.grants.some((g) => g.user === 'bob' && g.repo === 'alice-dev' && g.permission === 'write'));
    assert.ok(!plan.grants.some((g) => g.user === 'bob' && g.repo.startsWith('alice-staging')));
    const renamed = planMigration(exp, new Map([['alice/dev', 'dev']]));
    assert.deepEqual(renamed.repos.find((r) => r.name === 'alice-staging')!.options.members, ['alice-staging-local', 'dev', 'root-pypi']);
    assert.throws(() => planMigration(exp, new Map([['alice/dev', 'bob-scratch']])), /both become repository bob-scratch/);
  });

  it('refuses, naming the cause, a folder that is not a devpi export, an unknown dump version and a missing file', async () => {
    const client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    const before = (await client.listRepos()).map((r) => r.name);
    const notDir = await migrate(join(work, 'nowhere'));
    assert.equal(notDir.code, 1);
    assert.match(notDir.out, /nowhere is not a directory/);
    const empty = join(work, 'empty');
    await mkdir(empty);
    const notExport = await migrate(empty);
    assert.equal(notExport.code, 1);
    assert.match(notExport.out, /is not a devpi export: it has no dataindex\.json/);
    const future = join(work, 'future');
    await cp(scenario.exportDir, future, { recursive: true });
    const data = JSON.parse(await readFile(join(future, 'dataindex.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(future, 'dataindex.json'), JSON.stringify({ ...data, dumpversion: '99' }));
    const unknown = await migrate(future);
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /unknown devpi dump version "99"/);
    const broken = join(work, 'broken');
    await cp(scenario.exportDir, broken, { recursive: true });
    const gone = exp.indexes.find((i) => i.name === 'bob/scratch')!.files[0].relpath;
    await rm(join(broken, gone));
    const missing = await migrate(broken);
    assert.equal(missing.code, 1);
    assert.ok(missing.out.includes(`missing: ${gone}`), missing.out);
    // Nothing was created by any of them.
    assert.deepEqual((await client.listRepos()).map((r) => r.name), before);
    assert.deepEqual((await client.listUsers()).map((u) => u.name), ['admin']);
  });

  it('migrates, pip gets the same files from Wharf, a minted token uploads, and a second run changes nothing', async () => {
    const first = await migrate(scenario.exportDir, '--mint-tokens', '--devpi-urls');
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /migrated from devpi export .*: 5 repositories, 2 users, \d+ grants, 2 tokens, 6 files/);
    assert.match(first.out, /not moved: .*1 user/); // root
    const tokens = Object.fromEntries([...first.out.matchAll(/^token of (\w+): (\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.keys(tokens).sort(), ['alice', 'bob']);

    const client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    const repos = Object.fromEntries((await client.listRepos()).map((r) => [r.name, r]));
    assert.equal(repos['bob-scratch'].options.allowOverwrite, true);
    assert.equal(repos['alice-dev'].options.allowOverwrite, false);
    assert.equal(repos['root-pypi'].kind, 'proxy');
    assert.equal(repos['root-pypi'].options.upstream, 'http://127.0.0.1:9/simple/');
    for (const [index, repo] of [['alice/dev', 'alice-dev'], ['alice/staging', 'alice-staging-local'], ['bob/scratch', 'bob-scratch']]) {
      // Wharf serves a wheel's METADATA beside it (PEP 658): not a migrated file.
      const files = Object.fromEntries((await client.listFiles(repo)).filter((f) => !f.filename.endsWith('.metadata')).map((f) => [f.filename, f.sha256]));
      assert.deepEqual(files, scenario.files[index], repo);
      // devpi's upload times are kept (to the second, as devpi logs them).
      const devpiTimes = Object.fromEntries(exp.indexes.find((i) => i.name === index)!.files.map((f) => [f.filename, f.uploadedAt]));
      const times = Object.fromEntries((await client.listFiles(repo)).filter((f) => !f.filename.endsWith('.metadata')).map((f) => [f.filename, f.createdAt]));
      assert.deepEqual(times, devpiTimes, repo);
    }

    // pip resolves delta and, through the group's base member, alpha-lib: the same files as from devpi.
    const d = join(work, 'from-wharf');
    const r = await pip(['download', '--dest', d, '--only-binary', ':all:', '--index-url', `${server.url}/alice-staging/simple/`, 'delta']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await sha256s(d), fromDevpi);
    assert.deepEqual(Object.keys(fromDevpi).sort(), ['alpha_lib-1.1-py3-none-any.whl', 'delta-1.0-py3-none-any.whl']);
    const target = join(work, 'installed');
    const inst = await pip(['install', '--target', target, '--index-url', `${server.url}/bob-scratch/simple/`, 'gamma']);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.ok((await readdir(target)).includes('gamma'));

    // The minted tokens carry devpi's ACLs: bob may upload to alice/dev, not to alice/staging.
    const extra = join(work, 'extra');
    await mkdir(extra);
    const epsilon = join(extra, wheelFilename({ name: 'epsilon', version: '1.0' }));
    await writeFile(epsilon, buildWheel({ name: 'epsilon', version: '1.0' }));
    const ok = await twineUpload(`${server.url}/alice-dev/`, '__token__', tokens.bob, [epsilon]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const refused = await twineUpload(`${server.url}/alice-staging/`, '__token__', tokens.bob, [epsilon]);
    assert.notEqual(refused.code, 0);
    const viaGroup = await twineUpload(`${server.url}/alice-staging/`, '__token__', tokens.alice, [epsilon]);
    assert.equal(viaGroup.code, 0, viaGroup.stdout + viaGroup.stderr);
    assert.ok((await client.listFiles('alice-staging-local')).some((f) => f.filename === 'epsilon-1.0-py3-none-any.whl'));

    // devpi's URLs (--devpi-urls): pip.conf's index-url and .pypirc's repository keep working.
    const viaDevpiUrl = join(work, 'from-wharf-devpi-url');
    const dr = await pip(['download', '--dest', viaDevpiUrl, '--only-binary', ':all:', '--index-url', `${server.url}/alice/staging/+simple/`, 'delta']);
    assert.equal(dr.code, 0, dr.stdout + dr.stderr);
    assert.deepEqual(await sha256s(viaDevpiUrl), fromDevpi);
    const zeta = join(extra, wheelFilename({ name: 'zeta', version: '1.0' }));
    await writeFile(zeta, buildWheel({ name: 'zeta', version: '1.0' }));
    const devpiUpload = await twineUpload(`${server.url}/alice/staging/`, '__token__', tokens.alice, [zeta]);
    assert.equal(devpiUpload.code, 0, devpiUpload.stdout + devpiUpload.stderr);
    assert.ok((await client.listFiles('alice-staging-local')).some((f) => f.filename === 'zeta-1.0-py3-none-any.whl'));

    const second = await migrate(scenario.exportDir, '--mint-tokens', '--devpi-urls');
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /migrated from devpi export .*: nothing\n/);
    assert.match(second.out, /already in place: 5 repositories, 2 users, \d+ grants, 2 tokens, 6 files/);
    assert.match(second.out, /nothing changed/);
    assert.doesNotMatch(second.out, /token of/);
    const json = await wharfCli(['--json', 'migrate-from', 'devpi', scenario.exportDir, '--devpi-urls'], { WHARF_URL: server.url, ...admin });
    assert.equal(json.code, 0, json.out);
    assert.deepEqual((JSON.parse(json.out) as { moved: unknown[] }).moved, []);
  });
});
