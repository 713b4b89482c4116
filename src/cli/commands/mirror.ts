// `wharf mirror sync`: fill a PyPI proxy repository with the dependency closure of a list
// of requirements, for offline use.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { clientFrom, formatBytes, out, run, type GlobalOptions } from '../context.ts';
import { ProgressBar } from '../progress.ts';
import type { MirrorSyncSummary } from '../../formats/pypi/mirror-sync.ts';

const collect = (v: string, prev: string[]) => [...prev, v];


export function registerMirrorCommands(program: Command, globals: () => GlobalOptions): void {
  const mirror = program.command('mirror').description('offline mirrors of proxy repositories');
  mirror.command('sync <repo> [specs...]')
    .description('fetch everything a requirements list needs into a PyPI proxy repository (with its dependencies), and prune what no longer matches')
    .option('-r, --requirement <file>', 'a requirements file (repeatable)', collect, [])
    .option('--python <version>', 'target Python (repeatable; default 3.11)', collect, [])
    .option('--platform <platform>', 'target platform, e.g. linux_x86_64, manylinux_2_28_aarch64, macosx_arm64, win_amd64 (repeatable; default linux_x86_64)', collect, [])
    .option('--pre', 'include pre-releases')
    .option('--latest <n>', 'only the newest N matching versions of each project')
    .option('--no-deps', 'only the listed requirements, not their dependencies')
    .option('--no-sdists', 'wheels only')
    .option('--no-prune', 'keep files that no longer match')
    .option('--dry-run', 'resolve and report, download and delete nothing')
    .action((repo: string, specs: string[], o: { requirement: string[]; python: string[]; platform: string[]; pre?: boolean; latest?: string; deps: boolean; sdists: boolean; prune: boolean; dryRun?: boolean }) => run(async () => {
      const requirements = o.requirement.map((f) => readFileSync(f, 'utf8')).join('\n');
      const pythons = o.python.length ? o.python : ['3.11'];
      const platforms = o.platform.length ? o.platform : ['linux_x86_64'];
      const targets = pythons.flatMap((python) => platforms.map((platform) => ({ python, platform })));
      const bar = new ProgressBar('');
      let phase = '';
      const result = await clientFrom(globals()).actionWithProgress<MirrorSyncSummary>(repo, 'mirror-sync', {
        ...(requirements ? { requirements } : {}), specs, targets, prereleases: o.pre ?? false,
        ...(o.latest ? { latest: Number(o.latest) } : {}), withDeps: o.deps, sdists: o.sdists, prune: o.prune, dryRun: o.dryRun ?? false,
      }, (e) => {
        if (e.phase !== phase && process.stderr.isTTY) process.stderr.write(`\n${e.phase}\n`);
        phase = String(e.phase);
        if (e.phase === 'download') bar.update(Number(e.done), Number(e.total));
      });
      bar.done();
      for (const m of result.missing) process.stderr.write(`missing: ${m.requirement}: ${m.reason}\n`);
      for (const i of result.ignored) process.stderr.write(`ignored line ${i.line}: ${i.text} (${i.reason})\n`);
      out(`${result.dryRun ? 'would mirror' : 'mirrored'} ${result.files} files of ${result.projects} projects (${formatBytes(result.bytes)}): ${result.downloaded} downloaded, ${result.alreadyCached} already cached, ${result.pruned.length} pruned${result.complete ? '' : '; resolution incomplete, nothing pruned'}`);
      if (result.missing.length) process.exitCode = 1;
    }));
}
