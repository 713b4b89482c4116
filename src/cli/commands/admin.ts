// `wharf repo …`, `wharf user …`, `wharf token …`: administration over the management API.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { clientFrom, formatBytes, out, run, table, type GlobalOptions } from '../context.ts';

function parseOptionPairs(pairs: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--option takes key=value, not ${JSON.stringify(pair)}`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw; // a bare string
    }
    options[pair.slice(0, eq)] = value;
  }
  return options;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function readPassword(opts: { password?: string; passwordStdin?: boolean }): string | undefined {
  if (opts.passwordStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  return opts.password;
}

export function registerAdminCommands(program: Command, globals: () => GlobalOptions): void {
  const repo = program.command('repo').description('manage repositories');
  repo.command('create <name>')
    .description('create a repository')
    .requiredOption('--format <format>', 'pypi, apt, arch or files')
    .option('--kind <kind>', 'hosted, proxy or group', 'hosted')
    .option('--public', 'anyone may read (default)')
    .option('--private', 'only users with a grant may read')
    .option('--option <key=value>', 'a format option (repeatable), e.g. allowOverwrite=true', collect, [])
    .action((name: string, o: { format: string; kind: string; public?: boolean; private?: boolean; option: string[] }) => run(async () => {
      const r = await clientFrom(globals()).createRepo({ name, format: o.format, kind: o.kind, public: !o.private, options: parseOptionPairs(o.option) });
      out(`created ${r.kind} ${r.format} repository ${r.name} (${r.public ? 'public' : 'private'}) at ${r.url}`);
    }));
  repo.command('list').description('list repositories').action(() => run(async () => {
    const repos = await clientFrom(globals()).listRepos();
    if (globals().json) return out(JSON.stringify(repos, null, 2));
    out(table([['NAME', 'FORMAT', 'KIND', 'ACCESS', 'PACKAGES', 'FILES', 'SIZE'],
      ...repos.map((r) => [r.name, r.format, r.kind, r.public ? 'public' : 'private', String(r.stats.packages), String(r.stats.files), formatBytes(r.stats.bytes)])]));
  }));
  repo.command('show <name>').description('show a repository').action((name: string) => run(async () => {
    out(JSON.stringify(await clientFrom(globals()).getRepo(name), null, 2));
  }));
  repo.command('set <name>')
    .description('change access or options of a repository')
    .option('--public', 'anyone may read').option('--private', 'only users with a grant may read')
    .option('--option <key=value>', 'a format option (repeatable)', collect, [])
    .action((name: string, o: { public?: boolean; private?: boolean; option: string[] }) => run(async () => {
      const patch: { public?: boolean; options?: Record<string, unknown> } = {};
      if (o.public) patch.public = true;
      if (o.private) patch.public = false;
      if (o.option.length) patch.options = parseOptionPairs(o.option);
      const r = await clientFrom(globals()).updateRepo(name, patch);
      out(`${r.name}: ${r.public ? 'public' : 'private'}, options ${JSON.stringify(r.options)}`);
    }));
  repo.command('delete <name>')
    .description('delete a repository and everything in it')
    .option('--yes', 'required: confirms that the repository and everything in it go')
    .action((name: string, o: { yes?: boolean }) => run(async () => {
      if (!o.yes) throw new Error(`this deletes ${name} and all its packages; run again with --yes`);
      await clientFrom(globals()).deleteRepo(name);
      out(`deleted ${name}`);
    }));

  const user = program.command('user').description('manage users and their grants');
  user.command('add <name>')
    .description('create a user (password from --password, --password-stdin)')
    .option('--password <password>', 'the password (visible in the process list: prefer --password-stdin)').option('--password-stdin', 'read the password from standard input')
    .option('--admin', 'make the user an administrator')
    .action((name: string, o: { password?: string; passwordStdin?: boolean; admin?: boolean }) => run(async () => {
      const password = readPassword(o);
      if (!password) throw new Error('give --password or --password-stdin');
      const u = await clientFrom(globals()).createUser(name, password, o.admin ?? false);
      out(`created user ${u.name}${u.admin ? ' (admin)' : ''}`);
    }));
  user.command('list').description('list users').action(() => run(async () => {
    const users = await clientFrom(globals()).listUsers();
    if (globals().json) return out(JSON.stringify(users, null, 2));
    out(table([['NAME', 'ADMIN', 'GRANTS'], ...users.map((u) => [u.name, u.admin ? 'yes' : '', u.grants.map((g) => `${g.repo}:${g.permission}`).join(' ')])]));
  }));
  user.command('passwd <name>')
    .description('set a password (yours, or anyone\'s as administrator; needs WHARF_USER and WHARF_PASSWORD)')
    .option('--password <password>', 'the new password (visible in the process list: prefer --password-stdin)').option('--password-stdin', 'read the new password from standard input')
    .action((name: string, o: { password?: string; passwordStdin?: boolean }) => run(async () => {
      const password = readPassword(o);
      if (!password) throw new Error('give --password or --password-stdin');
      await clientFrom(globals()).updateUser(name, { password });
      out(`password of ${name} changed`);
    }));
  user.command('delete <name>').description('delete a user and their tokens').action((name: string) => run(async () => {
    await clientFrom(globals()).deleteUser(name);
    out(`deleted ${name}`);
  }));
  user.command('grant <name> <repo-pattern> <permission>')
    .description('grant read, write or admin on repositories matching a pattern (`none` revokes)')
    .action((name: string, pattern: string, permission: string) => run(async () => {
      const perm = permission === 'none' ? null : (permission as 'read' | 'write' | 'admin');
      const u = await clientFrom(globals()).grant(name, pattern, perm);
      out(`${u.name}: ${u.grants.map((g) => `${g.repo}:${g.permission}`).join(' ') || 'no grants'}`);
    }));

  const token = program.command('token').description('manage API tokens');
  token.command('create')
    .description('create a token; it is printed once (needs WHARF_USER and WHARF_PASSWORD, not a token)')
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--repo <pattern>', 'repositories it may touch (repeatable; default all)', collect, [])
    .option('--permission <permission>', 'read, write or admin', 'write')
    .option('--expires-in-days <days>', 'expires after this many days (default: never)')
    .option('--user <name>', 'create it for another user (administrators)')
    .action((o: { name: string; repo: string[]; permission: 'read' | 'write' | 'admin'; expiresInDays?: string; user?: string }) => run(async () => {
      const t = await clientFrom(globals()).createToken({
        name: o.name, repos: o.repo.length ? o.repo : undefined, permission: o.permission,
        expiresInDays: o.expiresInDays === undefined ? undefined : Number(o.expiresInDays), user: o.user,
      });
      if (globals().json) return out(JSON.stringify(t, null, 2));
      out(t.token);
      process.stderr.write(`token ${t.id} (${t.permission} on ${t.repos.join(', ')}${t.expiresAt ? `, expires ${t.expiresAt}` : ''}); it is not shown again\n`);
    }));
  token.command('list').description('list tokens').option('--all', 'everyone\'s (administrators)').action((o: { all?: boolean }) => run(async () => {
    const tokens = await clientFrom(globals()).listTokens(o.all ?? false);
    if (globals().json) return out(JSON.stringify(tokens, null, 2));
    out(table([['ID', 'NAME', 'USER', 'PERMISSION', 'REPOS', 'EXPIRES', 'LAST USED'],
      ...tokens.map((t) => [t.id, t.name, t.user ?? '', t.permission, t.repos.join(','), t.expiresAt ?? 'never', t.lastUsedAt ?? 'never'])]));
  }));
  token.command('revoke <id>').description('revoke a token').action((id: string) => run(async () => {
    await clientFrom(globals()).revokeToken(id);
    out(`revoked ${id}`);
  }));
}
