// How the `wharf` command starts, decided from plain facts so it can be tested: which file
// runs the CLI, and on which Node.js. Plain JavaScript that any Node.js since 14 can load,
// because its job is to explain (or fix) running on a Node.js that is too old.

export const NEEDED_MAJOR = 24;

/**
 * @param {{ nodeVersion: string, root: string, exists: (path: string) => boolean,
 *           node24: string | null, reexeced: boolean }} facts
 *   nodeVersion: process.versions.node; root: the package's directory; node24: the Node.js
 *   binary of the `node` npm package, if installed; reexeced: this is already the re-run.
 * @returns {{ kind: 'import', file: string } | { kind: 'exec', node: string } | { kind: 'refuse', message: string }}
 */
export function chooseLaunch(facts) {
  const major = Number(facts.nodeVersion.split('.')[0]);
  if (major < NEEDED_MAJOR) {
    if (facts.node24 && !facts.reexeced && facts.exists(facts.node24)) return { kind: 'exec', node: facts.node24 };
    return {
      kind: 'refuse',
      message: `wharf: needs Node.js ${NEEDED_MAJOR} or newer and this is Node.js ${facts.nodeVersion}: install Node.js ${NEEDED_MAJOR} (https://nodejs.org/en/download), or in a clone run \`npm ci\`, which brings it into node_modules`,
    };
  }
  // In a clone the TypeScript source runs as it is (Node strips the types), so nothing needs
  // building and nothing built can be stale. Below node_modules (an installed package) Node
  // refuses to strip types: the package carries dist/, built by `npm pack`.
  const src = `${facts.root}/src/cli/main.ts`;
  const dist = `${facts.root}/dist/cli/main.js`;
  const installed = /[\\/]node_modules[\\/]/.test(`${facts.root}/`);
  if (!installed && facts.exists(src)) return { kind: 'import', file: src };
  if (facts.exists(dist)) return { kind: 'import', file: dist };
  return { kind: 'refuse', message: `wharf: neither ${src} nor ${dist} exists: this copy of wharf is incomplete; reinstall it, or run \`npm run build\`` };
}
