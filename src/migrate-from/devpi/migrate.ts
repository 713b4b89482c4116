// Applies a devpi migration plan to a running Wharf over its API, filling a MigrationReport.
// Everything already in place is left alone and counted as such, so a rerun changes nothing.
import { constants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { WharfApiError, type RepoInfo, type WharfClient } from '../../client/client.ts';
import { uploadBatches } from '../../cli/upload-files.ts';
import { isValidAlias } from '../../core/repo-aliases.ts';
import { MigrationReport } from '../report.ts';
import { DevpiExportError, missingFiles, parseDevpiExport, type DevpiExport } from './export.ts';
import { planMigration, type MigrationPlan, type PlannedFile, type PlannedRepo } from './plan.ts';

/** The name of the token `--mint-tokens` gives each migrated user. */
export const MINTED_TOKEN_NAME = 'devpi-migration';

export interface DevpiMigrationOptions {
  rename?: Map<string, string>;
  mintTokens?: boolean;
  /** Each index's repository also answers at devpi's `/<user>/<index>/` URLs. */
  devpiUrls?: boolean;
  /** Batch requests at once. */
  jobs?: number;
}

/** Reads and checks an export directory: its dataindex.json, and that every file it lists is there. */
export async function readDevpiExport(dir: string): Promise<DevpiExport> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DevpiExportError(`${dir} is not a directory`);
  const index = join(dir, 'dataindex.json');
  if (!existsSync(index)) throw new DevpiExportError(`${dir} is not a devpi export: it has no dataindex.json (write one with devpi-export --serverdir SERVERDIR ${dir})`);
  // JSON.parse needs it as one string: longer than V8's longest it cannot be read at all.
  const size = statSync(index).size;
  if (size > constants.MAX_STRING_LENGTH) throw new DevpiExportError(`${index} is too large to read here (${size} bytes; at most ${constants.MAX_STRING_LENGTH})`);
  const exp = parseDevpiExport(await readFile(index, 'utf8'));
  const missing = missingFiles(exp, (p) => existsSync(join(dir, p)));
  // A symbolic link out of the export would upload whatever it points at (a key, /etc/shadow).
  const root = realpathSync(dir);
  for (const p of exp.indexes.flatMap((i) => i.files.map((f) => f.relpath))) {
    if (!existsSync(join(dir, p))) continue;
    const real = realpathSync(join(dir, p));
    if (!real.startsWith(root + sep)) throw new DevpiExportError(`${p} is a symbolic link outside the export (to ${real}): refusing to read it`);
    // A directory fails its read; a named pipe would hang it for good.
    if (!statSync(real).isFile()) throw new DevpiExportError(`${p} is not a regular file: refusing to read it`);
  }
  if (missing.length) {
    throw new DevpiExportError(`the export is incomplete: ${missing.length} file${missing.length === 1 ? '' : 's'} listed in dataindex.json ${missing.length === 1 ? 'is' : 'are'} missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  }
  return exp;
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** How an existing repository differs from the planned one, or '' when it is the same. */
function difference(have: RepoInfo, want: PlannedRepo): string {
  if (have.format !== 'pypi' || have.kind !== want.kind) return `it is a ${have.format} ${have.kind} repository, not a pypi ${want.kind}`;
  for (const [k, v] of Object.entries(want.options)) {
    // Added to a repository of the migration's own below: a rerun may add --devpi-urls.
    if (k === 'aliases') continue;
    if (JSON.stringify(have.options[k] ?? (k === 'allowOverwrite' ? false : undefined)) !== JSON.stringify(v)) return `its ${k} is ${JSON.stringify(have.options[k])}, the export's ${JSON.stringify(v)}`;
  }
  return '';
}

/**
 * Why an existing repository that looks like `want` is not one an earlier run of this
 * migration made, or '' when it is: otherwise the index's files and grants (its owner's admin)
 * would land in someone else's repository that happens to have the same name. It is the
 * migration's when the index's owner already has admin on it (an earlier run's grant), or when
 * every file it holds is one of the index's (an empty one: a run stopped before its grants);
 * a group, when its members are.
 */
async function notOurs(client: WharfClient, dir: string, plan: MigrationPlan, want: PlannedRepo, unusable: Set<string>): Promise<string> {
  if (want.kind === 'proxy') return '';
  if (want.kind === 'group') {
    const bad = (want.options.members as string[]).filter((m) => unusable.has(m));
    return bad.length ? `its member ${bad.join(', ')} is not this migration's` : '';
  }
  const owner = want.index.split('/')[0];
  if (plan.grants.some((g) => g.user === owner && g.repo === want.name && g.permission === 'admin')) {
    const users = await client.listUsers();
    if (users.find((u) => u.name === owner)?.grants.some((g) => g.repo === want.name && g.permission === 'admin')) return '';
  }
  const mine = new Map<string, string>();
  for (const f of plan.files) if (f.repo === want.name) mine.set(f.filename, f.sha256 ?? (await sha256Of(join(dir, f.relpath))));
  // A wheel's .metadata (PEP 658) is Wharf's own, written beside it.
  const foreign = (await client.listFiles(want.name)).filter((f) => mine.get(f.filename) !== f.sha256 && !mine.has(f.filename.replace(/\.metadata$/, '')));
  return foreign.length ? `holds files the index does not (${foreign.slice(0, 3).map((f) => f.filename).join(', ')}${foreign.length > 3 ? ', …' : ''}), so an earlier run did not make it` : '';
}

export async function migrateFromDevpi(client: WharfClient, dir: string, opts: DevpiMigrationOptions = {}): Promise<{ report: MigrationReport; plan: MigrationPlan }> {
  const exp = await readDevpiExport(dir);
  const plan = planMigration(exp, opts.rename, opts.devpiUrls === true);
  const report = new MigrationReport();
  for (const s of plan.skipped) report.skip(s.kind, s.name, s.reason);

  // Repositories, bases before the groups that list them.
  const repos = new Map((await client.listRepos()).map((r) => [r.name, r]));
  // An alias the server would refuse (under an existing repository's name, or another's
  // alias) stops the migration here, not halfway through with half the repositories made.
  for (const want of plan.repos) {
    for (const a of (want.options.aliases as string[] | undefined) ?? []) {
      if (!isValidAlias(a)) throw new DevpiExportError(`--devpi-urls: index ${want.index}'s URL /${a}/ cannot be kept (an alias is user/index in letters, digits, ".", "_", "-", "+"): migrate without --devpi-urls`);
      const first = a.split('/')[0];
      const holder = [...repos.values()].find((r) => r.name !== want.name && Array.isArray(r.options.aliases) && (r.options.aliases as string[]).includes(a));
      if (repos.has(first) || plan.repos.some((r) => r.name === first)) throw new DevpiExportError(`--devpi-urls: index ${want.index}'s URL /${a}/ lies under repository ${first}'s, so it cannot be kept: migrate without --devpi-urls, or give Wharf's repository ${first} another name first`);
      if (holder) throw new DevpiExportError(`--devpi-urls: index ${want.index}'s URL /${a}/ is already repository ${holder.name}'s alias`);
    }
  }
  const unusable = new Set<string>();
  for (const want of plan.repos) {
    const have = repos.get(want.name);
    const label = `${want.name} (${want.index})`;
    if (have) {
      const diff = difference(have, want) || (await notOurs(client, dir, plan, want, unusable));
      if (diff) {
        unusable.add(want.name);
        report.skip('repository', label, `already exists and ${diff}: left as it is; migrate into another name with --rename ${want.index}=NAME`);
      } else {
        const had = Array.isArray(have.options.aliases) ? (have.options.aliases as string[]) : [];
        const add = ((want.options.aliases as string[] | undefined) ?? []).filter((a) => !had.includes(a));
        if (add.length) {
          await client.updateRepo(want.name, { options: { aliases: [...had, ...add] } });
          report.move('repository', label, `now also at /${add.join('/, /')}/`);
        } else report.same('repository', label);
      }
      continue;
    }
    await client.createRepo({ name: want.name, format: 'pypi', kind: want.kind, public: want.public, options: want.options });
    report.move('repository', label, want.kind === 'group' ? `group of ${(want.options.members as string[]).join(', ')}` : want.kind === 'proxy' ? `proxy of ${String(want.options.upstream)}` : undefined);
  }

  // Users, with no password: devpi's hashes cannot be verified here.
  const users = new Map((await client.listUsers()).map((u) => [u.name, u]));
  const created: string[] = [];
  for (const u of plan.users) {
    if (users.has(u.name)) {
      report.same('user', u.name);
      continue;
    }
    users.set(u.name, await client.createUser(u.name, undefined));
    created.push(u.name);
    report.move('user', u.name, opts.mintTokens ? 'no password: log in with the token printed below, or have one set' : 'no password yet: an administrator sets one (wharf user passwd NAME)');
  }

  for (const g of plan.grants) {
    const label = `${g.user} ${g.permission} ${g.repo}`;
    if (unusable.has(g.repo)) {
      report.skip('grant', label, `repository ${g.repo} was not migrated`);
      continue;
    }
    const had = users.get(g.user)?.grants.find((x) => x.repo === g.repo);
    if (had?.permission === g.permission) report.same('grant', label);
    else if (had) report.skip('grant', label, `${g.user} already has ${had.permission} on ${g.repo}: left as it is`);
    else {
      users.set(g.user, await client.grant(g.user, g.repo, g.permission));
      report.move('grant', label);
    }
  }

  if (opts.mintTokens) {
    const tokens = await client.listTokens(true);
    for (const u of plan.users) {
      if (tokens.some((t) => t.user === u.name && t.name === MINTED_TOKEN_NAME)) {
        report.same('token', `${MINTED_TOKEN_NAME} of ${u.name}`);
        continue;
      }
      // Only users without a password (this migration's): an existing Wharf user of the same
      // name, an administrator above all, logs in as before and gets no token printed here.
      const have = users.get(u.name);
      if (have && (have.admin || have.hasPassword !== false)) {
        report.skip('token', `${MINTED_TOKEN_NAME} of ${u.name}`, `${u.name} was already a Wharf user with a password${have.admin ? ' (an administrator)' : ''}: no token minted`);
        continue;
      }
      // Admin on every repository, capped by the user's own grants: what their devpi login could do.
      const t = await client.createToken({ name: MINTED_TOKEN_NAME, user: u.name, repos: ['*'], permission: 'admin' });
      report.move('token', `${MINTED_TOKEN_NAME} of ${u.name}`);
      report.notice(`token of ${u.name}: ${t.token}`);
    }
    if (report.notices.length) report.notices.unshift('Tokens minted for the migrated users, shown this once (pip/twine: user __token__, this as the password):');
  } else if (created.length) {
    report.notice(`These users have no password in Wharf (devpi's hashes cannot be verified here); set one for each (wharf user passwd NAME) or rerun with --mint-tokens: ${created.join(', ')}`);
  }

  // Release files: what is already there with the same content is left alone.
  const byRepo = new Map<string, PlannedFile[]>();
  for (const f of plan.files) {
    if (unusable.has(f.repo)) {
      report.skip('file', f.relpath, `repository ${f.repo} was not migrated`);
      continue;
    }
    byRepo.set(f.repo, [...(byRepo.get(f.repo) ?? []), f]);
  }
  for (const [repo, files] of byRepo) {
    const have = new Map((await client.listFiles(repo)).map((f) => [f.filename, f.sha256]));
    const send: PlannedFile[] = [];
    for (const f of files) {
      const actual = await sha256Of(join(dir, f.relpath));
      if (f.sha256 && actual !== f.sha256) {
        report.skip('file', f.relpath, `its sha256 is ${actual}, devpi recorded ${f.sha256}: the export is damaged`);
        continue;
      }
      const there = have.get(f.filename);
      if (there === actual) report.same('file', f.relpath);
      else if (there) report.skip('file', f.relpath, `${repo} already has a different ${f.filename} (sha256 ${there}): left as it is`);
      else send.push(f);
    }
    if (!send.length) continue;
    const paths = send.map((f) => join(dir, f.relpath));
    // devpi's upload time stays the file's upload time (PyPI's JSON API upload_time).
    const times = new Map(send.map((f, i) => [paths[i], f.uploadedAt]));
    const result = await uploadBatches(client, repo, paths, {}, opts.jobs ?? 2, (file) => {
      const at = times.get(file);
      return at ? { uploadedAt: at } : undefined;
    });
    const failed = new Map(result.failed.map((x) => [x.file, x.reason]));
    for (const [i, f] of send.entries()) {
      const reason = failed.get(paths[i]);
      if (reason) report.skip('file', f.relpath, reason);
      else report.move('file', f.relpath);
    }
  }
  return { report, plan };
}

export { DevpiExportError, WharfApiError };
