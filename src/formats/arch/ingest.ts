// Accepting an upload: a package (its `.PKGINFO` read from the package itself, the name it
// was sent under checked against it) with an optional detached signature, or a signature
// for a package already stored. The package's file list is kept as a blob beside it.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { badRequest, invalidPackage, notFound, WharfError } from '../../core/errors.ts';
import type { IngestPlan, PlannedFile, RepoContext, UploadInput } from '../../core/format-plugin.ts';
import { archesFor, rememberArchitecture } from './arches.ts';
import { buildDesc, buildFilesEntry } from './desc.ts';
import { archOptions } from './options.ts';
import { readArchPackage } from './package-reader.ts';
import { readPackageSignature, signStream, verifyStream } from './package-signing.ts';
import { archOfFilename, compressionOfFilename, fileListPath, packagePath, scopesOfArch, signaturePath } from './paths.ts';
import { isPackageFilenameFor } from './pkginfo.ts';
import { vercmp } from './vercmp.ts';

const first = (fields: Record<string, string[]>, name: string) => fields[name]?.[0];

function checkFilename(filename: string): void {
  if (filename === '' || filename.includes('/') || filename.includes('\\') || filename.startsWith('.')) {
    throw new WharfError('INVALID_NAME', `invalid file name ${JSON.stringify(filename)}`);
  }
}

/** Check an uploaded signature over a stored or staged package against the trusted keys. */
async function checkSignature(ctx: RepoContext, open: () => Readable, sig: Uint8Array, what: string): Promise<string | null> {
  const opts = archOptions(ctx.repo);
  if (opts.trustedKeys.length === 0) return null;
  const { valid, fingerprint } = await verifyStream(open(), sig, opts.trustedKeys);
  if (!valid && opts.requireSignedUploads) throw invalidPackage(`the signature of ${what} does not verify against the repository's trusted keys`);
  return valid ? fingerprint ?? null : null;
}

const scopesFor = async (ctx: RepoContext, arch: string) => (await archesFor(ctx, arch)).flatMap(scopesOfArch);

export async function planArchUpload(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  checkFilename(upload.filename);
  return upload.filename.endsWith('.sig') ? planSignature(ctx, upload) : planPackage(ctx, upload);
}

async function planPackage(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  const { staged, filename, fields } = upload;
  const opts = archOptions(ctx.repo);
  const pkg = await readArchPackage(staged.path);
  const info = pkg.pkginfo;
  if (!isPackageFilenameFor(filename, info)) {
    throw new WharfError('NAME_MISMATCH', `the file name ${filename} does not match its .PKGINFO: expected ${info.pkgname}-${info.pkgver}-${info.arch}.pkg.tar.zst (or .xz, .gz, .bz2, none)`);
  }
  if (compressionOfFilename(filename) !== pkg.compression) {
    throw new WharfError('NAME_MISMATCH', `${filename} is ${pkg.compression === 'none' ? 'not compressed' : `compressed with ${pkg.compression}`}; name it accordingly`);
  }
  const add = first(fields, 'add');
  if (add !== undefined && add !== 'true' && add !== 'false') throw badRequest('add must be true or false');

  const path = packagePath(info.arch, filename);
  const existing = await ctx.store.getFileByPath(ctx.repo.id, path);
  const desc = buildDesc(info, { filename, csize: staged.size, md5: staged.md5, sha256: staged.sha256 });
  const files: PlannedFile[] = [{
    path, filename, blob: staged,
    meta: { kind: 'package', pkgname: info.pkgname, pkgver: info.pkgver, arch: info.arch, compression: pkg.compression, held: add === 'false', desc },
  }];
  // Everything that can refuse the upload comes before staging more blobs.
  const sigField = first(fields, 'signature');
  const sigMeta = { kind: 'signature', pkgname: info.pkgname, of: path };
  let signature: { bytes: Uint8Array; meta: Record<string, unknown> } | undefined;
  if (sigField !== undefined) {
    const bytes = await readPackageSignature(Buffer.from(sigField, 'base64'));
    const signer = await checkSignature(ctx, () => createReadStream(staged.path), bytes, filename);
    signature = { bytes, meta: { ...sigMeta, source: 'upload', signer } };
  } else {
    const sigRow = await ctx.store.getFileByPath(ctx.repo.id, signaturePath(path));
    const unchanged = existing && existing.sha256 === staged.sha256 && sigRow;
    if (!unchanged && opts.signPackages && !opts.requireSignedUploads) {
      const bytes = await signStream(createReadStream(staged.path), await ctx.services.keys.signingKeys(ctx.repo));
      signature = { bytes, meta: { ...sigMeta, source: 'server', signer: null } };
    }
  }
  const list = await ctx.blobs.stageBuffer(Buffer.from(buildFilesEntry(pkg.files)));
  files.push({ path: fileListPath(path), filename: `${filename}.files`, blob: list, meta: { kind: 'file-list', pkgname: info.pkgname, of: path, count: pkg.files.length } });
  if (signature) {
    files.push({
      path: signaturePath(path), filename: `${filename}.sig`, blob: await ctx.blobs.stageBuffer(signature.bytes), meta: signature.meta,
      // A signature the server makes is new bytes each time: for the same package stored by a
      // concurrent upload meanwhile, the stored signature stands (and this is a re-upload).
      ...(signature.meta.source === 'server'
        ? { keepsStored: async () => (await ctx.store.getFileByPath(ctx.repo.id, path))?.sha256 === staged.sha256 }
        : {}),
    });
  }

  await rememberArchitecture(ctx, info.arch);
  return {
    package: {
      name: info.pkgname, displayName: info.pkgname, version: info.pkgver,
      versionMeta: {
        description: info.pkgdesc ?? null, url: info.url ?? null, pkgbase: info.pkgbase ?? null, licenses: info.licenses,
        depends: info.depends, provides: info.provides, builddate: info.builddate ?? null, packager: info.packager ?? null,
      },
      // The package's description is the newest version's (judged by the core as it writes).
      packageMeta: { description: info.pkgdesc ?? null }, summary: info.pkgdesc ?? '', compareVersions: vercmp,
    },
    files,
    scopes: await scopesFor(ctx, info.arch),
  };
}

async function planSignature(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  const { staged, filename } = upload;
  const target = filename.slice(0, -'.sig'.length);
  const arch = archOfFilename(target);
  if (!arch) throw invalidPackage(`${filename} does not name a package signature (<pkgname>-<pkgver>-<arch>.pkg.tar.*.sig)`);
  const path = packagePath(arch, target);
  const pkgFile = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (!pkgFile || pkgFile.meta.kind !== 'package' || pkgFile.versionId === null) {
    throw notFound(`no package ${target} in ${ctx.repo.name}: upload the package first, or both in one multipart POST`);
  }
  const sig = await readPackageSignature(await readFile(staged.path));
  const signer = await checkSignature(ctx, () => ctx.blobs.open(pkgFile.sha256), sig, target);
  const version = (await ctx.store.getVersionById(pkgFile.versionId))!;
  const pkg = (await ctx.store.getPackageById(version.packageId))!;
  const blob = await ctx.blobs.stageBuffer(sig);
  const sigPath = signaturePath(path);
  return {
    package: { name: pkg.name, displayName: pkg.displayName, version: version.version, versionMeta: version.meta },
    files: [{
      path: sigPath, filename, blob, meta: { kind: 'signature', pkgname: pkg.name, of: path, source: 'upload', signer },
      // A signature the server made stands in only until the packager's own arrives; the
      // core replaces it in the transaction that records this one (with the db marked dirty).
      replaces: (stored) => stored.meta.source === 'server',
    }],
    scopes: await scopesFor(ctx, String(pkgFile.meta.arch)),
  };
}
