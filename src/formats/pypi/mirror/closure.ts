// The dependency closure of a mirror: not one solution as a resolver finds, but
// every file pip could need on any target. Each (project, specifier, extras,
// targets) is selected on its own and the selected files are unioned; each
// selected version's Requires-Dist, read from one file's core metadata, is
// followed for the targets that version has files for.
import type { CoreMetadata } from '../core-metadata.ts';
import { parseDistFilename } from '../filename.ts';
import { normalizeVersion } from '../version.ts';
import { environmentFor, evaluateMarker, type MarkerEnvironment } from './markers.ts';
import { formatRequirement, parseRequirement, type Requirement } from './requirement.ts';
import { fileUsable, selectFiles, type CandidateFile, type ProjectFiles } from './select.ts';
import { validateTarget, type Target } from './target.ts';

export interface ClosureOptions {
  targets: Target[];
  prereleases: boolean;
  latest?: number;
  sdists: boolean;
  withDeps: boolean;
  /** Keep yanked files even when not pinned. */
  yanked?: boolean;
  /** Source calls in flight at once; default 8. */
  concurrency?: number;
}

export interface ClosureSource {
  project(name: string): Promise<ProjectFiles | null>;
  /** The parsed METADATA of that file, or null when it cannot be had. */
  metadata(file: CandidateFile): Promise<CoreMetadata | null>;
}

export interface ClosureProgress {
  kind: 'project' | 'metadata';
  name: string;
  /** Source calls finished so far (projects and metadata together). */
  done: number;
  /** Work known but not finished yet. */
  queued: number;
}

export interface MissingRequirement {
  requirement: string;
  reason: string;
}

export interface Closure {
  /** Normalized project name → files to mirror, sorted by filename; keys sorted. */
  files: Map<string, CandidateFile[]>;
  missing: MissingRequirement[];
  /**
   * False when some version's core metadata could not be read, so its
   * dependencies are unknown: a caller should not prune on such a closure.
   */
  complete: boolean;
}

interface Work {
  req: Requirement;
  /** Indexes into options.targets for which this requirement applies. */
  targets: number[];
  /** Who asked for it, for messages. */
  via: string | null;
}

/** A simple pool: at most `limit` promises of `run` in flight. */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Prefer a wheel with served core metadata, then any wheel, then an sdist (PKG-INFO may be incomplete). */
function metadataCandidates(files: CandidateFile[]): CandidateFile[] {
  const rank = (f: CandidateFile) => {
    if (!f.filename.endsWith('.whl')) return 2;
    return f.coreMetadataUrl ? 0 : 1;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
}

export async function resolveClosure(
  roots: Requirement[],
  options: ClosureOptions,
  source: ClosureSource,
  onProgress?: (event: ClosureProgress) => void,
): Promise<Closure> {
  options.targets.forEach(validateTarget);
  const envs: MarkerEnvironment[] = options.targets.map(environmentFor);
  const run = limiter(Math.max(1, options.concurrency ?? 8));
  const files = new Map<string, Map<string, CandidateFile>>();
  const missing: MissingRequirement[] = [];
  const seen = new Set<string>();
  const projects = new Map<string, Promise<ProjectFiles | null>>();
  const metadata = new Map<string, Promise<CoreMetadata | null>>();
  let done = 0;
  let pending = 0;
  let complete = true;
  const progress = (kind: ClosureProgress['kind'], name: string) => {
    done++;
    onProgress?.({ kind, name, done, queued: pending });
  };

  const fetchProject = (name: string) => {
    let p = projects.get(name);
    if (!p) {
      pending++;
      p = run(() => source.project(name)).finally(() => { pending--; progress('project', name); });
      projects.set(name, p);
    }
    return p;
  };

  // One metadata read per (project, version): the first candidate file that yields one.
  const fetchMetadata = (name: string, version: string, candidates: CandidateFile[]) => {
    const key = `${name}==${normalizeVersion(version) ?? version}`;
    let p = metadata.get(key);
    if (!p) {
      pending++;
      p = (async () => {
        try {
          for (const file of metadataCandidates(candidates)) {
            const m = await run(() => source.metadata(file));
            if (m) return m;
          }
          return null;
        } finally {
          pending--;
          progress('metadata', key);
        }
      })();
      metadata.set(key, p);
    }
    return p;
  };

  const tasks: Promise<void>[] = [];
  const enqueue = (work: Work) => {
    const { req } = work;
    const label = formatRequirement(req);
    if (req.url !== undefined) {
      missing.push({ requirement: label, reason: 'direct URL reference: a mirror only fetches from its upstream index' });
      return;
    }
    const key = `${req.normalizedName}|${req.specifier}|${req.extras.join(',')}|${work.targets.join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    tasks.push(process(work, label));
  };

  const process = async (work: Work, label: string): Promise<void> => {
    const { req } = work;
    const describe = work.via ? `${label} (required by ${work.via})` : label;
    const project = await fetchProject(req.normalizedName);
    if (!project) {
      missing.push({ requirement: describe, reason: 'project not found upstream' });
      return;
    }
    const targets = work.targets.map((i) => options.targets[i]);
    const selected = selectFiles(project, {
      specifier: req.specifier,
      prereleases: options.prereleases,
      latest: options.latest,
      targets,
      sdists: options.sdists,
      yanked: options.yanked,
    });
    if (selected.length === 0) {
      const any = req.specifier === '' ? 'no version' : `no version matching ${req.specifier}`;
      missing.push({ requirement: describe, reason: `${any} has files for the targets${options.prereleases ? '' : ' (pre-releases excluded)'}` });
      return;
    }
    let mine = files.get(req.normalizedName);
    if (!mine) files.set(req.normalizedName, (mine = new Map()));
    for (const v of selected) for (const f of v.files) mine.set(f.filename, f);
    if (!options.withDeps) return;

    await Promise.all(selected.map(async (v) => {
      // Dependencies count only for the targets this version has files for.
      const versionTargets = work.targets.filter((i) => v.files.some((f) => {
        try {
          return fileUsable(f, parseDistFilename(f.filename, project.name), options.targets[i], options.sdists);
        } catch {
          return false;
        }
      }));
      const meta = await fetchMetadata(req.normalizedName, v.version, v.files);
      const pinned = `${project.name}==${v.version}`;
      if (!meta) {
        complete = false;
        missing.push({ requirement: pinned, reason: 'no core metadata could be read; its dependencies were not followed' });
        return;
      }
      for (const line of meta.requiresDist) {
        let dep: Requirement;
        try {
          dep = parseRequirement(line);
        } catch (err) {
          missing.push({ requirement: line, reason: `invalid Requires-Dist in ${pinned}: ${(err as Error).message}` });
          continue;
        }
        const depTargets = dep.marker === null
          ? versionTargets
          : versionTargets.filter((i) => evaluateMarker(dep.marker!, envs[i], req.extras));
        if (depTargets.length === 0) continue;
        enqueue({ req: { ...dep, marker: null }, targets: depTargets, via: pinned });
      }
    }));
  };

  const all = options.targets.map((_, i) => i);
  for (const root of roots) {
    const targets = root.marker === null ? all : all.filter((i) => evaluateMarker(root.marker!, envs[i], root.extras));
    if (targets.length === 0) continue; // its marker excludes every target: pip would skip it too
    enqueue({ req: root, targets, via: null });
  }
  // Tasks enqueue more tasks; wait until the list stops growing. A source that
  // throws (upstream down) fails the whole closure once everything has settled:
  // a partial closure must not be mistaken for the full one and used to prune.
  let failure: { error: unknown } | null = null;
  for (let i = 0; i < tasks.length; i++) {
    try {
      await tasks[i];
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;

  const sorted = new Map<string, CandidateFile[]>();
  for (const name of [...files.keys()].sort()) {
    sorted.set(name, [...files.get(name)!.values()].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0)));
  }
  missing.sort((a, b) => (a.requirement < b.requirement ? -1 : a.requirement > b.requirement ? 1 : 0) || (a.reason < b.reason ? -1 : 1));
  return { files: sorted, missing, complete };
}

/** Parse roots given as PEP 508 strings (the CLI's SPEC arguments). */
export function parseRoots(specs: readonly string[]): Requirement[] {
  return specs.map(parseRequirement);
}
