// `npm run wharf -- upload x.tgz` and `npm start` run in the clone's root, whatever directory
// they were typed in; npm keeps that directory in INIT_CWD. Paths on the command line (files,
// --data, --config, -o) mean what they mean where the user typed them, so the CLI moves back
// there. `npx wharf` already runs where it was typed.
import { dirname, resolve } from 'node:path';

/** The directory the user typed the command in, when npm moved away from it; else null. */
export function callerCwd(env: NodeJS.ProcessEnv, cwd: string): string | null {
  const { INIT_CWD: init, npm_lifecycle_event: event, npm_package_json: pkg } = env;
  // Only our own scripts, and only when npm did move to the package's root: a `wharf` child
  // of another script (a test under `npm test`) keeps the directory it was started in.
  if (!init || !pkg || (event !== 'wharf' && event !== 'start')) return null;
  if (resolve(dirname(pkg)) !== resolve(cwd) || resolve(init) === resolve(cwd)) return null;
  return resolve(init);
}
