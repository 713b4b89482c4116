// Benchmark dispatcher: `node bench/run.ts <name> [flags]`, e.g. `npm run bench -- pypi --quick`.
// Each benchmark is a module exporting `main(argv)`, registered here by name.
const benchmarks: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  pypi: () => import('./pypi.ts'),
  proxy: () => import('./proxy.ts'),
  load: () => import('./load.ts'),
  pages: () => import('./pages.ts'),
  'blob-upload': () => import('./blob-upload.ts'),
  replicas: () => import('./replicas.ts'),
  'pages-vs-devpi': () => import('./pages-vs-devpi.ts'),
  static: () => import('./static.ts'),
  workers: () => import('./workers.ts'),
  million: () => import('./million.ts'),
  bulk: () => import('./bulk.ts'),
  audit: () => import('./audit.ts'),
  migrate: () => import('./migrate.ts'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? benchmarks[name] : undefined;
if (!load) {
  process.stderr.write(`usage: node bench/run.ts <benchmark> [flags]\nbenchmarks: ${Object.keys(benchmarks).join(', ')}\n`);
  process.exit(2);
}
await (await load()).main(rest);
