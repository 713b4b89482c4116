// How curl uses a files repository: download, list, upload with PUT, delete.
import type { SetupSection, SetupSite } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { curlAuth, noUploads, tokenStep } from '../../core/setup-snippets.ts';

export function filesSetup(repo: Pick<Repository, 'name' | 'kind'>, site: SetupSite): SetupSection[] {
  const read = curlAuth(site.private);
  const steps: SetupSection['steps'] = [
    { text: 'Download a file:', code: `curl -fO ${read}${site.url}path/to/file.tar.gz` },
    { text: 'List a directory (HTML for browsers, JSON when asked):', code: `curl -f ${read}-H 'Accept: application/json' ${site.url}path/to/` },
  ];
  if (site.private) steps.push(tokenStep(site, 'read', repo.name));
  const sections: SetupSection[] = [{ title: 'curl: download', steps }];
  if (site.uploads) {
    const write = curlAuth(true);
    sections.push({
      title: 'curl: upload',
      steps: [
        { text: 'Upload a file (a URL ending in / keeps the file\'s own name):', code: `curl -f ${write}-T file.tar.gz ${site.url}path/to/` },
        ...(repo.kind === 'hosted' ? [{ text: 'Delete a file:', code: `curl -f ${write}-X DELETE ${site.url}path/to/file.tar.gz` }] : []),
        tokenStep(site, 'write', repo.name),
      ],
    });
  } else {
    sections.push(noUploads('curl: upload', repo));
  }
  return sections;
}
