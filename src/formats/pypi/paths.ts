// Where PyPI files live below a repository, and the index keys and scopes of its pages.

/** A distribution's path: `packages/<normalized project>/<filename>`. */
export const distPath = (project: string, filename: string) => `packages/${project}/${filename}`;
/** PEP 658: the core metadata is served next to the file, with `.metadata` appended. */
export const metadataPath = (distFilePath: string) => `${distFilePath}.metadata`;

export const projectScope = (project: string) => `project:${project}`;
export const ROOT_SCOPE = 'root';

export const rootKey = (format: 'html' | 'json') => `simple/#${format}`;
export const projectKey = (project: string, format: 'html' | 'json') => `simple/${project}/#${format}`;
export const jsonApiKey = (project: string) => `pypi/${project}/json`;

/** The scope holding a document (time travel builds scopes by the keys asked for). */
export function scopeOfKey(key: string): string | null {
  if (key === rootKey('html') || key === rootKey('json')) return ROOT_SCOPE;
  const m = /^simple\/([^/]+)\/#(?:html|json)$/.exec(key) ?? /^pypi\/([^/]+)\/json$/.exec(key);
  return m ? projectScope(m[1]) : null;
}

/** From a project page (`/<repo>/simple/<project>/`) to a file, relative so proxies and extra ports keep working. */
export const fileUrlFromPage = (project: string, filename: string) => `../../packages/${project}/${encodeURIComponent(filename)}`;
