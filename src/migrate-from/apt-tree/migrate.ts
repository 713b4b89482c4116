// Moving a read APT tree into a Wharf APT repository: the repository with the same suites
// (codenames, Release fields, components, architectures), then every .deb that matches its
// Packages SHA256 into each suite/component that lists it, through the batch API. A .deb whose
// bytes differ from the index, or that is missing, is reported and not moved.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WharfApiError, type WharfClient } from '../../client/client.ts';
import { ProgressBar } from '../../cli/progress.ts';
import { uploadBatches } from '../../cli/upload-files.ts';
import type { MigrationReport } from '../report.ts';
import type { AptDeb, AptSuite, AptTree } from './read.ts';

export interface AptMigrationOptions {
  repo: string;
  /** Batch requests at once. */
  jobs: number;
}

/** `suites` as Wharf's APT options spell them (src/formats/apt/options.ts). */
export function suiteOptions(suites: AptSuite[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of suites) {
    const o: Record<string, unknown> = {};
    if (s.codename) o.codename = s.codename;
    if (s.origin) o.origin = s.origin;
    if (s.label) o.label = s.label;
    if (s.description) o.description = s.description;
    if (s.components.length) o.components = s.components;
    if (s.architectures.length) o.architectures = s.architectures;
    out[s.name] = o;
  }
  return out;
}

async function sha256Of(path: string): Promise<string | null> {
  const h = createHash('sha256');
  try {
    await pipeline(createReadStream(path), h);
  } catch {
    return null;
  }
  return h.digest('hex');
}

/** Create the repository, or bring its suite settings up to the source's; report which. */
async function ensureRepository(client: WharfClient, name: string, suites: AptSuite[], report: MigrationReport): Promise<void> {
  const wanted = suiteOptions(suites);
  let existing: Awaited<ReturnType<WharfClient['getRepo']>> | null = null;
  try {
    existing = await client.getRepo(name);
  } catch (err) {
    if (!(err instanceof WharfApiError) || err.status !== 404) throw err;
  }
  if (!existing) {
    await client.createRepo({ name, format: 'apt', options: { suites: wanted } });
    report.move('repository', name, `suites ${suites.map((s) => s.name).join(', ')}`);
    return;
  }
  if (existing.format !== 'apt') throw new Error(`repository ${name} exists and is not an APT repository (${existing.format}): choose another with --repo`);
  const have = (existing.options?.suites ?? {}) as Record<string, unknown>;
  const merged = { ...have, ...wanted };
  if (JSON.stringify(sortKeys(merged)) === JSON.stringify(sortKeys(have))) report.same('repository', name);
  else {
    await client.updateRepo(name, { options: { suites: merged } });
    report.move('repository', name, 'suite settings updated');
  }
}

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
};

export async function migrateAptTree(client: WharfClient, tree: AptTree, opts: AptMigrationOptions, report: MigrationReport): Promise<void> {
  for (const p of tree.problems) report.skip('file', p.what, p.reason);
  if (tree.suites.length === 0) throw new Error(`${tree.root}: no suites found (${tree.from})`);
  await ensureRepository(client, opts.repo, tree.suites, report);
  // What is already in place (a rerun): a .deb is known by its bytes and component, and the
  // suites listing it. Such a .deb is not sent again; one in a new suite is.
  const placed = new Set<string>();
  for (const f of await client.listFiles(opts.repo, 'pool/')) {
    if (!Array.isArray(f.meta.suites)) continue;
    for (const suite of f.meta.suites as string[]) placed.add(`${f.sha256} ${String(f.meta.component)} ${suite}`);
  }

  // Each file is hashed once, however many suites list it.
  const verdict = new Map<string, string | null>();
  const groups = new Map<string, { suite: string; component: string; debs: AptDeb[] }>();
  const checking = new ProgressBar('.debs checked against their Packages SHA256', undefined, 'files');
  for (const [i, deb] of tree.debs.entries()) {
    checking.update(i + 1, tree.debs.length);
    const path = join(tree.root, deb.filename);
    const label = `${deb.suite}/${deb.component} ${deb.filename}`;
    // Already there with the bytes the index names (a rerun): nothing to read or send.
    if (deb.sha256 && placed.has(`${deb.sha256} ${deb.component} ${deb.suite}`)) {
      report.same('package', label);
      continue;
    }
    if (!verdict.has(path)) {
      const got = await sha256Of(path);
      verdict.set(path, got === null ? 'missing from the pool' : got !== deb.sha256 ? `SHA256 ${got} does not match the Packages file's ${deb.sha256 || '(none)'}` : null);
    }
    const problem = verdict.get(path);
    if (problem) {
      report.skip('package', label, problem);
      continue;
    }
    const key = `${deb.suite}\0${deb.component}`;
    const g = groups.get(key) ?? { suite: deb.suite, component: deb.component, debs: [] };
    g.debs.push(deb);
    groups.set(key, g);
  }

  checking.done();
  for (const g of groups.values()) {
    const byPath = new Map(g.debs.map((d) => [join(tree.root, d.filename), d]));
    await uploadBatches(client, opts.repo, [...byPath.keys()], { suite: g.suite, component: g.component }, opts.jobs, undefined, (file, status, reason) => {
      const label = `${g.suite}/${g.component} ${byPath.get(file)!.filename}`;
      // `exists` too: the .deb was stored before, but not in this suite (looked up above).
      if (status === 'failed') report.skip('package', label, reason ?? 'refused');
      else report.move('package', label);
    });
  }
}
