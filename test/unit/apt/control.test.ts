import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { ControlStanza, parseControl, parseStanzas, serializeStanza, serializeStanzas } from '../../../src/formats/apt/control.ts';

const rejects = (text: string, pattern: RegExp) =>
  assert.throws(() => parseStanzas(text), (err: unknown) => isWharfError(err) && err.code === 'INVALID_PACKAGE' && pattern.test(err.message));

test('fields keep their order and are looked up without regard to case', () => {
  const s = parseControl('Package: hello\nVersion: 1.0-1\narchitecture: amd64\nX-Odd_Field.v2: yes\n');
  assert.deepEqual(s.names, ['Package', 'Version', 'architecture', 'X-Odd_Field.v2']);
  assert.equal(s.get('PACKAGE'), 'hello');
  assert.equal(s.get('Architecture'), 'amd64');
  assert.equal(s.get('x-odd_field.V2'), 'yes');
  assert.equal(s.get('Depends'), undefined);
  assert.equal(s.has('version'), true);
});

test('continuation lines form dpkg\'s logical value; " ." is an empty line', () => {
  const s = parseControl([
    'Package: hello',
    'Description: a short synopsis   ',
    ' First paragraph,',
    '  indented (verbatim) line.',
    ' .',
    ' ..',
    '\tSecond paragraph after a tab.',
    'Conffiles:',
    ' /etc/hello.conf 0123456789abcdef0123456789abcdef',
    '',
  ].join('\n'));
  assert.equal(s.get('Description'), 'a short synopsis\nFirst paragraph,\n indented (verbatim) line.\n\n.\nSecond paragraph after a tab.');
  assert.equal(s.get('Conffiles'), '\n/etc/hello.conf 0123456789abcdef0123456789abcdef');
});

test('comments are dropped wherever they stand, as dpkg does', () => {
  const s = parseControl('# leading comment\nPackage: a1\n# inside\nDescription: x\n# between continuation lines\n more\n');
  assert.deepEqual(s.toObject(), { Package: 'a1', Description: 'x\nmore' });
});

test('CRLF line ends and trailing whitespace are tolerated; spaces around the colon are not part of name or value', () => {
  const s = parseControl('Package : hello\t\r\nVersion:1.0\r\nDepends:   libc6 (>= 2.3)  \r\n');
  assert.deepEqual(s.toObject(), { Package: 'hello', Version: '1.0', Depends: 'libc6 (>= 2.3)' });
});

test('an empty value is kept', () => {
  const s = parseControl('Package: a1\nX-Empty:\n');
  assert.equal(s.get('X-Empty'), '');
  assert.equal(serializeStanza(s), 'Package: a1\nX-Empty:\n');
});

test('several stanzas, separated by blank or whitespace-only lines', () => {
  const stanzas = parseStanzas('\n\nPackage: a1\nVersion: 1\n\n \t\n\nPackage: b2\n# c\n\nPackage: c3\n');
  assert.deepEqual(stanzas.map((s) => s.get('Package')), ['a1', 'b2', 'c3']);
  assert.deepEqual(parseStanzas(''), []);
  assert.deepEqual(parseStanzas('# only a comment\n\n'), []);
});

test('parseControl wants exactly one stanza', () => {
  assert.throws(() => parseControl(''), /empty/);
  assert.throws(() => parseControl('Package: a1\n\nPackage: b2\n'), /more than one stanza/);
});

test('malformed input is refused with the line number', () => {
  rejects('Package: a1\nPackage: a2\n', /line 2: duplicate field Package/);
  rejects('Package: a1\npackage: a2\n', /duplicate field package/);
  rejects(' continued\n', /line 1: continuation line outside a field/);
  rejects('Package: a1\n\n continued\n', /line 3: continuation/);
  rejects('Package: a1\nno colon here\n', /line 2: expected "Field: value"/);
  rejects('Package: a1\n-Dash: x\n', /invalid field name/);
  rejects(': value\n', /expected "Field: value"/);
  rejects('Two words: x\n', /invalid field name/);
});

test('serialising writes dpkg\'s layout and escapes empty and dot-only lines', () => {
  const s = new ControlStanza([
    ['Package', 'hello'],
    ['Description', 'synopsis\nline one\n\n.\n  two spaces'],
    ['Conffiles', '\n/etc/a 1'],
  ]);
  assert.equal(serializeStanza(s), 'Package: hello\nDescription: synopsis\n line one\n .\n ..\n   two spaces\nConffiles:\n /etc/a 1\n');
  assert.equal(serializeStanzas([s, [['Package', 'x1']]]), `${serializeStanza(s)}\nPackage: x1\n`);
});

test('odd real-world fields round-trip byte for byte', () => {
  const text = [
    'Package: libodd0.1+git~x',
    'Source: odd (1:0.1-2)',
    'Version: 1:0.1+git20240101.abc~rc1-2+b1',
    'Architecture: amd64',
    'X-Cargo-Built-Using: rust-a (= 1.0), rust-b (= 2.0)',
    'Built-Using: gcc-12 (= 12.2.0-14)',
    'Tag: devel::library, implemented-in::c,',
    ' role::devel-lib',
    'Original-Maintainer: Ünïcödé Person <u@example.org>',
    'Description: odd package: with a colon',
    ' Text with a URL http://example.com/a:b and trailing dots...',
    ' .',
    '  * a verbatim bullet',
    ' ..',
    'Python-Version: >= 3.9',
    'Ruby-Versions: all',
    'X-Empty:',
    'Multiline-First-Empty:',
    ' line',
    '',
  ].join('\n');
  const parsed = parseControl(text);
  assert.equal(serializeStanza(parsed), text);
  assert.equal(parsed.get('original-maintainer'), 'Ünïcödé Person <u@example.org>');
});

test('parse(serialize(x)) is x for generated stanzas', () => {
  // A small deterministic generator (no Math.random, so a failure reproduces).
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const chars = 'abcXYZ019 .:-~+#/()\t,';
  const word = (n: number) => Array.from({ length: n }, () => chars[rand(chars.length)]).join('');
  for (let i = 0; i < 300; i++) {
    const s = new ControlStanza();
    const count = 1 + rand(6);
    for (let f = 0; f < count; f++) {
      const name = `F${f}-${'abc'[rand(3)]}`;
      const lines = Array.from({ length: 1 + rand(4) }, () => word(rand(12)).trim());
      s.set(name, lines.join('\n'));
    }
    const again = parseControl(serializeStanza(s));
    assert.deepEqual([...again], [...s], serializeStanza(s));
  }
});

test('ControlStanza: set keeps position and spelling, delete, clone, iteration', () => {
  const s = new ControlStanza([['Package', 'a1'], ['Version', '1']]);
  s.set('package', 'b2').set('Depends', 'c');
  assert.deepEqual([...s], [['Package', 'b2'], ['Version', '1'], ['Depends', 'c']]);
  const copy = s.clone();
  assert.equal(s.delete('VERSION'), true);
  assert.equal(s.delete('Version'), false);
  assert.equal(s.size, 2);
  assert.equal(copy.get('version'), '1');
  assert.throws(() => s.set('bad name', 'x'), TypeError);
  assert.throws(() => s.set('#x', 'x'), TypeError);
});
