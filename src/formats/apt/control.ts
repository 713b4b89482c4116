// deb822 control data: the syntax of DEBIAN/control, Packages, Release and friends.
// Parsing follows dpkg's Dpkg::Control::HashCore so that what dpkg accepts we accept:
// `#` comment lines are dropped, trailing whitespace is trimmed, a whitespace-only line
// ends a stanza, field names are case-insensitive and may not repeat.
//
// Values are kept in dpkg's logical form: the first line as written after `Name:`,
// each continuation line without its one leading space, and a continuation line of
// dots loses one dot (" ." is an empty line). `serializeStanza` reverses this exactly.
import { invalidPackage } from '../../core/errors.ts';

/** A field name as deb822 allows it: printable ASCII without `:`, not starting with `#` or `-`. */
const FIELD_NAME = /^[!-9;-~]+$/;

export function isValidFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && name[0] !== '#' && name[0] !== '-';
}

/**
 * One deb822 stanza (paragraph): fields in their original order, looked up without
 * regard to case. Iterating yields `[name, value]` with the name spelled as given.
 */
export class ControlStanza implements Iterable<[string, string]> {
  // Keyed by lower-cased name; Map keeps insertion order, which is the field order.
  readonly #fields = new Map<string, { name: string; value: string }>();

  constructor(fields?: Iterable<readonly [string, string]>) {
    if (fields) for (const [name, value] of fields) this.set(name, value);
  }

  get(name: string): string | undefined {
    return this.#fields.get(name.toLowerCase())?.value;
  }

  has(name: string): boolean {
    return this.#fields.has(name.toLowerCase());
  }

  /** Set a field. An existing field keeps its position and its spelling; a new one goes last. */
  set(name: string, value: string): this {
    if (!isValidFieldName(name)) throw new TypeError(`invalid control field name: ${JSON.stringify(name)}`);
    const key = name.toLowerCase();
    const existing = this.#fields.get(key);
    if (existing) existing.value = value;
    else this.#fields.set(key, { name, value });
    return this;
  }

  delete(name: string): boolean {
    return this.#fields.delete(name.toLowerCase());
  }

  /** Field names in order, spelled as given. */
  get names(): string[] {
    return [...this.#fields.values()].map((f) => f.name);
  }

  get size(): number {
    return this.#fields.size;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const f of this.#fields.values()) yield [f.name, f.value];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** A plain object `{ Name: value }` in field order (for JSON metadata). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.#fields.values()) out[f.name] = f.value;
    return out;
  }

  clone(): ControlStanza {
    return new ControlStanza(this.entries());
  }
}

/**
 * Parse every stanza of a deb822 text (a Packages file, a Sources file...).
 * Throws `invalidPackage` with a line number on malformed input.
 */
export function parseStanzas(text: string): ControlStanza[] {
  const stanzas: ControlStanza[] = [];
  let current: ControlStanza | null = null;
  let currentName: string | null = null;
  const lines = text.split('\n');
  // A final newline does not start another (empty) line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\s+$/, '');
    const fail = (why: string) => invalidPackage(`control data line ${i + 1}: ${why}`);

    if (line.length === 0) {
      // Blank (or whitespace-only) lines separate stanzas; several in a row are one break.
      current = null;
      currentName = null;
      continue;
    }
    if (line[0] === '#') continue;

    if (line[0] === ' ' || line[0] === '\t') {
      if (!current || currentName === null) throw fail('continuation line outside a field');
      let cont = line.slice(1);
      if (/^\.+$/.test(cont)) cont = cont.slice(1);
      current.set(currentName, `${current.get(currentName)}\n${cont}`);
      continue;
    }

    const colon = line.indexOf(':');
    if (colon <= 0) throw fail('expected "Field: value"');
    const name = line.slice(0, colon).replace(/\s+$/, '');
    if (!isValidFieldName(name)) throw fail(`invalid field name ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).replace(/^\s+/, '');
    if (!current) {
      current = new ControlStanza();
      stanzas.push(current);
    }
    if (current.has(name)) throw fail(`duplicate field ${name}`);
    current.set(name, value);
    currentName = name;
  }
  return stanzas;
}

/** Parse a text that must hold exactly one stanza (a .deb's control file). */
export function parseControl(text: string): ControlStanza {
  const stanzas = parseStanzas(text);
  if (stanzas.length === 0) throw invalidPackage('control data is empty');
  if (stanzas.length > 1) throw invalidPackage('control data has more than one stanza');
  return stanzas[0];
}

/** Format one field the way dpkg writes it (no trailing blank line). */
export function serializeField(name: string, value: string): string {
  const [first, ...rest] = value.split('\n');
  let out = first.length > 0 ? `${name}: ${first.replace(/\s+$/, '')}\n` : `${name}:\n`;
  for (const raw of rest) {
    const line = raw.replace(/\s+$/, '');
    // Empty lines and lines of dots get one extra dot so they survive parsing.
    out += line.length === 0 || /^\.+$/.test(line) ? ` .${line}\n` : ` ${line}\n`;
  }
  return out;
}

/** Serialise one stanza: `Name: value` lines, each ending in `\n`, without a blank line after. */
export function serializeStanza(fields: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [name, value] of fields) {
    if (!isValidFieldName(name)) throw new TypeError(`invalid control field name: ${JSON.stringify(name)}`);
    out += serializeField(name, value);
  }
  return out;
}

/** Serialise several stanzas, separated by one blank line. */
export function serializeStanzas(stanzas: Iterable<Iterable<readonly [string, string]>>): string {
  return [...stanzas].map((s) => serializeStanza(s)).join('\n');
}
