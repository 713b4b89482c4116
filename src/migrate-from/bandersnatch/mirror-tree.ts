// A bandersnatch mirror's `web/` tree: `simple/<project>/index.v1_json` (or index.html) lists
// each file with its sha256 and a URL relative to the page (`../../packages/ab/cd/…/file`).
// With `hash-index = true` the project folders sit one level lower (`simple/a/alpha/`).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';

export interface MirrorFile {
  filename: string;
  /** The page's URL for it, relative to `web/simple/<project>/`. */
  url: string;
  /** Its place below web/, or null when the URL leaves the tree. */
  localPath: string | null;
  sha256: string | null;
}

export interface MirrorProject {
  name: string;
  /** The page's folder below web/ (e.g. `simple/alpha` or `simple/a/alpha`). */
  pageDir: string;
  files: MirrorFile[];
}

/** The files a project page names (PEP 691 JSON, or PEP 503 HTML as a fallback). */
export function parseMirrorPage(text: string, json: boolean): { filename: string; url: string; sha256: string | null }[] {
  if (json) {
    const doc = JSON.parse(text) as { files?: { filename?: string; url?: string; hashes?: Record<string, string> }[] };
    return (doc.files ?? []).filter((f) => typeof f.filename === 'string' && typeof f.url === 'string')
      .map((f) => ({ filename: f.filename!, url: f.url!.split('#')[0], sha256: f.hashes?.sha256?.toLowerCase() ?? null }));
  }
  const out: { filename: string; url: string; sha256: string | null }[] = [];
  for (const m of text.matchAll(/<a\s[^>]*href="([^"]+)"[^>]*>([^<]*)<\/a>/gi)) {
    const [url, frag = ''] = m[1].replace(/&amp;/g, '&').split('#');
    const sha = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(frag);
    out.push({ filename: m[2].trim() || decodeURIComponent(url.split('/').pop() ?? ''), url, sha256: sha ? sha[1].toLowerCase() : null });
  }
  return out;
}

async function projectDirs(web: string): Promise<string[]> {
  const simple = join(web, 'simple');
  const dirs: string[] = [];
  for (const e of await readdir(simple, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const d = join(simple, e.name);
    if (existsSync(join(d, 'index.html')) || existsSync(join(d, 'index.v1_json'))) dirs.push(`simple/${e.name}`);
    else {
      // hash-index: simple/<first letter>/<project>/
      for (const s of await readdir(d, { withFileTypes: true })) if (s.isDirectory()) dirs.push(`simple/${e.name}/${s.name}`);
    }
  }
  return dirs.sort();
}

/** Every project of the mirror with its files as its page lists them. */
export async function readMirror(web: string): Promise<MirrorProject[]> {
  if (!existsSync(join(web, 'simple'))) throw new Error(`${web} has no simple/ folder: give a bandersnatch mirror's web/ directory (or the mirror directory holding it)`);
  const projects: MirrorProject[] = [];
  for (const pageDir of await projectDirs(web)) {
    const jsonPage = join(web, pageDir, 'index.v1_json');
    const json = existsSync(jsonPage);
    const text = await readFile(json ? jsonPage : join(web, pageDir, 'index.html'), 'utf8');
    const name = pageDir.split('/').pop()!;
    const files = parseMirrorPage(text, json).map((f): MirrorFile => {
      // Relative to the page's URL `/<pageDir>/`; a page one level deeper (hash-index) still
      // points at web/packages (bandersnatch writes the URL for where it serves the page).
      const rel = posix.normalize(posix.join(`/simple/${name}/`, decodeURIComponent(f.url)));
      const local = rel.startsWith('/packages/') && !/^[a-z]+:/i.test(f.url) ? resolve(web, `.${rel}`) : null;
      return { ...f, localPath: local && local.startsWith(resolve(web) + sep) ? local : null };
    });
    projects.push({ name, pageDir, files });
  }
  return projects;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
