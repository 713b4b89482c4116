// How pacman uses an Arch repository: the signing key through pacman-key, a pacman.conf
// section whose name is the db's, and curl for uploads. `archSetup` is pure.
import type { RepoContext, SetupSection, SetupSite } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { curlAuth, noUploads, tokenStep, withCredentials, withoutSlash } from '../../core/setup-snippets.ts';
import { repoArchitectures } from './arches.ts';
import { cooldownOf } from '../../core/cooldown.ts';
import { archOptions } from './options.ts';

export interface ArchSetupFacts {
  architectures: string[];
  /** Fingerprints of the keys that sign now (one, or two while a key is rotated). */
  fingerprints: string[];
  /** Packages carry signatures (the server's or their packager's). */
  signedPackages: boolean;
  /** A group: packages keep the signatures their members give them. */
  memberKeys?: boolean;
  /** A proxy with a cooldown: its dbs are its own (filtered), signed with its key. */
  ownKey?: boolean;
}

export async function archSetupFacts(ctx: RepoContext): Promise<ArchSetupFacts> {
  if (ctx.repo.kind === 'group') {
    // The group signs its dbs; packages keep the signatures their members serve.
    // Only public members: the page may be read by anyone who reads the group.
    const hosted = ctx.services.allMembers(ctx.repo).filter((m) => m.kind === 'hosted' && m.publicRead);
    const arches = new Set((await Promise.all(hosted.map((m) => repoArchitectures({ repo: m, store: ctx.store })))).flat());
    const keys = await ctx.services.keys.describe(ctx.repo);
    return { architectures: [...arches].sort(), fingerprints: keys.map((k) => k.fingerprint), signedPackages: true, memberKeys: true };
  }
  if (ctx.repo.kind === 'proxy' && cooldownOf(ctx.repo)) {
    return { architectures: [], fingerprints: (await ctx.services.keys.describe(ctx.repo)).map((k) => k.fingerprint), signedPackages: true, ownKey: true };
  }
  if (ctx.repo.kind !== 'hosted') return { architectures: [], fingerprints: [], signedPackages: false };
  const opts = archOptions(ctx.repo);
  const keys = await ctx.services.keys.describe(ctx.repo);
  return { architectures: await repoArchitectures(ctx), fingerprints: keys.map((k) => k.fingerprint), signedPackages: opts.signPackages || opts.requireSignedUploads };
}

export function archSetup(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite, facts: ArchSetupFacts): SetupSection[] {
  const name = repo.name;
  // `$arch` is pacman's, filled from its Architecture setting.
  const server = `${withoutSlash(site.private ? withCredentials(site.url) : site.url)}/$arch`;
  const credentials = site.private ? [tokenStep(site, 'read', name)] : [];
  if (repo.kind === 'proxy' && facts.ownKey) {
    const keyFile = `/tmp/${name}.asc`;
    return [{
      title: 'pacman',
      steps: [
        {
          text: `${name} has a cooldown: it serves its upstream's dbs without the packages too young to list, signed with its own key. Trust that key (packages keep their packagers' signatures, trusted through archlinux-keyring):`,
          code: [`curl -fsSL ${curlAuth(site.private)}-o ${keyFile} ${site.url}key.asc`, `sudo pacman-key --add ${keyFile}`, ...facts.fingerprints.map((f) => `sudo pacman-key --lsign-key ${f}`)].join('\n'),
        },
        {
          text: 'Name the section as the upstream\'s repository (core, extra, ...): pacman asks for <section>.db.',
          file: '/etc/pacman.conf',
          code: `[core]\nServer = ${server}\n`,
        },
        ...credentials,
        { text: 'Then:', code: 'sudo pacman -Sy' },
      ],
    }, noUploads('Upload', repo)];
  }
  if (repo.kind === 'proxy') {
    return [{
      title: 'pacman',
      steps: [
        {
          text: `${name} serves its upstream's dbs and packages, signed by their packagers (trusted through archlinux-keyring). Name the section as the upstream's repository (core, extra, ...): pacman asks for <section>.db.`,
          file: '/etc/pacman.conf',
          code: `[core]\nServer = ${server}\n`,
        },
        ...credentials,
        { text: 'Then:', code: 'sudo pacman -Sy' },
      ],
    }, noUploads('Upload', repo)];
  }
  const keyFile = `/tmp/${name}.asc`;
  const sigLevel = facts.signedPackages ? 'Required DatabaseRequired' : 'PackageOptional DatabaseRequired';
  const pacman: SetupSection = {
    title: 'pacman',
    steps: [
      {
        text: 'Trust the repository\'s signing key:',
        code: [`curl -fsSL ${curlAuth(site.private)}-o ${keyFile} ${site.url}key.asc`, `sudo pacman-key --add ${keyFile}`, ...facts.fingerprints.map((f) => `sudo pacman-key --lsign-key ${f}`)].join('\n'),
      },
      ...(facts.memberKeys ? [{ text: 'Packages keep the signatures their members give them: trust the keys of its hosted members (each serves key.asc) and the packagers of its proxies\' upstreams the same way.' }] : []),
      { text: `Add the repository (architectures here: ${facts.architectures.join(', ') || 'none yet'}):`, file: '/etc/pacman.conf', code: `[${name}]\nSigLevel = ${sigLevel}\nServer = ${server}\n` },
      ...credentials,
      { text: 'Then:', code: 'sudo pacman -Sy PACKAGE' },
    ],
  };
  if (repo.kind === 'group' && !site.uploads) return [pacman, noUploads('Upload', repo)];
  const upload: SetupSection = {
    title: 'Upload',
    steps: [
      { text: 'Upload a package (and then its .sig, if it has one):', code: `curl -f ${curlAuth(true)}-T package.pkg.tar.zst ${site.url}upload/` },
      tokenStep(site, 'write', name),
    ],
  };
  return [pacman, upload];
}
