// `wharf upload|import|ls|rm|yank|project-status|download|status|gc|audit|backup`: package and server operations over HTTP.
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { WharfApiError, type AuditEntry, type WharfClient } from '../../client/client.ts';
import { clientFrom, formatBytes, out, run, table, type GlobalOptions } from '../context.ts';
import { ProgressBar } from '../progress.ts';
import { uploadBatches, uploadMany, walk } from '../upload-files.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

function fieldPairs(pairs: string[], extra: Record<string, string | undefined>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) fields[k] = v;
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--field takes key=value, not ${JSON.stringify(p)}`);
    fields[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return fields;
}

export function registerPackageCommands(program: Command, globals: () => GlobalOptions): void {
  program.command('upload <repo> <files...>')
    .description('upload files to a repository (any format)')
    .option('--suite <suite>', 'APT: the suite to add to')
    .option('--component <component>', 'APT: the component to add to')
    .option('--dir <dir>', 'files: the directory to upload into (default: the root)')
    .option('--field <key=value>', 'another format parameter (repeatable)', collect, [])
    .action((repo: string, files: string[], o: { suite?: string; component?: string; dir?: string; field: string[] }) => run(async () => {
      const client = clientFrom(globals());
      const fields = fieldPairs(o.field, { suite: o.suite, component: o.component, dir: o.dir });
      let failed = 0;
      // A pacman package's detached signature beside it goes up right after it.
      const listed = new Set(files);
      const withSigs: string[] = [];
      for (const f of files) {
        withSigs.push(f);
        if (/\.pkg\.tar(\.\w+)?$/.test(f) && !listed.has(`${f}.sig`) && (await stat(`${f}.sig`).then((s) => s.isFile(), () => false))) withSigs.push(`${f}.sig`);
      }
      for (const file of withSigs) {
        const bar = new ProgressBar(basename(file));
        try {
          const res = await client.upload(repo, file, { fields, onProgress: (s, t) => bar.update(s, t) });
          bar.done();
          out(`${res.status === 'created' ? 'uploaded' : 'already there'}: ${res.files.map((f) => f.path).join(', ')}`);
        } catch (err) {
          bar.done();
          if (!(err instanceof WharfApiError)) throw err;
          failed++;
          process.stderr.write(`wharf: ${basename(file)}: ${err.message} (${err.status})\n`);
        }
      }
      if (failed) process.exitCode = 1;
    }));

  program.command('import <repo> <dir>')
    .description('upload every file below a directory (e.g. a pypiserver packages folder); invalid files are reported, not fatal')
    // Many files per request (the batch API): each batch is one tar stream, recorded in a few
    // transactions and published once. Two at once keep the server parsing while one waits.
    .option('--jobs <n>', 'requests at once (default: 2 batches, or 8 single uploads)')
    .option('--single', 'one request per file (servers without the batch API)')
    .option('--field <key=value>', 'a format parameter for every file (repeatable)', collect, [])
    .action((repo: string, dir: string, o: { jobs?: string; single?: boolean; field: string[] }) => run(async () => {
      const files = await walk(dir);
      const started = Date.now();
      const send = o.single ? uploadMany : uploadBatches;
      const s = await send(clientFrom(globals()), repo, files, fieldPairs(o.field, {}), Math.max(1, Number(o.jobs) || (o.single ? 8 : 2)));
      for (const f of s.failed) process.stderr.write(`skipped ${f.file}: ${f.reason}\n`);
      out(`imported ${s.created} new, ${s.existing} already present, ${s.failed.length} refused, of ${files.length} files (${formatBytes(s.bytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }));

  program.command('ls <repo> [package]')
    .description('list the packages of a repository, or the versions and files of one package')
    .action((repo: string, pkg: string | undefined) => run(async () => {
      const client = clientFrom(globals());
      if (pkg) {
        const p = await client.getPackage(repo, pkg);
        if (globals().json) return out(JSON.stringify(p, null, 2));
        const rows = [['VERSION', 'FILE', 'SIZE', 'UPLOADED', 'NOTE']];
        for (const v of p.versions) {
          for (const f of v.files) {
            if (f.meta.kind === 'core-metadata') continue;
            rows.push([v.version, f.filename, formatBytes(f.size), f.createdAt.slice(0, 19), f.meta.yanked ? `yanked${f.meta.yankedReason ? `: ${f.meta.yankedReason}` : ''}` : '']);
          }
        }
        return out(table(rows));
      }
      const packages = await client.listPackages(repo);
      if (globals().json) return out(JSON.stringify(packages, null, 2));
      const described = packages.some((p) => p.description);
      out(table([['PACKAGE', 'VERSIONS', 'UPDATED', ...(described ? ['DESCRIPTION'] : [])],
        ...packages.map((p) => [p.displayName, p.versions.join(' '), p.updatedAt.slice(0, 19), ...(described ? [p.description ?? ''] : [])])]));
    }));

  program.command('rm <repo> [package] [version]')
    .description('delete a package, one version of it, or (with --path) one file')
    .option('--path <path>', 'a file path below the repository')
    .action((repo: string, pkg: string | undefined, version: string | undefined, o: { path?: string }) => run(async () => {
      const client = clientFrom(globals());
      if (o.path) {
        await client.deleteFile(repo, o.path);
        return out(`deleted ${o.path}`);
      }
      if (!pkg) throw new Error('name a package (and optionally a version), or give --path');
      if (version) await client.deleteVersion(repo, pkg, version);
      else await client.deletePackage(repo, pkg);
      out(`deleted ${pkg}${version ? ` ${version}` : ''} from ${repo}`);
    }));

  program.command('yank <repo> <package> <version>')
    .description('PyPI: yank a release (PEP 592), or with --undo unyank it')
    .option('--reason <text>', 'shown to installers')
    .option('--file <filename>', 'only this file of the release')
    .option('--undo', 'unyank')
    .action((repo: string, pkg: string, version: string, o: { reason?: string; file?: string; undo?: boolean }) => run(async () => {
      const client = clientFrom(globals());
      const res = o.undo
        ? await client.unyank(repo, pkg, version, { filename: o.file })
        : await client.yank(repo, pkg, version, { reason: o.reason, filename: o.file });
      out(`${o.undo ? 'unyanked' : 'yanked'}: ${(res as { files: string[] }).files.join(', ')}`);
    }));

  program.command('project-status <repo> <package> [status]')
    .description('PyPI: a hosted project\'s status (PEP 792): active, archived (no uploads), quarantined (no uploads, no files served) or deprecated; without a status, show it')
    .option('--reason <text>', 'shown to installers with the status')
    .action((repo: string, pkg: string, status: string | undefined, o: { reason?: string }) => run(async () => {
      const client = clientFrom(globals());
      const res = await client.projectStatus(repo, pkg, status, { reason: o.reason });
      out(`${res.package}: ${res.status}${res.reason ? ` (${res.reason})` : ''}`);
    }));

  program.command('download <repo> <path>')
    .description('download a file by its path below the repository (see `wharf ls`)')
    .option('-o, --output <file>', 'where to write it (default: its name, here)')
    .action((repo: string, path: string, o: { output?: string }) => run(async () => {
      const dest = o.output ?? basename(path);
      const bar = new ProgressBar(basename(path));
      const n = await clientFrom(globals()).download(repo, path, dest, (g, t) => bar.update(g, t));
      bar.done();
      out(`saved ${dest} (${formatBytes(n)})`);
    }));

  program.command('clean <repo>')
    .description('retention: delete old versions, keeping the newest N of each package (PyPI, APT, Arch) or of each directory (files)')
    .option('--keep <n>', 'versions to keep per package (keepVersions)', '1')
    .option('--keep-days <days>', 'also keep whatever is younger than this (PyPI, files)')
    .option('--except <item>', 'never prune: a project, project==version (PyPI), a path glob (files); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--package <name>', 'only this package')
    .option('--prefix <path>', 'only files below this path (files)')
    .option('--dry-run', 'only show what would be deleted')
    .action((repo: string, o: { keep: string; keepDays?: string; except: string[]; package?: string; prefix?: string; dryRun?: boolean }) => run(async () => {
      const keep = Number(o.keep);
      if (!Number.isInteger(keep) || keep < 1) throw new Error('--keep takes a whole number of 1 or more');
      const keepDays = o.keepDays === undefined ? undefined : Number(o.keepDays);
      if (keepDays !== undefined && !(keepDays >= 0)) throw new Error('--keep-days takes a number of days, 0 or more');
      const r = await clientFrom(globals()).clean(repo, {
        keep, dryRun: o.dryRun === true, package: o.package,
        ...(keepDays !== undefined ? { keepDays } : {}), ...(o.except.length ? { except: o.except } : {}), ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
      });
      if (globals().json) return out(JSON.stringify(r, null, 2));
      for (const x of r.removed) out(`${r.dryRun ? 'would delete' : 'deleted'} ${x.package} ${x.version} (${formatBytes(x.bytes)})`);
      out(`${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytes)} in ${r.removed.length} ${r.removed.length === 1 ? 'version' : 'versions'}; run \`wharf gc\` to reclaim blobs`);
    }));

  program.command('status').description('counts and sizes per repository').action(() => run(async () => {
    const s = await clientFrom(globals()).status();
    if (globals().json) return out(JSON.stringify(s, null, 2));
    out(table([['REPOSITORY', 'FORMAT', 'KIND', 'PACKAGES', 'VERSIONS', 'FILES', 'SIZE', 'LAST UPDATE'],
      ...s.repositories.map((r) => [r.name, r.format, r.kind, String(r.packages), String(r.versions), String(r.files), formatBytes(r.bytes), r.lastUpdate?.slice(0, 19) ?? '-'])]));
  }));

  program.command('gc').description('delete blobs no file references (administrators)')
    .option('--grace <seconds>', 'keep blobs committed less than this long ago (default: the server\'s gcGraceSeconds, 3600)')
    .option('--dry-run', 'only count what would be freed')
    .action((o: { grace?: string; dryRun?: boolean }) => run(async () => {
      const grace = o.grace === undefined ? undefined : Number(o.grace);
      if (grace !== undefined && !(grace >= 0)) throw new Error('--grace must be a number of seconds');
      const r = await clientFrom(globals()).gc(grace, { dryRun: o.dryRun === true });
      if (globals().json) return out(JSON.stringify(r));
      out(`${r.dryRun ? 'would free' : 'freed'} ${r.blobs} blobs, ${formatBytes(r.bytes)}${r.kept ? `; kept ${r.kept} younger than the grace period` : ''}`);
    }));

  program.command('audit')
    .description('the audit trail, newest first: who changed what, when, from where (administrators; a repository\'s admins with --repo)')
    .option('--repo <name>', 'only this repository\'s entries')
    .option('--since <time>', 'only entries since an ISO time, or for a duration before now: 7d, 12h, 30m')
    .option('--user <name>', 'only what this user did (or anonymous, cli, system)')
    .option('--action <action>', 'only this action (upload, delete-file, yank, repo-update, token-create…), or a prefix ending in * (repo-*)')
    .option('--limit <n>', 'at most this many entries (default 100)')
    .action((o: { repo?: string; since?: string; user?: string; action?: string; limit?: string }) => run(async () => {
      const limit = o.limit === undefined ? 100 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a whole number above 0');
      const client = clientFrom(globals());
      const entries: AuditEntry[] = [];
      let before: number | undefined;
      // Pages of at most 1000 (the server's cap) until the limit or the end of the trail.
      while (entries.length < limit) {
        const page = await client.audit({ repo: o.repo, since: o.since, user: o.user, action: o.action, limit: Math.min(1000, limit - entries.length), before });
        entries.push(...page.entries);
        if (page.next === null) break;
        before = page.next;
      }
      if (globals().json) return out(JSON.stringify(entries, null, 2));
      if (entries.length === 0) return out('no entries');
      out(table([['ID', 'TIME', 'WHO', 'ADDRESS', 'REPOSITORY', 'ACTION', 'WHAT'],
        ...entries.map((e) => [String(e.id), e.at.slice(0, 19), e.actor + (e.tokenName ? ` (token ${e.tokenName})` : ''), e.address ?? '-', e.repo ?? '-', e.action, auditWhat(e)])]));
    }));

  program.command('backup <dir>')
    .description('have the server copy its data, consistently and while serving, into DIR: a new or empty directory on the server\'s machine (administrators)')
    .option('--no-link', 'copy every blob, even where a hard link would do')
    .action((dir: string, o: { link: boolean }) => run(async () => {
      // The server resolves the path on its own machine; a relative one means nothing there.
      const target = isAbsolute(dir) ? dir : resolve(dir);
      const r = await clientFrom(globals()).backup(target, { link: o.link });
      if (globals().json) return out(JSON.stringify(r));
      out(`backed up ${r.files} files (${r.blobs} blobs, ${formatBytes(r.bytes)}; ${r.linked} hard-linked) to ${r.dir} in ${(r.durationMs / 1000).toFixed(1)} s`);
    }));
}

/** One line for what an audit entry changed: its target and the cheap details (old → new). */
function auditWhat(e: AuditEntry): string {
  const parts = e.target ? [e.target] : [];
  for (const [k, v] of Object.entries(e.detail)) {
    if (Array.isArray(v) && v.length === 2 && !Array.isArray(v[0]) && (typeof v[0] !== 'object' || v[0] === null) && (typeof v[1] !== 'object' || v[1] === null)) parts.push(`${k}: ${v[0] ?? '-'} → ${v[1] ?? '-'}`);
    else if (k === 'files' || k === 'deleted') continue;
    else if (typeof v !== 'object' || v === null) parts.push(`${k}: ${v}`);
  }
  return parts.join('; ');
}
