// Accepting a .deb: everything the repository records comes from the package's own control
// file. The uploader only chooses the suite and component; a file name that claims another
// package, version or architecture is refused rather than believed.
//
// Model: package = the binary package name, version = its Debian version, file = one .deb
// at its pool path `pool/<component>/<prefix>/<source>/<name>_<version>_<arch>.deb`. The pool
// path is unique per component, so one file row is one .deb in one component; the suites
// that list it are the `suites` array in the file's meta (one .deb can be in `stable` and
// `testing` without a second copy). The Packages stanza is rendered once, here, and kept in
// the meta, so rebuilding a suite is a concatenation.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { badRequest, WharfError } from '../../core/errors.ts';
import type { IngestPlan, RepoContext, UploadInput } from '../../core/format-plugin.ts';
import { readDeb } from './deb-reader.ts';
import { aptOptions } from './options.ts';
import { formatPackagesStanza } from './packages-index.ts';
import { debFilename, isValidComponent, poolPath } from './pool-path.ts';
import { isValidSuite, suiteScope } from './paths.ts';
import { compareDebVersions } from './version.ts';

export interface DebFileMeta {
  kind: 'deb';
  package: string;
  version: string;
  architecture: string;
  source: string;
  component: string;
  suites: string[];
  section: string | null;
  md5: string;
  sha1: string;
  sha512: string;
  /** The Packages stanza, without the blank line that separates stanzas. */
  stanza: string;
  /** Paths the package installs (for Contents). */
  contents: string[];
}

const first = (fields: Record<string, string[]>, name: string): string | undefined => {
  const v = fields[name]?.[0];
  return v === undefined || v === '' ? undefined : v;
};

/** The suite and component an upload goes to, checked so neither can name a path outside the pool. */
export function uploadTarget(ctx: RepoContext, fields: Record<string, string[]>): { suite: string; component: string } {
  const opts = aptOptions(ctx.repo.options);
  const suite = first(fields, 'suite') ?? opts.defaultSuite;
  const component = first(fields, 'component') ?? opts.defaultComponent;
  if (!isValidSuite(suite)) throw new WharfError('INVALID_PATH', `invalid suite ${JSON.stringify(suite)}: letters, digits and . _ + ~ - only`);
  if (!isValidComponent(component)) throw new WharfError('INVALID_PATH', `invalid component ${JSON.stringify(component)}: letters, digits and . _ + - only`);
  return { suite, component };
}

async function sha1And512(path: string): Promise<{ sha1: string; sha512: string }> {
  const sha1 = createHash('sha1');
  const sha512 = createHash('sha512');
  for await (const chunk of createReadStream(path)) {
    sha1.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
  }
  return { sha1: sha1.digest('hex'), sha512: sha512.digest('hex') };
}

/**
 * A name shaped like `<name>_<version>_<arch>.deb` claims an identity; it must be the
 * package's (the version with or without its epoch, `:` also as `%3a`). Other names are
 * only labels and are ignored.
 */
function checkFilename(filename: string, name: string, version: string, arch: string): void {
  if (/[/\\]/.test(filename) || filename.includes('..')) throw badRequest(`invalid file name ${JSON.stringify(filename)}`);
  const claim = /^([^_]+)_([^_]+)_([^_]+)\.deb$/.exec(filename);
  if (!claim) return;
  const canonical = debFilename(name, version, arch);
  const withEpoch = `${name}_${version}_${arch}.deb`;
  const given = claim[0].replace(/%3a/gi, ':');
  if (given !== canonical && given !== withEpoch) {
    throw new WharfError('NAME_MISMATCH', `the file name says ${filename} but the package is ${canonical} (${name} ${version} ${arch})`);
  }
}

export async function planAptUpload(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  const { staged } = upload;
  const { suite, component } = uploadTarget(ctx, upload.fields);
  const info = await readDeb(staged.path, { listFiles: true, data: staged.data });
  checkFilename(upload.filename, info.name, info.version, info.architecture);
  const path = poolPath(component, info.source, info.name, info.version, info.architecture);
  // Hashed as the upload arrived when the route asked for it; otherwise read again.
  const { sha1, sha512 } = staged.sha1 && staged.sha512 ? { sha1: staged.sha1, sha512: staged.sha512 } : await sha1And512(staged.path);
  const stanza = formatPackagesStanza({ control: info.fields, filename: path, size: staged.size, md5: staged.md5, sha1, sha256: staged.sha256, sha512 });

  const suites = [suite];
  const meta: DebFileMeta = {
    kind: 'deb',
    package: info.name,
    version: info.version,
    architecture: info.architecture,
    source: info.source,
    component,
    suites,
    section: info.fields.get('Section')?.trim() ?? null,
    md5: staged.md5,
    sha1,
    sha512,
    stanza,
    contents: info.files ?? [],
  };
  const description = info.fields.get('Description')?.split('\n')[0].trim();
  return {
    package: {
      name: info.name,
      displayName: info.name,
      version: info.version,
      versionMeta: { description: description ?? null, maintainer: info.fields.get('Maintainer')?.trim() ?? null, source: info.source },
      // Shown if this version is the newest (judged by the core as it writes).
      summary: description ?? '',
      compareVersions: compareDebVersions,
    },
    files: [{
      path, filename: debFilename(info.name, info.version, info.architecture), blob: staged, meta: meta as unknown as Record<string, unknown>,
      // The same .deb again: add it to this suite too. Decided by the core in the transaction
      // that also compares the bytes, so concurrent uploads into several suites all count.
      mergeMeta: (stored) => {
        const had = Array.isArray(stored.meta.suites) ? (stored.meta.suites as string[]) : [];
        if (had.includes(suite)) return undefined;
        return { ...stored.meta, suites: [...had, suite].sort() };
      },
    }],
    scopes: [suiteScope(suite)],
  };
}
