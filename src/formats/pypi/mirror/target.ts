// A mirror target: one Python version on one platform that `pip install` will run
// on. Wheel tags, markers and Requires-Python are all judged against targets.
import { badRequest } from '../../../core/errors.ts';

export interface Target {
  /** `3.11`, or a full `3.11.4` (markers on python_full_version then see it). */
  python: string;
  /**
   * `linux_x86_64`, `linux_aarch64` (any Linux: manylinux up to `glibc`, or
   * musllinux up to `musl` when `libc` is musl, and plain `linux_*` wheels);
   * `manylinux_2_28_x86_64`, `manylinux2014_aarch64`, `musllinux_1_2_x86_64`
   * (only portable wheels up to that libc); `macosx_arm64`, `macosx_x86_64`
   * (any macOS version) or `macosx_12_0_arm64` (that version and older);
   * `win_amd64`, `win32`, `win_arm64`.
   */
  platform: string;
  /** CPython ABI tag; default `cp311` (`cp37m` before 3.8). `cp313t` is free-threaded. */
  abi?: string;
  implementation?: 'cp';
  libc?: 'glibc' | 'musl';
  /** glibc version for `linux_*` targets; default 2.35. */
  glibc?: string;
  /** musl version for `linux_*` targets with libc musl; default 1.2. */
  musl?: string;
}

export type PlatformInfo =
  | { os: 'linux'; arch: string; libc: 'glibc' | 'musl'; libcVersion: [number, number]; plainLinux: boolean }
  | { os: 'macos'; arch: string; maxVersion: [number, number] | null }
  | { os: 'windows'; arch: string; tag: string };

/** Legacy manylinux names and the glibc they stand for (PEP 600). */
export const LEGACY_MANYLINUX: Readonly<Record<string, [number, number]>> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

export const DEFAULT_GLIBC = '2.35';
export const DEFAULT_MUSL = '1.2';

function libcVersion(text: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (!m) throw badRequest(`invalid ${what} version ${JSON.stringify(text)} (expected like 2.35)`);
  return [Number(m[1]), Number(m[2])];
}

/** What a target's platform string means. Throws `badRequest` on an unknown one. */
export function platformInfo(target: Target): PlatformInfo {
  const p = target.platform;
  let m: RegExpExecArray | null;
  if ((m = /^linux_([a-z0-9_]+)$/.exec(p))) {
    const libc = target.libc ?? 'glibc';
    const version = libc === 'musl' ? libcVersion(target.musl ?? DEFAULT_MUSL, 'musl') : libcVersion(target.glibc ?? DEFAULT_GLIBC, 'glibc');
    return { os: 'linux', arch: m[1], libc, libcVersion: version, plainLinux: true };
  }
  if ((m = /^manylinux_(\d+)_(\d+)_([a-z0-9_]+)$/.exec(p))) {
    return { os: 'linux', arch: m[3], libc: 'glibc', libcVersion: [Number(m[1]), Number(m[2])], plainLinux: false };
  }
  if ((m = /^(manylinux1|manylinux2010|manylinux2014)_([a-z0-9_]+)$/.exec(p))) {
    return { os: 'linux', arch: m[2], libc: 'glibc', libcVersion: LEGACY_MANYLINUX[m[1]], plainLinux: false };
  }
  if ((m = /^musllinux_(\d+)_(\d+)_([a-z0-9_]+)$/.exec(p))) {
    return { os: 'linux', arch: m[3], libc: 'musl', libcVersion: [Number(m[1]), Number(m[2])], plainLinux: false };
  }
  if ((m = /^macosx_(?:(\d+)_(\d+)_)?(arm64|x86_64)$/.exec(p))) {
    return { os: 'macos', arch: m[3], maxVersion: m[1] === undefined ? null : [Number(m[1]), Number(m[2])] };
  }
  if (p === 'win_amd64') return { os: 'windows', arch: 'AMD64', tag: p };
  if (p === 'win32') return { os: 'windows', arch: 'x86', tag: p };
  if (p === 'win_arm64') return { os: 'windows', arch: 'ARM64', tag: p };
  throw badRequest(`unknown target platform ${JSON.stringify(p)} (expected e.g. linux_x86_64, manylinux_2_28_aarch64, musllinux_1_2_x86_64, macosx_arm64, macosx_12_0_x86_64, win_amd64)`);
}

/** `3.11` / `3.11.4` → [3, 11, 4] (patch 0 when absent). */
export function pythonVersion(target: Target): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(target.python.trim());
  if (!m) throw badRequest(`invalid target Python version ${JSON.stringify(target.python)} (expected like 3.11 or 3.11.4)`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Check a target up front so a sync job fails before fetching anything. */
export function validateTarget(target: Target): void {
  pythonVersion(target);
  platformInfo(target);
  if (target.implementation !== undefined && target.implementation !== 'cp') {
    throw badRequest(`unsupported target implementation ${JSON.stringify(target.implementation)} (only cp)`);
  }
}
