// `mirror sync` for PyPI proxy repositories: fetch ahead of time everything a list of
// requirements needs (the dependency closure, for the target Pythons and platforms), so
// that `pip install -r requirements.txt` works with the upstream gone; prune what no
// longer matches.
import { badRequest } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import { CacheUseStore } from '../../db/cache-use-store.ts';
import { withLocalFile } from '../../storage/local-copy.ts';
import { parseCoreMetadata, type CoreMetadata } from './core-metadata.ts';
import { readDistMetadata } from './dist-reader.ts';
import { parseDistFilename } from './filename.ts';
import { resolveClosure, parseRoots } from './mirror/closure.ts';
import { parseRequirementsFile } from './mirror/requirements-file.ts';
import type { CandidateFile, ProjectFiles } from './mirror/select.ts';
import type { Target } from './mirror/target.ts';
import { normalizeName } from './names.ts';
import { metadataPath } from './paths.ts';
import { proxiedFile, upstreamProjectPage } from './proxy.ts';
import { coolFiles, projectCooldown } from './cooldown.ts';

export interface MirrorSyncArgs {
  /** The text of a requirements file. */
  requirements?: string;
  /** Requirement specifiers (PEP 508), e.g. `requests>=2`. */
  specs?: string[];
  targets?: Target[];
  prereleases?: boolean;
  latest?: number;
  sdists?: boolean;
  withDeps?: boolean;
  prune?: boolean;
  dryRun?: boolean;
}

/** A proxy's `mirror` option: what the server syncs on its own, every `everyMinutes`. */
export interface MirrorSchedule extends MirrorSyncArgs {
  everyMinutes: number;
}

export function normalizeMirrorSchedule(v: unknown): MirrorSchedule {
  if (!v || typeof v !== 'object') throw badRequest('mirror must be an object: { requirements or specs, everyMinutes, targets… }');
  const m = v as Record<string, unknown>;
  if (typeof m.everyMinutes !== 'number' || !(m.everyMinutes >= 1)) throw badRequest('mirror.everyMinutes must be a number ≥ 1');
  const { everyMinutes, ...rest } = m;
  const args = parseArgs(rest);
  if (!args.requirements && !args.specs?.length) throw badRequest('mirror needs "requirements" (a requirements file\'s text) or "specs"');
  for (const k of Object.keys(rest)) if (!MIRROR_ARG_KEYS.has(k)) throw badRequest(`unknown mirror option ${JSON.stringify(k)}`);
  return { ...(rest as MirrorSyncArgs), everyMinutes: everyMinutes as number };
}

const MIRROR_ARG_KEYS = new Set(['requirements', 'specs', 'targets', 'prereleases', 'latest', 'sdists', 'withDeps', 'prune', 'dryRun']);

export const DEFAULT_TARGETS: Target[] = [{ python: '3.11', platform: 'linux_x86_64' }];

export interface MirrorSyncSummary {
  projects: number;
  files: number;
  bytes: number;
  downloaded: number;
  alreadyCached: number;
  pruned: string[];
  missing: { requirement: string; reason: string }[];
  ignored: { line: number; text: string; reason: string }[];
  complete: boolean;
  dryRun: boolean;
}

function parseArgs(raw: Record<string, unknown>): Required<Omit<MirrorSyncArgs, 'latest' | 'requirements' | 'specs'>> & MirrorSyncArgs {
  const bool = (k: string, d: boolean) => {
    if (raw[k] === undefined) return d;
    if (typeof raw[k] !== 'boolean') throw badRequest(`${k} must be true or false`);
    return raw[k] as boolean;
  };
  if (raw.requirements !== undefined && typeof raw.requirements !== 'string') throw badRequest('requirements must be the text of a requirements file');
  if (raw.specs !== undefined && (!Array.isArray(raw.specs) || !raw.specs.every((s) => typeof s === 'string'))) throw badRequest('specs must be a list of requirement strings');
  if (raw.latest !== undefined && (typeof raw.latest !== 'number' || !Number.isInteger(raw.latest) || raw.latest < 1)) throw badRequest('latest must be a whole number ≥ 1');
  const targets = raw.targets ?? DEFAULT_TARGETS;
  if (!Array.isArray(targets) || targets.length === 0) throw badRequest('targets must be a non-empty list of {python, platform}');
  return {
    requirements: raw.requirements as string | undefined,
    specs: raw.specs as string[] | undefined,
    targets: targets as Target[],
    prereleases: bool('prereleases', false),
    latest: raw.latest as number | undefined,
    sdists: bool('sdists', true),
    withDeps: bool('withDeps', true),
    prune: bool('prune', true),
    dryRun: bool('dryRun', false),
  };
}

async function settle(r: ContentResult, mark?: (row: FileRow) => Promise<void>): Promise<FileRow> {
  if (r.kind === 'stored') return r.file;
  r.stream.destroy(); // nobody reads this copy; the store takes it all regardless
  const row = await r.done;
  // This sync brought it in (a 'stored' answer is a file cached before, or another client's fetch).
  await mark?.(row);
  return row;
}

export async function mirrorSync(ctx: RepoContext, rawArgs: Record<string, unknown>, progress: (event: object) => void = () => {}): Promise<MirrorSyncSummary> {
  if (ctx.repo.kind !== 'proxy') throw badRequest(`mirror sync works on proxy repositories; ${ctx.repo.name} is ${ctx.repo.kind}`);
  const args = parseArgs(rawArgs);
  const file = args.requirements !== undefined ? parseRequirementsFile(args.requirements) : { requirements: [], ignored: [], nested: [], pre: false };
  const roots = [...file.requirements, ...parseRoots(args.specs ?? [])];
  if (roots.length === 0) throw badRequest('nothing to mirror: give a requirements file or requirement specifiers');
  const projectOf = new Map<string, string>();
  const uses = new CacheUseStore(ctx.store.sql);
  // Marked as each arrives, not at the end: an eviction (maxCacheBytes) meanwhile spares it.
  const fetched = (row: FileRow) => uses.markMirrored([row.id]);

  const readMetadata = async (row: FileRow, dist: ReturnType<typeof parseDistFilename> | null): Promise<CoreMetadata | null> => {
    if (!row.filename.endsWith('.metadata') && !dist) return null;
    return withLocalFile(ctx.blobs, row.sha256, async (path) => {
      if (row.filename.endsWith('.metadata')) {
        const { readFile } = await import('node:fs/promises');
        return parseCoreMetadata(await readFile(path));
      }
      return parseCoreMetadata(await readDistMetadata(path, dist!));
    });
  };

  const closure = await resolveClosure(roots, {
    targets: args.targets, prereleases: args.prereleases || file.pre, latest: args.latest, sdists: args.sdists, withDeps: args.withDeps,
  }, {
    async project(name: string): Promise<ProjectFiles | null> {
      const project = normalizeName(name);
      const { page } = await upstreamProjectPage(ctx, project);
      if (!page) return null;
      // Against what clients are served: a file the cooldown holds back is not mirrored yet.
      const { files } = coolFiles(page.files, projectCooldown(ctx.repo, [], project), (f) => f.uploadTime ?? f.firstSeen);
      return {
        name: project,
        files: files.map((f): CandidateFile => {
          projectOf.set(f.filename, project);
          return { filename: f.filename, url: f.url, sha256: f.sha256, requiresPython: f.requiresPython, yanked: f.yanked, coreMetadataUrl: f.coreMetadata ? `${f.url}.metadata` : null, size: f.size ?? undefined };
        }),
      };
    },
    async metadata(f: CandidateFile): Promise<CoreMetadata | null> {
      const project = projectOf.get(f.filename) ?? normalizeName(f.filename.split('-')[0]);
      let dist: ReturnType<typeof parseDistFilename> | null = null;
      try {
        dist = parseDistFilename(f.filename);
      } catch {
        return null;
      }
      // PEP 658 metadata is small, and pip wants it from the mirror too; else read the file itself.
      const name = f.coreMetadataUrl ? `${f.filename}.metadata` : f.filename;
      const row = await settle(await proxiedFile(ctx, project, name), fetched);
      return readMetadata(row, dist);
    },
  }, (e) => progress({ phase: 'resolve', ...e }));

  const wanted: { project: string; file: CandidateFile }[] = [];
  for (const [project, files] of closure.files) for (const f of files) wanted.push({ project, file: f });
  const summary: MirrorSyncSummary = {
    projects: closure.files.size, files: wanted.length, bytes: 0, downloaded: 0, alreadyCached: 0, pruned: [],
    missing: closure.missing, ignored: file.ignored, complete: closure.complete, dryRun: args.dryRun,
  };

  const keep = new Set<string>();
  for (const { project, file: f } of wanted) {
    keep.add(`packages/${project}/${f.filename}`);
    if (f.coreMetadataUrl) keep.add(metadataPath(`packages/${project}/${f.filename}`));
  }
  if (!args.dryRun) {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < wanted.length) {
        const { project, file: f } = wanted[next++];
        const names = [f.filename, ...(f.coreMetadataUrl ? [`${f.filename}.metadata`] : [])];
        for (const name of names) {
          const cached = await ctx.store.getFileByPath(ctx.repo.id, `packages/${project}/${name}`);
          const row = cached ?? (await settle(await proxiedFile(ctx, project, name), fetched));
          if (name === f.filename) {
            summary.bytes += row.size;
            if (cached) summary.alreadyCached++;
            else summary.downloaded++;
          }
        }
        progress({ phase: 'download', done: ++done, total: wanted.length, bytes: summary.bytes });
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, wanted.length) }, worker));
  }


  // Prune only after a complete resolution: an incomplete one would drop what is still needed.
  // Only what a mirror sync brought in: files cached by clients' pull-through use stay (they
  // are bounded by maxCacheBytes and evictUnusedAfter instead).
  if (args.prune && closure.complete) {
    const mirrored = await uses.mirroredIds(ctx.repo.id);
    for (const f of await ctx.store.listFilesByPrefix(ctx.repo.id, 'packages/')) {
      if (keep.has(f.path) || f.meta.kind === 'core-metadata' || !mirrored.has(f.id)) continue;
      summary.pruned.push(f.path);
      if (!args.dryRun) await ctx.services.deleteFile(ctx.repo, f.path);
    }
  }
  progress({ phase: 'done' });
  return summary;
}
