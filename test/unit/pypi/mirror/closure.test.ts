import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCoreMetadata, type CoreMetadata } from '../../../../src/formats/pypi/core-metadata.ts';
import { parseDistFilename } from '../../../../src/formats/pypi/filename.ts';
import { normalizeName } from '../../../../src/formats/pypi/names.ts';
import { resolveClosure, parseRoots, type ClosureOptions, type ClosureProgress, type ClosureSource } from '../../../../src/formats/pypi/mirror/closure.ts';
import type { CandidateFile, ProjectFiles } from '../../../../src/formats/pypi/mirror/select.ts';
import type { Target } from '../../../../src/formats/pypi/mirror/target.ts';
import { file, names } from './fixtures.ts';

const linux: Target = { python: '3.11', platform: 'linux_x86_64' };
const win: Target = { python: '3.11', platform: 'win_amd64' };

/** A fake index: project → version → { files, Requires-Dist }. */
type Graph = Record<string, Record<string, { files: string[]; requires?: string[] }>>;

const GRAPH: Graph = {
  App: {
    '1.0': {
      files: ['app-1.0-py3-none-any.whl', 'app-1.0.tar.gz'],
      requires: ['lib>=1.0', 'winonly ; sys_platform == "win32"', 'Fancy[extra2] ; extra == "fancy"', 'old ; python_version < "3"'],
    },
  },
  lib: {
    '1.0': { files: ['lib-1.0-py3-none-any.whl'], requires: ['core<2'] },
    '1.1': { files: ['lib-1.1-cp311-cp311-manylinux_2_17_x86_64.whl', 'lib-1.1-cp311-cp311-win_amd64.whl'], requires: ['core<2'] },
    '2.0': { files: ['lib-2.0-py3-none-any.whl'], requires: ['core>=2'] },
  },
  core: {
    '1.0': { files: ['core-1.0-py3-none-any.whl'] },
    '2.0': { files: ['core-2.0-py3-none-any.whl'], requires: ['app', 'ghost>=1'] },
    '3.0b1': { files: ['core-3.0b1-py3-none-any.whl'] },
  },
  winonly: { '1.0': { files: ['winonly-1.0-cp311-cp311-win_amd64.whl'], requires: ['pywin-dep'] } },
  'pywin-dep': { '1.0': { files: ['pywin_dep-1.0-py3-none-any.whl'] } },
  fancy: { '1.0': { files: ['fancy-1.0-py3-none-any.whl'], requires: ['plain', 'extra2dep ; extra == "extra2"', 'nope ; extra == "other"'] } },
  plain: { '1.0': { files: ['plain-1.0-py3-none-any.whl'] } },
  extra2dep: { '1.0': { files: ['extra2dep-1.0-py3-none-any.whl'] } },
  old: { '1.0': { files: ['old-1.0-py2-none-any.whl'] } },
  nope: { '1.0': { files: ['nope-1.0-py3-none-any.whl'] } },
};

function fakeSource(graph: Graph, over: Partial<ClosureSource> = {}) {
  const calls = { project: [] as string[], metadata: [] as string[] };
  const byName = new Map(Object.entries(graph).map(([name, versions]) => [normalizeName(name), { name, versions }]));
  const source: ClosureSource = {
    async project(name) {
      calls.project.push(name);
      await new Promise((r) => setTimeout(r, 1));
      const p = byName.get(name);
      if (!p) return null;
      const files: CandidateFile[] = Object.values(p.versions).flatMap((v) => v.files.map((f) => file(f)));
      return { name: p.name, files } satisfies ProjectFiles;
    },
    async metadata(f) {
      calls.metadata.push(f.filename);
      const dist = parseDistFilename(f.filename);
      const p = byName.get(dist.normalizedName)!;
      const v = p.versions[dist.version];
      const text = [`Metadata-Version: 2.1`, `Name: ${p.name}`, `Version: ${dist.version}`, ...(v.requires ?? []).map((r) => `Requires-Dist: ${r}`), ''].join('\n');
      return parseCoreMetadata(text) satisfies CoreMetadata;
    },
    ...over,
  };
  return { source, calls };
}

const options = (over: Partial<ClosureOptions> = {}): ClosureOptions => ({ targets: [linux], prereleases: false, sdists: false, withDeps: true, ...over });
const summary = (files: Map<string, CandidateFile[]>) => Object.fromEntries([...files].map(([k, v]) => [k, names(v)]));

test('three levels deep, cycle back to the root, missing project recorded, markers exclude deps for every target', async () => {
  const { source, calls } = fakeSource(GRAPH);
  const events: ClosureProgress[] = [];
  const result = await resolveClosure(parseRoots(['app']), options(), source, (e) => events.push(e));
  assert.deepEqual(summary(result.files), {
    app: ['app-1.0-py3-none-any.whl'],
    core: ['core-1.0-py3-none-any.whl', 'core-2.0-py3-none-any.whl'],
    lib: ['lib-1.0-py3-none-any.whl', 'lib-1.1-cp311-cp311-manylinux_2_17_x86_64.whl', 'lib-2.0-py3-none-any.whl'],
  });
  assert.deepEqual(result.missing, [{ requirement: 'ghost>=1 (required by core==2.0)', reason: 'project not found upstream' }]);
  assert.equal(result.complete, true);
  // One project read per name, one metadata read per version, the cycle followed once.
  assert.deepEqual([...calls.project].sort(), ['app', 'core', 'ghost', 'lib']);
  assert.equal(calls.metadata.length, 6);
  assert.equal(new Set(calls.metadata).size, 6);
  assert.ok(events.some((e) => e.kind === 'project' && e.name === 'lib'));
  assert.ok(events.some((e) => e.kind === 'metadata' && e.name === 'core==2.0'));
  assert.equal(events.at(-1)!.done, events.length);
});

test('extras pull their dependencies, including extras of extras', async () => {
  const { source } = fakeSource(GRAPH);
  const result = await resolveClosure(parseRoots(['app[fancy]==1.0']), options({ latest: 1 }), source);
  assert.deepEqual([...result.files.keys()], ['app', 'core', 'extra2dep', 'fancy', 'lib', 'plain']);
  // latest 1: only the newest lib, whose core>=2 pulls core 2.0 (pre-release 3.0b1 left out).
  assert.deepEqual(names(result.files.get('lib')!), ['lib-2.0-py3-none-any.whl']);
  assert.deepEqual(names(result.files.get('core')!), ['core-2.0-py3-none-any.whl']);
  assert.ok(!result.files.has('nope'));
});

test('per-target markers: a Windows-only dependency is followed for the Windows target alone', async () => {
  const { source } = fakeSource(GRAPH);
  const linuxOnly = await resolveClosure(parseRoots(['app']), options(), source);
  assert.ok(!linuxOnly.files.has('winonly'));
  const both = await resolveClosure(parseRoots(['app']), options({ targets: [linux, win] }), source);
  assert.deepEqual(names(both.files.get('winonly')!), ['winonly-1.0-cp311-cp311-win_amd64.whl']);
  assert.deepEqual(names(both.files.get('pywin-dep')!), ['pywin_dep-1.0-py3-none-any.whl']);
  assert.deepEqual(names(both.files.get('lib')!), [
    'lib-1.0-py3-none-any.whl', 'lib-1.1-cp311-cp311-manylinux_2_17_x86_64.whl', 'lib-1.1-cp311-cp311-win_amd64.whl', 'lib-2.0-py3-none-any.whl',
  ]);
  // A root whose marker excludes every target is skipped; one for Windows is kept.
  const roots = await resolveClosure(parseRoots(['plain ; os_name == "nt"', 'old ; python_version < "3"']), options({ targets: [linux, win], withDeps: false }), source);
  assert.deepEqual([...roots.files.keys()], ['plain']);
});

test('without deps, pre-releases, sdists, unmatched specifiers and URL roots', async () => {
  const { source, calls } = fakeSource(GRAPH);
  const flat = await resolveClosure(parseRoots(['app', 'core>2', 'lib>5', 'x @ https://e.org/x.whl', 'ghost']), options({ withDeps: false, sdists: true }), source);
  assert.equal(calls.metadata.length, 0);
  assert.deepEqual(summary(flat.files), { app: ['app-1.0-py3-none-any.whl', 'app-1.0.tar.gz'], core: ['core-3.0b1-py3-none-any.whl'] });
  assert.deepEqual(flat.missing.map((m) => [m.requirement, m.reason]), [
    ['ghost', 'project not found upstream'],
    ['lib>5', 'no version matching >5 has files for the targets (pre-releases excluded)'],
    ['x @ https://e.org/x.whl', 'direct URL reference: a mirror only fetches from its upstream index'],
  ]);
  const pre = await resolveClosure(parseRoots(['core']), options({ withDeps: false, prereleases: true }), source);
  assert.deepEqual(names(pre.files.get('core')!), ['core-1.0-py3-none-any.whl', 'core-2.0-py3-none-any.whl', 'core-3.0b1-py3-none-any.whl']);
});

test('metadata that cannot be read marks the closure incomplete; a failing source rejects', async () => {
  const { source } = fakeSource(GRAPH, { metadata: async () => null });
  const result = await resolveClosure(parseRoots(['lib==1.0']), options(), source);
  assert.equal(result.complete, false);
  assert.deepEqual(result.missing, [{ requirement: 'lib==1.0', reason: 'no core metadata could be read; its dependencies were not followed' }]);

  const failing = fakeSource(GRAPH, { project: async (name) => { if (name === 'core') throw new Error('upstream down'); return fakeSource(GRAPH).source.project(name); } });
  await assert.rejects(resolveClosure(parseRoots(['app']), options(), failing.source), /upstream down/);
});

test('metadata comes from a wheel with served core metadata when there is one', async () => {
  const graph: Graph = { m: { '1.0': { files: ['m-1.0.tar.gz', 'm-1.0-cp311-cp311-win_amd64.whl', 'm-1.0-py3-none-any.whl'] } } };
  const { source, calls } = fakeSource(graph);
  await resolveClosure(parseRoots(['m']), options({ sdists: true, targets: [linux, win] }), source);
  assert.deepEqual(calls.metadata, ['m-1.0-cp311-cp311-win_amd64.whl']);
});
