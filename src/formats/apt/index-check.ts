// For `wharf fsck`: a suite's Release, InRelease and state change with every build (the
// Date field, the signatures, the generation's time). They still say the same thing when
// they list the same index files; that is what is compared.
import { parseState } from './suite-build.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/** The signed text of a Release or InRelease, without its signature and with its dates blanked. */
function releaseText(body: Uint8Array): string {
  let t = text(body);
  const signed = /^-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash: [^\n]*\n)*\n([\s\S]*?)\n?-----BEGIN PGP SIGNATURE-----/.exec(t);
  if (signed) t = signed[1].replace(/^- /gm, '');
  return t.replace(/^(Date|Valid-Until): .*$/gm, '$1: -').trimEnd();
}

export function sameAptDocument(key: string, published: Uint8Array, fresh: Uint8Array): boolean {
  if (Buffer.compare(published, fresh) === 0) return true;
  if (/^dists\/[^/]+\/(Release|InRelease)$/.test(key)) return releaseText(published) === releaseText(fresh);
  // A detached signature of Release, which is compared on its own.
  if (/^dists\/[^/]+\/Release\.gpg$/.test(key)) return true;
  if (key.startsWith('apt-state/')) {
    try {
      const a = parseState(published);
      const b = parseState(fresh);
      return a.codename === b.codename && JSON.stringify(a.generations[0]?.files) === JSON.stringify(b.generations[0]?.files);
    } catch {
      return false;
    }
  }
  return false;
}
