// PEP 508 dependency specifiers: `name[extra1,extra2] (>=1,<2) ; marker` and
// `name @ url ; marker`. Used for the roots of a mirror sync and for every
// Requires-Dist line of the core metadata it reads.
import { badRequest } from '../../../core/errors.ts';
import { normalizeName } from '../names.ts';
import { formatMarker, parseMarker, type Marker } from './markers.ts';
import { formatSpecifier, parseSpecifier } from './specifier.ts';

export interface Requirement {
  /** The name as written. */
  name: string;
  normalizedName: string;
  /** Normalised extra names, sorted, without duplicates. */
  extras: string[];
  /** Comma-separated clauses without spaces; '' for any version. */
  specifier: string;
  marker: Marker | null;
  /** Set for `name @ url`: a direct reference a mirror cannot follow. */
  url?: string;
}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;

/** Parse one PEP 508 requirement; throws `badRequest` saying what is wrong. */
export function parseRequirement(line: string): Requirement {
  const text = line.trim();
  const fail = (why: string): never => {
    throw badRequest(`invalid requirement ${JSON.stringify(text)}: ${why}`);
  };
  if (text === '') fail('empty');
  const nameMatch = NAME_RE.exec(text);
  if (!nameMatch) fail('expected a project name first');
  const name = nameMatch![0];
  let rest = text.slice(name.length).trimStart();

  const extras: string[] = [];
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) fail('missing "]" after the extras');
    const inner = rest.slice(1, close).trim();
    if (inner !== '') {
      for (const raw of inner.split(',')) {
        const extra = raw.trim();
        if (!NAME_RE.test(extra) || NAME_RE.exec(extra)![0] !== extra) fail(`invalid extra name ${JSON.stringify(extra)}`);
        extras.push(normalizeName(extra));
      }
    }
    rest = rest.slice(close + 1).trimStart();
  }

  let specifier = '';
  let url: string | undefined;
  let markerText: string | null = null;
  if (rest.startsWith('@')) {
    // The URL runs to whitespace: `;` may be part of it, so a marker needs a space before it.
    const m = /^@\s*(\S+)(.*)$/s.exec(rest);
    if (!m) fail('expected a URL after "@"');
    url = m![1];
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) fail(`${JSON.stringify(url)} is not a URL`);
    const after = m![2].trim();
    if (after !== '') {
      if (!after.startsWith(';')) fail(`unexpected ${JSON.stringify(after)} after the URL`);
      markerText = after.slice(1);
    }
  } else {
    const semi = rest.indexOf(';');
    let spec = (semi === -1 ? rest : rest.slice(0, semi)).trim();
    if (semi !== -1) markerText = rest.slice(semi + 1);
    if (spec.startsWith('(')) {
      if (!spec.endsWith(')')) fail('missing ")" after the version specifier');
      spec = spec.slice(1, -1).trim();
    }
    if (spec !== '') {
      if (!/^(===|~=|==|!=|<=|>=|<|>)/.test(spec)) fail(`unexpected ${JSON.stringify(spec)} (expected a version specifier like ">=1.0", extras in [], or "; marker")`);
      specifier = formatSpecifier(parseSpecifier(spec));
    }
  }

  let marker: Marker | null = null;
  if (markerText !== null) {
    if (markerText.trim() === '') fail('empty marker after ";"');
    marker = parseMarker(markerText);
  }
  return {
    name,
    normalizedName: normalizeName(name),
    extras: [...new Set(extras)].sort(),
    specifier,
    marker,
    ...(url !== undefined ? { url } : {}),
  };
}

/** Canonical PEP 508 text of a requirement. */
export function formatRequirement(req: Requirement): string {
  let s = req.name;
  if (req.extras.length > 0) s += `[${req.extras.join(',')}]`;
  if (req.url !== undefined) s += ` @ ${req.url}${req.marker ? ' ' : ''}`;
  else s += req.specifier;
  if (req.marker) s += `; ${formatMarker(req.marker)}`;
  return s;
}
