// pip's requirements.txt, read the way pip 23's req_file.py reads it: `\` line
// joins, `#` comments, then each line split into requirement text and options at
// the first token starting with `-`. What a mirror cannot act on (nested files,
// editables, paths, URLs, index options) is returned in `ignored` with the reason.
import { badRequest, isWharfError } from '../../../core/errors.ts';
import { parseRequirement, type Requirement } from './requirement.ts';

export interface IgnoredLine {
  /** 1-based number of the (first physical) line. */
  line: number;
  text: string;
  reason: string;
}

export interface NestedFile {
  kind: 'requirements' | 'constraints';
  path: string;
  line: number;
}

export interface RequirementsFile {
  requirements: Requirement[];
  ignored: IgnoredLine[];
  /** `-r`/`-c` references, for a caller that can read those files too. */
  nested: NestedFile[];
  /** The file says `--pre`. */
  pre: boolean;
}

const COMMENT_RE = /(^|\s+)#.*$/;
const COMMENT_START_RE = /^\s*#/;
const ARCHIVE_RE = /\.(whl|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar|zip)$/i;
const ENV_VAR_RE = /\$\{[A-Z0-9_]+\}/;
const URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Physical lines joined at trailing backslashes; a comment line ends a join (as in pip). */
function joinLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: string[] = [];
  let first = 0;
  text.split(/\r\n|\n|\r/).forEach((raw, index) => {
    const n = index + 1;
    const isComment = COMMENT_START_RE.test(raw);
    if (!raw.endsWith('\\') || isComment) {
      const line = isComment ? ' ' + raw : raw;
      if (pending.length > 0) {
        out.push({ line: first, text: pending.join('') + line });
        pending = [];
      } else {
        out.push({ line: n, text: line });
      }
    } else {
      if (pending.length === 0) first = n;
      pending.push(raw.replace(/^\\+|\\+$/g, ''));
    }
  });
  if (pending.length > 0) out.push({ line: first, text: pending.join('') });
  return out;
}

/** pip's break_args_options: requirement text up to the first token starting with `-`. */
function splitArgsOptions(line: string): { args: string; options: string[] } {
  const tokens = line.split(' ');
  const i = tokens.findIndex((t) => t.startsWith('-'));
  if (i === -1) return { args: line, options: [] };
  return { args: tokens.slice(0, i).join(' ').trim(), options: tokens.slice(i).filter((t) => t !== '') };
}

const OPTION_REASONS: Readonly<Record<string, string>> = {
  '-i': 'index option: the mirror fetches from its proxy repository\'s upstream',
  '--index-url': 'index option: the mirror fetches from its proxy repository\'s upstream',
  '--extra-index-url': 'index option: the mirror fetches from its proxy repository\'s upstream',
  '--no-index': 'index option: the mirror fetches from its proxy repository\'s upstream',
  '-f': 'find-links option: the mirror only fetches from its upstream index',
  '--find-links': 'find-links option: the mirror only fetches from its upstream index',
  '--trusted-host': 'index option: the mirror fetches from its proxy repository\'s upstream',
  '--pre': 'pre-releases are allowed for the whole file (reported as pre: true)',
  '--only-binary': 'binary policy is not applied: choose sdists or not in the sync options',
  '--no-binary': 'binary policy is not applied: choose sdists or not in the sync options',
  '--prefer-binary': 'binary policy is not applied: choose sdists or not in the sync options',
  '--require-hashes': 'hash checking is for pip at install time',
  '--use-feature': 'pip feature flag, not relevant to mirroring',
  '-r': 'nested requirements file is not followed from text alone',
  '--requirement': 'nested requirements file is not followed from text alone',
  '-c': 'constraints file is not followed from text alone',
  '--constraint': 'constraints file is not followed from text alone',
  '-e': 'editable requirement (a local project or VCS checkout) cannot be mirrored',
  '--editable': 'editable requirement (a local project or VCS checkout) cannot be mirrored',
};

/** `--opt=value`, `--opt value`, `-rfile`, `-r file` → [option, value]. */
function splitOption(options: string[], i: number): { name: string; value: string | null; next: number } {
  const token = options[i];
  const eq = token.indexOf('=');
  if (token.startsWith('--')) {
    if (eq !== -1) return { name: token.slice(0, eq), value: token.slice(eq + 1), next: i + 1 };
    const takesValue = !['--pre', '--no-index', '--prefer-binary', '--require-hashes'].includes(token);
    return takesValue && i + 1 < options.length && !options[i + 1].startsWith('-')
      ? { name: token, value: options[i + 1], next: i + 2 }
      : { name: token, value: null, next: i + 1 };
  }
  const name = token.slice(0, 2);
  if (token.length > 2) return { name, value: token.slice(2).replace(/^=/, ''), next: i + 1 };
  return i + 1 < options.length ? { name, value: options[i + 1], next: i + 2 } : { name, value: null, next: i + 1 };
}

function looksLikePathOrUrl(args: string): string | null {
  const head = args.split(';')[0].trim();
  if (URL_RE.test(head)) return 'URL requirement: a mirror only fetches from its upstream index';
  const beforeAt = head.split('@')[0].trim();
  const pathLike = (s: string) => s.includes('/') || s.includes('\\') || s.startsWith('.') || s.startsWith('~');
  if (pathLike(beforeAt) || (!head.includes('@') && ARCHIVE_RE.test(head))) {
    return 'local path requirement: a mirror only fetches from its upstream index';
  }
  return null;
}

/** Parse a requirements file. Throws `badRequest` naming the line of an invalid requirement. */
export function parseRequirementsFile(text: string): RequirementsFile {
  const result: RequirementsFile = { requirements: [], ignored: [], nested: [], pre: false };
  for (const joined of joinLines(text)) {
    const line = joined.text.replace(COMMENT_RE, '').trim();
    if (line === '') continue;
    const { args, options } = splitArgsOptions(line);

    if (args !== '') {
      const envVar = ENV_VAR_RE.exec(args);
      if (envVar) {
        // pip expands these from its own environment; the server cannot know them.
        result.ignored.push({ line: joined.line, text: line, reason: `uses environment variable ${envVar[0]}, which is not expanded here` });
        continue;
      }
      const pathReason = looksLikePathOrUrl(args);
      if (pathReason) {
        result.ignored.push({ line: joined.line, text: line, reason: pathReason });
        continue;
      }
      let req: Requirement;
      try {
        req = parseRequirement(args);
      } catch (err) {
        if (isWharfError(err)) throw badRequest(`requirements file line ${joined.line}: ${err.message}`);
        throw err;
      }
      if (req.url !== undefined) {
        result.ignored.push({ line: joined.line, text: line, reason: 'direct URL reference: a mirror only fetches from its upstream index' });
        continue;
      }
      result.requirements.push(req);
      // --hash is for pip at install time; anything else on a requirement line is reported.
      const other = options.filter((o) => !o.startsWith('--hash'));
      if (other.length > 0) {
        result.ignored.push({ line: joined.line, text: line, reason: `per-requirement options ignored: ${other.join(' ')}` });
      }
      continue;
    }

    const reasons: string[] = [];
    for (let i = 0; i < options.length;) {
      const { name, value, next } = splitOption(options, i);
      i = next;
      if (name === '--pre') result.pre = true;
      if ((name === '-r' || name === '--requirement' || name === '-c' || name === '--constraint') && value) {
        result.nested.push({ kind: name === '-c' || name === '--constraint' ? 'constraints' : 'requirements', path: value, line: joined.line });
      }
      const reason = OPTION_REASONS[name] ?? `unknown option ${name}`;
      if (!reasons.includes(reason)) reasons.push(reason);
    }
    result.ignored.push({ line: joined.line, text: line, reason: reasons.join('; ') });
  }
  return result;
}
