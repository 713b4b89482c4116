// How the `wharf` command picks its Node.js and its entry file, and which directory the CLI
// resolves paths against.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLaunch } from '../../../bin/launch.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callerCwd } from '../../../src/cli/caller-cwd.ts';
import { WHARF_VERSION } from '../../../src/version.ts';

const has = (...paths: string[]) => (p: string) => paths.includes(p);

describe('chooseLaunch', () => {
  it('runs the TypeScript source in a clone, so nothing needs building', () => {
    assert.deepEqual(chooseLaunch({ nodeVersion: '24.21.0', root: '/src/wharf', exists: has('/src/wharf/src/cli/main.ts', '/src/wharf/dist/cli/main.js'), node24: null, reexeced: false }),
      { kind: 'import', file: '/src/wharf/src/cli/main.ts' });
  });
  it('runs dist/ in an installed package (Node does not strip types below node_modules)', () => {
    const root = '/usr/lib/node_modules/wharf';
    assert.deepEqual(chooseLaunch({ nodeVersion: '24.0.0', root, exists: has(`${root}/src/cli/main.ts`, `${root}/dist/cli/main.js`), node24: null, reexeced: false }),
      { kind: 'import', file: `${root}/dist/cli/main.js` });
  });
  it('re-runs itself on the Node.js 24 of the node package when this node is older', () => {
    assert.deepEqual(chooseLaunch({ nodeVersion: '20.20.2', root: '/w', exists: has('/w/node_modules/node/bin/node'), node24: '/w/node_modules/node/bin/node', reexeced: false }),
      { kind: 'exec', node: '/w/node_modules/node/bin/node' });
  });
  it('refuses in one line naming what to install when no Node.js 24 is there, or the re-run was old too', () => {
    for (const facts of [
      { nodeVersion: '20.20.2', root: '/w', exists: has(), node24: null, reexeced: false },
      { nodeVersion: '20.20.2', root: '/w', exists: has(), node24: '/w/node_modules/node/bin/node', reexeced: false },
      { nodeVersion: '20.20.2', root: '/w', exists: has('/w/node_modules/node/bin/node'), node24: '/w/node_modules/node/bin/node', reexeced: true },
    ]) {
      const plan = chooseLaunch(facts);
      assert.equal(plan.kind, 'refuse');
      assert.match((plan as { message: string }).message, /^wharf: needs Node\.js 24 or newer and this is Node\.js 20\.20\.2: install Node\.js 24 [^\n]*$/);
    }
  });
  it('says so when neither the source nor dist/ is there', () => {
    const plan = chooseLaunch({ nodeVersion: '24.1.0', root: '/x/node_modules/wharf', exists: has('/x/node_modules/wharf/src/cli/main.ts'), node24: null, reexeced: false });
    assert.equal(plan.kind, 'refuse');
  });
});

describe('callerCwd', () => {
  const root = '/home/me/wharf';
  const npm = (event: string, init: string) => ({ INIT_CWD: init, npm_lifecycle_event: event, npm_package_json: `${root}/package.json` });
  it('goes back to where `npm run wharf` or `npm start` was typed', () => {
    assert.equal(callerCwd(npm('wharf', '/home/me/dists'), root), '/home/me/dists');
    assert.equal(callerCwd(npm('start', '/srv'), root), '/srv');
  });
  it('stays where it is otherwise', () => {
    assert.equal(callerCwd({}, root), null, 'not started by npm');
    assert.equal(callerCwd(npm('wharf', root), root), null, 'typed in the root');
    assert.equal(callerCwd(npm('npx', '/home/me/dists'), '/home/me/dists'), null, 'npx runs where it was typed');
    assert.equal(callerCwd(npm('test', '/home/me/wharf/test'), root), null, 'a child of another script');
    assert.equal(callerCwd(npm('wharf', '/home/me/dists'), '/tmp/elsewhere'), null, 'npm did not move this process');
  });
});

it('wharf --version is the version of the package', () => {
  assert.equal(WHARF_VERSION, JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')).version);
});
