// Public source trees the tests run but the project never commits (devpi, pypiserver,
// bandersnatch: not Debian packages, and PyPI is out of reach). They come as bare git
// snapshots under WHARF_SOURCES (default /work/.mirror, one `<owner>+<name>/repo` each, as the
// session's fetch tool leaves them); a test unpacks one into a cache folder once per commit.
// Where a snapshot is absent, the test that needs it skips and names what to fetch.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOURCES_DIR = process.env.WHARF_SOURCES ?? '/work/.mirror';
/** Where unpacked trees and the virtualenvs built from them are kept between runs. */
export const TOOLS_CACHE = process.env.WHARF_TEST_TOOLS ?? join(tmpdir(), 'wharf-test-tools');

/** The bare git directory of `owner/name`'s snapshot, or undefined. */
export function sourceGitDir(repo: string): string | undefined {
  const base = join(SOURCES_DIR, repo.replace('/', '+'));
  for (const d of [join(base, 'repo/.git'), join(base, 'repo')]) if (existsSync(join(d, 'HEAD')) && existsSync(join(d, 'objects'))) return d;
  return undefined;
}

/** Why a test needing these snapshots must skip (a string for node:test's `skip`), or false. */
export function missingSources(...repos: string[]): string | false {
  const absent = repos.filter((r) => !sourceGitDir(r));
  return absent.length ? `needs the public source of ${absent.join(', ')} under ${SOURCES_DIR} (WHARF_SOURCES)` : false;
}

/**
 * The snapshot's HEAD (or only `paths` of it) unpacked into the cache, made once per commit;
 * returns its folder. Throws when the snapshot is absent: check missingSources first.
 */
export function unpackedSource(repo: string, paths: string[] = []): string {
  const git = sourceGitDir(repo);
  if (!git) throw new Error(missingSources(repo) as string);
  const commit = execFileSync('git', ['--git-dir', git, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const only = paths.length ? `-${paths.join('+').replace(/[^\w.+-]/g, '_')}` : '';
  const dir = join(TOOLS_CACHE, 'src', `${repo.replace('/', '+')}-${commit.slice(0, 12)}${only}`);
  if (existsSync(dir)) return dir;
  const part = `${dir}.part-${process.pid}`;
  rmSync(part, { recursive: true, force: true });
  mkdirSync(part, { recursive: true });
  execFileSync('/bin/sh', ['-c', 'out="$1"; shift; git --git-dir="$0" archive HEAD "$@" | tar -x -C "$out"', git, part, ...paths], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    renameSync(part, dir);
  } catch (err) {
    // Another test process unpacked the same commit first.
    rmSync(part, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  return dir;
}
