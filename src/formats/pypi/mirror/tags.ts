// Wheel tag compatibility (PEP 425, 600, 656; macOS rules from packaging.tags):
// would pip on a target install this wheel? Judged tag by tag rather than by
// listing every supported tag, so "any macOS version" targets stay simple.
import type { DistFilename } from '../filename.ts';
import { LEGACY_MANYLINUX, platformInfo, pythonVersion, type PlatformInfo, type Target } from './target.ts';

type V2 = [number, number];
const le = (a: V2, b: V2) => a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);

/** The ABI tag CPython of that version builds extensions for. */
export function defaultAbi(major: number, minor: number): string {
  return major === 3 && minor < 8 ? `cp${major}${minor}m` : `cp${major}${minor}`;
}

function linuxPlatformSupported(tag: string, p: Extract<PlatformInfo, { os: 'linux' }>): boolean {
  let m: RegExpExecArray | null;
  if ((m = /^linux_([a-z0-9_]+)$/.exec(tag))) return p.plainLinux && m[1] === p.arch;
  let glibc: V2 | null = null;
  let arch: string;
  if ((m = /^manylinux_(\d+)_(\d+)_([a-z0-9_]+)$/.exec(tag))) {
    glibc = [Number(m[1]), Number(m[2])];
    arch = m[3];
  } else if ((m = /^(manylinux1|manylinux2010|manylinux2014)_([a-z0-9_]+)$/.exec(tag))) {
    glibc = LEGACY_MANYLINUX[m[1]];
    arch = m[2];
  } else if ((m = /^musllinux_(\d+)_(\d+)_([a-z0-9_]+)$/.exec(tag))) {
    // packaging offers musllinux_{major}_{minor..0} of the running musl major.
    const v: V2 = [Number(m[1]), Number(m[2])];
    return p.libc === 'musl' && m[3] === p.arch && v[0] === p.libcVersion[0] && le(v, p.libcVersion);
  } else {
    return false;
  }
  if (p.libc !== 'glibc' || arch !== p.arch) return false;
  // packaging starts at glibc 2.5 on x86 (manylinux1) and 2.17 elsewhere.
  const oldest: V2 = arch === 'x86_64' || arch === 'i686' ? [2, 5] : [2, 17];
  return glibc[0] === p.libcVersion[0] && le(oldest, glibc) && le(glibc, p.libcVersion);
}

/** packaging.tags._mac_binary_formats for the two live architectures. */
function macBinaryFormats(version: V2, arch: string): string[] {
  if (arch === 'x86_64') return le([10, 4], version) ? ['x86_64', 'intel', 'fat64', 'fat32', 'universal2', 'universal'] : [];
  return [arch, 'universal2'];
}

function macPlatformSupported(tag: string, p: Extract<PlatformInfo, { os: 'macos' }>): boolean {
  const m = /^macosx_(\d+)_(\d+)_([a-z0-9_]+)$/.exec(tag);
  if (!m) return false;
  const v: V2 = [Number(m[1]), Number(m[2])];
  const format = m[3];
  const max = p.maxVersion ?? [Number.MAX_SAFE_INTEGER, 0];
  if (v[0] >= 11) {
    // Since macOS 11 only `{major}_0` is offered: minor releases are midyear updates.
    return v[1] === 0 && max[0] >= v[0] && macBinaryFormats(v, p.arch).includes(format);
  }
  if (v[0] !== 10) return false;
  if (max[0] >= 11) {
    // A macOS 11+ machine takes 10.4 to 10.16 wheels; on arm64 only universal2 ones.
    if (v[1] < 4 || v[1] > 16) return false;
    return p.arch === 'x86_64' ? macBinaryFormats(v, p.arch).includes(format) : format === 'universal2';
  }
  return max[0] === 10 && v[1] <= max[1] && macBinaryFormats(v, p.arch).includes(format);
}

/** Whether a platform tag (other than `any`) runs on the target's platform. */
export function platformSupported(tag: string, target: Target): boolean {
  const p = platformInfo(target);
  if (p.os === 'linux') return linuxPlatformSupported(tag, p);
  if (p.os === 'macos') return macPlatformSupported(tag, p);
  return tag === p.tag;
}

/**
 * One (python, abi, platform) tag triple, as packaging.tags.sys_tags orders them
 * for CPython: `cpXY-{abi,abi3,none}-plat`, `cp3Y-abi3-plat` for older Y,
 * `{py3X,py3,cpXY}-none-plat` and the same with `any`.
 */
export function tagSupported(python: string, abi: string, platform: string, target: Target): boolean {
  const [major, minor] = pythonVersion(target);
  const interpreter = `cp${major}${minor}`;
  const targetAbi = target.abi ?? defaultAbi(major, minor);
  const platformOk = () => platformSupported(platform, target);
  if (abi === 'none') {
    let pyOk = python === interpreter || python === `py${major}`;
    const m = /^py(\d)(\d+)$/.exec(python);
    if (m && Number(m[1]) === major && Number(m[2]) <= minor) pyOk = true;
    return pyOk && (platform === 'any' || platformOk());
  }
  if (platform === 'any') return false;
  if (abi === 'abi3') {
    // Stable ABI from 3.2 on; free-threaded builds have none.
    if (major !== 3 || minor < 2 || targetAbi.endsWith('t')) return false;
    const m = /^cp3(\d+)$/.exec(python);
    return m !== null && Number(m[1]) >= 2 && Number(m[1]) <= minor && platformOk();
  }
  return python === interpreter && abi === targetAbi && platformOk();
}

/** Would pip on `target` install this wheel? Compressed tag sets (`py2.py3`) match if any member does. */
export function wheelSupported(filename: DistFilename, target: Target): boolean {
  if (filename.kind !== 'wheel' || !filename.pythonTag || !filename.abiTag || !filename.platformTag) return false;
  for (const py of filename.pythonTag.split('.')) {
    for (const abi of filename.abiTag.split('.')) {
      for (const plat of filename.platformTag.split('.')) {
        if (tagSupported(py, abi, plat, target)) return true;
      }
    }
  }
  return false;
}
