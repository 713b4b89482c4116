// Shared by the Arch integration tests: tiny packages built at run time with bsdtar, and
// a real pacman on a throw-away root, dbpath, cache and keyring (see /work/shared/CLIENTS.md).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { RunResult } from '../helpers/clients.ts';
import { buildPackage, makePkginfo, type PackageCompression } from '../unit/arch/fixtures.ts';

/** Runs a command with no stdin (pacman may exit before reading any: no EPIPE then). */
export function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface TinyPackage {
  name: string;
  version: string;
  arch?: string;
  depends?: string[];
  desc?: string;
  /** Installed files, relative path → content (default: usr/bin/<name>). */
  files?: Record<string, string>;
  compression?: PackageCompression;
}

const EXT: Record<PackageCompression, string> = { zstd: '.zst', xz: '.xz', gzip: '.gz', bzip2: '.bz2', none: '' };

/** Build `<name>-<version>-<arch>.pkg.tar.*` in `dir`; returns its path. */
export async function tinyPackage(dir: string, p: TinyPackage): Promise<string> {
  const arch = p.arch ?? 'x86_64';
  const compression = p.compression ?? 'zstd';
  const files = p.files ?? { [`usr/bin/${p.name}`]: `#!/bin/sh\necho ${p.name} ${p.version}\n` };
  const pkginfo = makePkginfo({
    pkgname: p.name, pkgbase: p.name, pkgver: p.version, pkgdesc: p.desc ?? `The ${p.name} package`,
    url: 'https://example.org/', builddate: '1700000000', packager: 'Test <test@example.org>', size: '1024', arch,
    license: 'MIT', ...(p.depends ? { depend: p.depends } : {}),
  });
  const out = path.join(dir, `${p.name}-${p.version}-${arch}.pkg.tar${EXT[compression]}`);
  return buildPackage(out, { pkginfo, files, compression });
}

export interface Pacman {
  dir: string;
  run(...args: string[]): Promise<RunResult>;
  /** Like run, but throws with pacman's output unless it exits 0. */
  ok(...args: string[]): Promise<string>;
}

/** An initialised keyring shared by the pacman set-ups of one test file (init is slow). */
export async function keyring(dir: string): Promise<string> {
  const gpgdir = path.join(dir, 'gnupg');
  await mkdir(gpgdir, { recursive: true });
  const r = await run('pacman-key', ['--gpgdir', gpgdir, '--init']);
  if (r.code !== 0) throw new Error(`pacman-key --init: ${r.stderr}`);
  return gpgdir;
}

/** Import a repository key from /<repo>/key.asc and sign it locally, as docs/arch.md says. */
export async function trustKey(gpgdir: string, keyFile: string, fingerprint: string): Promise<void> {
  for (const args of [['--add', keyFile], ['--lsign-key', fingerprint]]) {
    const r = await run('pacman-key', ['--gpgdir', gpgdir, ...args]);
    if (r.code !== 0) throw new Error(`pacman-key ${args.join(' ')}: ${r.stderr}`);
  }
}

/** A pacman with its own config, dbpath, root and cache, using `servers` for section `section`. */
export async function pacman(dir: string, gpgdir: string, section: string, server: string, arch = 'x86_64'): Promise<Pacman> {
  for (const d of ['db', 'root', 'cache', 'hooks']) await mkdir(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'pacman.conf');
  await writeFile(conf, `[options]\nArchitecture = ${arch}\nSigLevel = Required DatabaseRequired\n\n[${section}]\nServer = ${server}\n`);
  const runIt = (...args: string[]) => run('pacman', [
    '--config', conf, '--dbpath', path.join(dir, 'db'), '--root', path.join(dir, 'root'), '--cachedir', path.join(dir, 'cache'),
    '--gpgdir', gpgdir, '--hookdir', path.join(dir, 'hooks'), '--logfile', path.join(dir, 'log'), '--noconfirm', ...args,
  ]);
  return {
    dir,
    run: runIt,
    async ok(...args: string[]) {
      const r = await runIt(...args);
      if (r.code !== 0) throw new Error(`pacman ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
  };
}

/** curl, as users upload: `curl -u user:secret -T file URL/upload/`. */
export function curl(args: string[]): Promise<RunResult> {
  return run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
}

export const httpStatus = (r: RunResult) => Number(r.stdout.trim().split('\n').pop());
