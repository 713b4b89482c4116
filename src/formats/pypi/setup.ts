// How pip and twine use a PyPI repository: the index URL (`--index-url`, pip.conf) and a
// `.pypirc` for twine. Pure: everything comes from the site the viewer reached.
import type { SetupSection, SetupSite } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { noUploads, TOKEN_PLACEHOLDER, TOKEN_USER, tokenStep, withCredentials } from '../../core/setup-snippets.ts';

/** pip refuses plain HTTP from hosts other than these unless told to trust them. */
function needsTrustedHost(url: URL): boolean {
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

export function pypiSetup(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite): SetupSection[] {
  const simple = `${site.url}simple/`;
  const index = site.private ? withCredentials(simple) : simple;
  const parsed = new URL(simple);
  const trusted = needsTrustedHost(parsed) ? parsed.host : null;
  const pip: SetupSection = {
    title: 'pip',
    steps: [
      { text: 'Install a package from this repository:', code: `pip install ${trusted ? `--trusted-host ${trusted} ` : ''}--index-url ${index} PACKAGE` },
      {
        text: 'Or make it pip\'s index for every install:',
        file: '~/.config/pip/pip.conf',
        code: ['[global]', `index-url = ${index}`, ...(trusted ? [`trusted-host = ${trusted}`] : []), ''].join('\n'),
      },
      ...(site.private ? [tokenStep(site, 'read', repo.name)] : []),
    ],
  };
  if (!site.uploads) {
    return [pip, noUploads('twine', repo)];
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
  return [pip, twine];
}
