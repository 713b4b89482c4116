// Fixtures for the APT tests, built at run time: real .debs from dpkg-deb, and
// hand-made ar archives for layouts dpkg-deb refuses to produce.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = 'wharf-apt-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface DebSpec {
  control: string;
  /** path → content; paths relative to the package root. */
  files?: Record<string, string>;
  symlinks?: Record<string, string>;
  compression?: 'gzip' | 'xz' | 'zstd' | 'none';
  /** Skip dpkg-deb's control checks (to build deliberately broken packages). */
  nocheck?: boolean;
}

/** Build a .deb with the real dpkg-deb and return its path. */
export async function buildDeb(dir: string, name: string, spec: DebSpec): Promise<string> {
  const root = path.join(dir, `${name}.root`);
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await writeFile(path.join(root, 'DEBIAN', 'control'), spec.control);
  for (const [file, content] of Object.entries(spec.files ?? {})) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  for (const [link, target] of Object.entries(spec.symlinks ?? {})) {
    await mkdir(path.dirname(path.join(root, link)), { recursive: true });
    await symlink(target, path.join(root, link));
  }
  const out = path.join(dir, `${name}.deb`);
  const args = ['--root-owner-group', `-Z${spec.compression ?? 'xz'}`];
  if (spec.nocheck) args.push('--nocheck');
  execFileSync('dpkg-deb', [...args, '--build', root, out], { stdio: 'pipe' });
  return out;
}

/** An ar archive from members, written the way GNU ar does (names end with `/`). */
export function makeAr(members: { name: string; data: Buffer | string }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n', 'latin1')];
  for (const m of members) {
    const data = Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data);
    const header =
      `${m.name}/`.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(data.length).padEnd(10) + '`\n';
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** A tar (optionally gzipped) of `files`, made by the system tar. */
export async function makeTar(dir: string, files: Record<string, string>, gzip = true): Promise<Buffer> {
  const root = await mkdtemp(path.join(dir, 'tar-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  const out = path.join(dir, `${path.basename(root)}.tar${gzip ? '.gz' : ''}`);
  execFileSync('tar', [gzip ? '-czf' : '-cf', out, '--owner=0', '--group=0', '-C', root, '.']);
  return readFile(out);
}

export function digests(data: Buffer): { md5: string; sha1: string; sha256: string; sha512: string } {
  const h = (alg: string) => createHash(alg).update(data).digest('hex');
  return { md5: h('md5'), sha1: h('sha1'), sha256: h('sha256'), sha512: h('sha512') };
}

/** Whether a program is on PATH (for optional cross-checks against Debian tools). */
export function haveProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
