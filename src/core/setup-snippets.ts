// Pieces every format's set-up snippets share: credentials placeholders (never a real secret)
// and where a token comes from.
import type { SetupSection, SetupSite, SetupStep } from './format-plugin.ts';
import type { Repository } from './model.ts';

/** The user name tokens go with (any name works; `__token__` says what the password is). */
export const TOKEN_USER = '__token__';
/** Stands for the viewer's token in every snippet. */
export const TOKEN_PLACEHOLDER = 'YOUR_TOKEN';

/** `url` with the placeholder credentials in it, as pip and pacman take them. */
export function withCredentials(url: string): string {
  const u = new URL(url);
  u.username = TOKEN_USER;
  u.password = TOKEN_PLACEHOLDER;
  return u.toString();
}

/** curl's option for the placeholder credentials, with a trailing space; '' when none are needed. */
export function curlAuth(needed: boolean): string {
  return needed ? `-u ${TOKEN_USER}:${TOKEN_PLACEHOLDER} ` : '';
}

/** The URL without its trailing slash (APT's URIs, pacman's Server). */
export const withoutSlash = (url: string) => url.replace(/\/+$/, '');

/** The step that says where YOUR_TOKEN comes from. */
export function tokenStep(site: SetupSite, permission: 'read' | 'write', repoName: string): SetupStep {
  return {
    text: `Replace ${TOKEN_PLACEHOLDER} with a token that may ${permission === 'read' ? 'read' : 'write to'} ${repoName}: with WHARF_USER and WHARF_PASSWORD `
      + `set to your login, this command prints one, once (your user name and password work too, in place of ${TOKEN_USER} and ${TOKEN_PLACEHOLDER}).`,
    code: `WHARF_URL=${site.server} wharf token create --name ${repoName}-${permission} --repo ${repoName} --permission ${permission}`,
    about: 'token',
  };
}

/** Snippets with a real token in place of YOUR_TOKEN (a token just made, shown once), without the step that says how to make one. */
export function fillToken(sections: SetupSection[], token: string): SetupSection[] {
  const fill = (s: string) => s.split(TOKEN_PLACEHOLDER).join(token);
  return sections.map((sec) => ({
    title: sec.title,
    steps: sec.steps.filter((st) => st.about !== 'token').map((st) => ({ ...st, text: fill(st.text), ...(st.code !== undefined ? { code: fill(st.code) } : {}) })),
  }));
}

/** The section that says a repository takes no uploads (a proxy, a group without uploadTo). */
export function noUploads(title: string, repo: Pick<Repository, 'name' | 'kind'>): SetupSection {
  return {
    title,
    steps: [{ text: repo.kind === 'proxy' ? `${repo.name} is a proxy: it takes no uploads. Upload to a hosted repository.` : `${repo.name} has no upload member: upload to one of its hosted members.` }],
  };
}
