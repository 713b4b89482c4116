// Builds Python distributions at test time: wheels pip can install (METADATA,
// WHEEL, RECORD with urlsafe-base64 sha256 lines, a module) and sdists with a
// PKG-INFO. Used by unit and integration tests and by benchmarks.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { buildZip } from './zip.ts';

export interface DistOptions {
  name: string;
  version: string;
  summary?: string;
  requiresDist?: string[];
  requiresPython?: string;
  /** More core metadata header lines, e.g. `['Classifier: X', 'Project-URL: Home, https://x']`. */
  extraMetadata?: string[];
  /** Long description, written as the metadata body. */
  description?: string;
  /** METADATA / PKG-INFO text used verbatim instead of the generated one. */
  metadataOverride?: string;
  /** More files, paths relative to the archive root (wheel) or the sdist's top directory. */
  extraFiles?: Record<string, string | Buffer>;
}

export interface WheelOptions extends DistOptions {
  pythonTag?: string;
  abiTag?: string;
  platformTag?: string;
  buildTag?: string;
  /** Leave out `.dist-info/METADATA` (for error tests). */
  omitMetadata?: boolean;
}

export interface SdistOptions extends DistOptions {
  format?: 'tar.gz' | 'zip';
  /** Top directory name (default `{escaped name}-{version}`). */
  baseDir?: string;
}

/** The name as filenames spell it: runs of `-_.` become `_`, lowercase. */
export function escapedName(name: string): string {
  return name.replace(/[-_.]+/g, '_').toLowerCase();
}

/** The import package the built dists contain. */
export function moduleName(name: string): string {
  return escapedName(name);
}

export function coreMetadataText(o: DistOptions): string {
  if (o.metadataOverride !== undefined) return o.metadataOverride;
  const lines = ['Metadata-Version: 2.1', `Name: ${o.name}`, `Version: ${o.version}`];
  if (o.summary !== undefined) lines.push(`Summary: ${o.summary}`);
  if (o.requiresPython !== undefined) lines.push(`Requires-Python: ${o.requiresPython}`);
  for (const r of o.requiresDist ?? []) lines.push(`Requires-Dist: ${r}`);
  lines.push(...(o.extraMetadata ?? []));
  if (o.description !== undefined) lines.push('Description-Content-Type: text/markdown');
  return lines.join('\n') + '\n\n' + (o.description ?? '');
}

export function wheelFilename(o: Pick<WheelOptions, 'name' | 'version' | 'pythonTag' | 'abiTag' | 'platformTag' | 'buildTag'>): string {
  const build = o.buildTag ? `-${o.buildTag}` : '';
  return `${escapedName(o.name)}-${o.version}${build}-${o.pythonTag ?? 'py3'}-${o.abiTag ?? 'none'}-${o.platformTag ?? 'any'}.whl`;
}

export function sdistFilename(o: Pick<SdistOptions, 'name' | 'version' | 'format'>): string {
  return `${escapedName(o.name)}-${o.version}.${o.format ?? 'tar.gz'}`;
}

function toBuffer(data: string | Buffer): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
}

function recordLine(path: string, data: Buffer): string {
  const digest = createHash('sha256').update(data).digest('base64url');
  return `${path},sha256=${digest},${data.length}`;
}

/** A pure-Python wheel that pip installs: `import <module>; <module>.__version__`. */
export function buildWheel(o: WheelOptions): Buffer {
  const distInfo = `${escapedName(o.name)}-${o.version}.dist-info`;
  const tag = `${o.pythonTag ?? 'py3'}-${o.abiTag ?? 'none'}-${o.platformTag ?? 'any'}`;
  const files = new Map<string, Buffer>();
  files.set(`${moduleName(o.name)}/__init__.py`, Buffer.from(`__version__ = ${JSON.stringify(o.version)}\n`));
  for (const [path, data] of Object.entries(o.extraFiles ?? {})) files.set(path, toBuffer(data));
  if (!o.omitMetadata) files.set(`${distInfo}/METADATA`, Buffer.from(coreMetadataText(o)));
  const wheel = ['Wheel-Version: 1.0', 'Generator: wharf-tests', 'Root-Is-Purelib: true', `Tag: ${tag}`];
  if (o.buildTag) wheel.push(`Build: ${o.buildTag}`);
  files.set(`${distInfo}/WHEEL`, Buffer.from(wheel.join('\n') + '\n'));
  const record = [...files].map(([path, data]) => recordLine(path, data));
  record.push(`${distInfo}/RECORD,,`);
  files.set(`${distInfo}/RECORD`, Buffer.from(record.join('\n') + '\n'));
  return buildZip([...files].map(([name, data]) => ({ name, data })));
}

/** An sdist with `{base}/PKG-INFO` and the module (no build backend: not for pip install). */
export async function buildSdist(o: SdistOptions): Promise<Buffer> {
  const base = o.baseDir ?? `${escapedName(o.name)}-${o.version}`;
  const files = new Map<string, Buffer>();
  files.set(`${base}/PKG-INFO`, Buffer.from(coreMetadataText(o)));
  files.set(`${base}/${moduleName(o.name)}/__init__.py`, Buffer.from(`__version__ = ${JSON.stringify(o.version)}\n`));
  for (const [path, data] of Object.entries(o.extraFiles ?? {})) files.set(`${base}/${path}`, toBuffer(data));
  if (o.format === 'zip') return buildZip([...files].map(([name, data]) => ({ name, data })));
  return tarGz([...files].map(([name, data]) => ({ name, data })));
}

/** A gzip-compressed tar of the given files (mode 0644, fixed mtime). */
export async function tarGz(files: { name: string; data: Buffer | string }[]): Promise<Buffer> {
  return zlib.gzipSync(await tarball(files));
}

/** An uncompressed tar of the given files. */
export async function tarball(files: { name: string; data: Buffer | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const f of files) pack.entry({ name: f.name, mode: 0o644, mtime: new Date('2020-01-01T00:00:00Z') }, toBuffer(f.data));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
