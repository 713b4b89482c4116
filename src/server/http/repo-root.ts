// Requests that arrived on a repository's own port (the `listen` option), where that
// repository is the root: pages then show URLs without the /<repo>/ prefix.
import type { IncomingMessage } from 'node:http';

const roots = new WeakMap<IncomingMessage, string>();

export function markRepoRoot(req: IncomingMessage, repoName: string): void {
  roots.set(req, repoName);
}

/** The repository served at the root of the port this request came in on, if any. */
export function repoRootOf(req: IncomingMessage): string | undefined {
  return roots.get(req);
}
