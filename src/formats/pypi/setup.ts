// How pip, uv and twine use a PyPI repository: the index URL (`--index-url`, pip.conf), a
// `[[tool.uv.index]]` entry, and a `.pypirc` for twine. Pure: everything comes from the site
// the viewer reached.
import type { SetupSection, SetupSite } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { noUploads, TOKEN_PLACEHOLDER, TOKEN_USER, tokenStep, withCredentials } from '../../core/setup-snippets.ts';

/** pip refuses plain HTTP from hosts other than these unless told to trust them. */
export function needsTrustedHost(url: URL): boolean {
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

/**
 * pip's options for a repository's index, as one string ending in a space: `--trusted-host`
 * when pip needs it, and `--index-url` (with placeholder credentials for a private one).
 */
export function pipIndexOptions(repoUrl: string, isPrivate: boolean): string {
  const simple = `${repoUrl}simple/`;
  const parsed = new URL(simple);
  return `${needsTrustedHost(parsed) ? `--trusted-host ${parsed.host} ` : ''}--index-url ${isPrivate ? withCredentials(simple) : simple} `;
}

/** uv's environment variable for an index's credentials: the name uppercased, anything else `_`. */
export const uvCredentialVariable = (name: string, part: 'USERNAME' | 'PASSWORD') => `UV_INDEX_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${part}`;

function uvSection(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite): SetupSection {
  const simple = `${site.url}simple/`;
  const entry = ['[[tool.uv.index]]', `name = "${repo.name}"`, `url = "${simple}"`, ...(site.uploads ? [`publish-url = "${site.url}"`] : []), 'default = true', ''];
  const credentials = `export ${uvCredentialVariable(repo.name, 'USERNAME')}=${TOKEN_USER}\nexport ${uvCredentialVariable(repo.name, 'PASSWORD')}=${TOKEN_PLACEHOLDER}`;
  const trusted = needsTrustedHost(new URL(simple));
  return {
    title: 'uv',
    steps: [
      {
        text: 'Add the index to your project (with default = true uv looks only here, as pip does with --index-url; without it, uv looks here first and then on PyPI):',
        file: 'pyproject.toml',
        code: entry.join('\n'),
      },
      ...(site.private ? [{ text: 'uv reads the credentials of an index from the environment:', code: credentials }] : []),
      ...(trusted ? [{ text: 'uv refuses plain HTTP to other hosts than this machine unless told to allow it:', code: `export UV_INSECURE_HOST=${new URL(simple).host}` }] : []),
      { text: 'Or install once, without a project:', code: `uv pip install ${trusted ? `--allow-insecure-host ${new URL(simple).host} ` : ''}--index-url ${site.private ? withCredentials(simple) : simple} PACKAGE` },
      ...(site.uploads ? [{ text: 'Publish what you built to this index (its publish-url):', code: `uv publish --index ${repo.name} --token ${TOKEN_PLACEHOLDER}` }] : []),
      ...(site.private || site.uploads ? [tokenStep(site, site.uploads ? 'write' : 'read', repo.name)] : []),
    ],
  };
}

export function pypiSetup(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite): SetupSection[] {
  const simple = `${site.url}simple/`;
  const index = site.private ? withCredentials(simple) : simple;
  const parsed = new URL(simple);
  const trusted = needsTrustedHost(parsed) ? parsed.host : null;
  const pip: SetupSection = {
    title: 'pip',
    steps: [
      { text: 'Install a package from this repository:', code: `pip install ${pipIndexOptions(site.url, site.private)}PACKAGE` },
      {
        text: 'Or make it pip\'s index for every install:',
        file: '~/.config/pip/pip.conf',
        code: ['[global]', `index-url = ${index}`, ...(trusted ? [`trusted-host = ${trusted}`] : []), ''].join('\n'),
      },
      ...(site.private ? [tokenStep(site, 'read', repo.name)] : []),
    ],
  };
  if (!site.uploads) {
    return [pip, uvSection(repo, site), noUploads('twine', repo)];
  }
  const twine: SetupSection = {
    title: 'twine',
    steps: [
      {
        text: 'Tell twine where to upload:',
        file: '~/.pypirc',
        code: ['[distutils]', `index-servers = ${repo.name}`, '', `[${repo.name}]`, `repository = ${site.url}`, `username = ${TOKEN_USER}`, `password = ${TOKEN_PLACEHOLDER}`, ''].join('\n'),
      },
      { text: 'Upload what you built:', code: `twine upload --repository ${repo.name} dist/*` },
      tokenStep(site, 'write', repo.name),
    ],
  };
  return [pip, uvSection(repo, site), twine];
}
