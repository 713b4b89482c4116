// How apt uses an APT repository: the signing key in /etc/apt/keyrings, a deb822 `.sources`
// file with `Signed-By`, credentials in auth.conf.d for a private one, and curl for uploads.
// `aptSetup` is pure; `aptSetupFacts` reads the suites and components that are published.
import type { RepoContext, SetupSection, SetupSite, SetupStep } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { cooldownOf } from '../../core/cooldown.ts';
import { curlAuth, noUploads, TOKEN_PLACEHOLDER, TOKEN_USER, tokenStep, withoutSlash } from '../../core/setup-snippets.ts';
import { aptOptions } from './options.ts';
import { knownSuites } from './suite-build.ts';

export interface AptSuiteFacts {
  suite: string;
  components: string[];
}

export interface AptSetupFacts {
  suites: AptSuiteFacts[];
  /** Where an upload that names no suite or component goes. */
  upload: { suite: string; component: string };
  /** A proxy with a cooldown: its suites are its own (filtered), signed with its key. */
  ownKey?: boolean;
}

/** The `Components:` of a Release file. */
export function releaseComponents(release: string): string[] {
  const m = /^Components:[ \t]*(.*)$/m.exec(release);
  return m ? m[1].split(/\s+/).filter(Boolean) : [];
}

export async function aptSetupFacts(ctx: RepoContext): Promise<AptSetupFacts> {
  // A proxy with a cooldown re-signs its upstream's suites, filtered, with its own key.
  if (ctx.repo.kind === 'proxy') return { suites: [], upload: { suite: 'stable', component: 'main' }, ownKey: cooldownOf(ctx.repo) !== null };
  if (ctx.repo.kind === 'group') {
    // A group serves the suites of its hosted members (and of its proxies' upstreams, which
    // are not asked here); uploads go to its uploadTo member.
    // Only public members: the page may be read by anyone who reads the group.
    const hosted = ctx.services.allMembers(ctx.repo).filter((m) => m.kind === 'hosted' && m.publicRead);
    const facts = await Promise.all(hosted.map((m) => aptSetupFacts({ ...ctx, repo: m, state: ctx.services.stateOf(m) })));
    const suites = new Map<string, Set<string>>();
    for (const f of facts) for (const s of f.suites) suites.set(s.suite, new Set([...(suites.get(s.suite) ?? []), ...s.components]));
    const target = ctx.services.repo(String(ctx.repo.options.uploadTo ?? ''));
    const upload = target ? (facts[hosted.findIndex((m) => m.id === target.id)]?.upload ?? { suite: 'stable', component: 'main' }) : { suite: 'stable', component: 'main' };
    const list = [...suites].map(([suite, c]) => ({ suite, components: [...c].sort() }));
    return { suites: list.length ? list : [{ suite: upload.suite, components: [upload.component] }], upload };
  }
  const opts = aptOptions(ctx.repo.options);
  const upload = { suite: opts.defaultSuite, component: opts.defaultComponent };
  const suites = await Promise.all((await knownSuites(ctx)).map(async (suite) => {
    const row = await ctx.services.getIndex(ctx.repo, `dists/${suite}/Release`);
    const components = row ? releaseComponents(Buffer.from(row.body).toString('utf8')) : [];
    return { suite, components: components.length ? components : [opts.defaultComponent] };
  }));
  // Nothing published yet: the suite the first upload creates.
  return { suites: suites.length ? suites : [{ suite: upload.suite, components: [upload.component] }], upload };
}

/** One deb822 stanza per set of components: `Suites:` may list several only when they share them. */
function stanzas(url: string, keyPath: string, suites: AptSuiteFacts[]): string {
  const byComponents = new Map<string, string[]>();
  for (const s of suites) {
    const key = s.components.join(' ');
    byComponents.set(key, [...(byComponents.get(key) ?? []), s.suite]);
  }
  return [...byComponents].map(([components, names]) =>
    ['Types: deb', `URIs: ${url}`, `Suites: ${names.join(' ')}`, `Components: ${components}`, `Signed-By: ${keyPath}`].join('\n')).join('\n\n') + '\n';
}

export function aptSetup(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite, facts: AptSetupFacts): SetupSection[] {
  const url = withoutSlash(site.url);
  const name = repo.name;
  const credentials: SetupStep[] = site.private
    ? [
      {
        text: 'apt sends credentials only where auth.conf names the repository:',
        file: `/etc/apt/auth.conf.d/${name}.conf`,
        code: `machine ${url}\nlogin ${TOKEN_USER}\npassword ${TOKEN_PLACEHOLDER}\n`,
      },
      { text: 'Keep that file readable by root only:', code: `sudo chmod 600 /etc/apt/auth.conf.d/${name}.conf` },
      tokenStep(site, 'read', name),
    ]
    : [];
  if (repo.kind === 'proxy' && facts.ownKey) {
    const keyPath = `/etc/apt/keyrings/${name}.asc`;
    return [{
      title: 'apt',
      steps: [
        { text: `${name} has a cooldown: it serves its upstream's suites without the packages too young to list, signed with its own key. Download that key:`, code: `sudo install -d -m 0755 /etc/apt/keyrings\nsudo curl -fsSL ${curlAuth(site.private)}-o ${keyPath} ${site.url}key.asc` },
        { text: 'Add the repository with the upstream\'s suites and components:', file: `/etc/apt/sources.list.d/${name}.sources`, code: stanzas(url, keyPath, [{ suite: 'SUITE', components: ['main'] }]) },
        ...credentials,
        { text: 'Then:', code: 'sudo apt-get update' },
      ],
    }, noUploads('Upload', repo)];
  }
  if (repo.kind === 'proxy') {
    return [{
      title: 'apt',
      steps: [
        {
          text: `${name} passes its upstream's signed indexes through: use the upstream's suites, components and key (for Debian, the debian-archive-keyring package's).`,
          file: `/etc/apt/sources.list.d/${name}.sources`,
          code: stanzas(url, '/usr/share/keyrings/debian-archive-keyring.gpg', [{ suite: 'SUITE', components: ['main'] }]),
        },
        ...credentials,
        { text: 'Then:', code: 'sudo apt-get update' },
      ],
    }, noUploads('Upload', repo)];
  }
  const keyPath = `/etc/apt/keyrings/${name}.asc`;
  const apt: SetupSection = {
    title: 'apt',
    steps: [
      { text: 'Download the repository\'s signing key:', code: `sudo install -d -m 0755 /etc/apt/keyrings\nsudo curl -fsSL ${curlAuth(site.private)}-o ${keyPath} ${site.url}key.asc` },
      { text: 'Add the repository:', file: `/etc/apt/sources.list.d/${name}.sources`, code: stanzas(url, keyPath, facts.suites) },
      ...credentials,
      { text: 'Then:', code: 'sudo apt-get update\nsudo apt-get install PACKAGE' },
    ],
  };
  if (repo.kind === 'group' && !site.uploads) return [apt, noUploads('Upload', repo)];
  const { suite, component } = facts.upload;
  const upload: SetupSection = {
    title: 'Upload',
    steps: [
      { text: `Upload a .deb (into suite ${suite}, component ${component}; name others in the URL):`, code: `curl -f ${curlAuth(true)}-T package.deb ${site.url}upload/${suite}/${component}/` },
      tokenStep(site, 'write', name),
    ],
  };
  return [apt, upload];
}
