#!/usr/bin/env node
// The `wharf` command. It runs the CLI on Node.js 24: directly when this node is new enough,
// else on the Node.js 24 that the `node` npm package (a dependency) installed, else it says
// in one line what to install. See launch.js for which file runs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chooseLaunch } from './launch.js';

const self = fileURLToPath(import.meta.url);
const root = dirname(dirname(self));

function bundledNode() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    return null;
  }
}

const plan = chooseLaunch({
  nodeVersion: process.versions.node,
  root,
  exists: existsSync,
  node24: bundledNode(),
  reexeced: process.env.WHARF_NODE_REEXEC === '1',
});

if (plan.kind === 'refuse') {
  process.stderr.write(`${plan.message}\n`);
  process.exit(1);
} else if (plan.kind === 'exec') {
  const child = spawn(plan.node, [self, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, WHARF_NODE_REEXEC: '1' } });
  // The server stops on signals: pass them on, and leave as the child left.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`wharf: cannot run ${plan.node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
} else {
  await import(pathToFileURL(plan.file).href);
}
