import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContents } from '../../../src/formats/apt/contents.ts';

test('Contents lines: path padded to 55 columns, then section/package list', () => {
  const text = buildContents([
    { section: 'utils', name: 'hello', files: ['usr/bin/hello', 'usr/share/doc/hello/copyright'] },
    { section: 'contrib/net', name: 'hello-net', files: ['./usr/bin/hello', 'usr/lib/hello-net/a'] },
    { name: 'nosection', files: ['/etc/nosection.conf'] },
  ]);
  assert.equal(text, [
    `${'etc/nosection.conf'.padEnd(55)} nosection`,
    `${'usr/bin/hello'.padEnd(55)} contrib/net/hello-net,utils/hello`,
    `${'usr/lib/hello-net/a'.padEnd(55)} contrib/net/hello-net`,
    `${'usr/share/doc/hello/copyright'.padEnd(55)} utils/hello`,
    '',
  ].join('\n'));
});

test('long paths still have a separating space; duplicates collapse; empty input is empty', () => {
  const long = `usr/share/${'x'.repeat(80)}`;
  const text = buildContents([
    { section: 'misc', name: 'a1', files: [long, long] },
    { section: 'misc', name: 'a1', files: [long] },
  ]);
  assert.equal(text, `${long} misc/a1\n`);
  assert.equal(buildContents([]), '');
});

test('each line splits the way apt-file reads it (last whitespace run)', () => {
  const text = buildContents([{ section: 'doc', name: 'spaces', files: ['usr/share/doc/a file with spaces'] }]);
  const m = /^(.+?)\s+(\S+)$/.exec(text.trimEnd());
  assert.deepEqual([m?.[1], m?.[2]], ['usr/share/doc/a file with spaces', 'doc/spaces']);
});
