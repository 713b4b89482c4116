import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filesSetup } from '../../../src/formats/files/setup.ts';

const site = (url: string, o: { private?: boolean; uploads?: boolean } = {}) => ({ server: new URL('/', url).toString(), url, private: o.private ?? false, uploads: o.uploads ?? true });
const codes = (s: ReturnType<typeof filesSetup>) => s.flatMap((x) => x.steps.map((st) => st.code).filter((c): c is string => c !== undefined));

test('curl: download without credentials from a public repository, upload with PUT (-T) and credentials', () => {
  const c = codes(filesSetup({ name: 'tarballs', kind: 'hosted' }, site('http://127.0.0.1:8034/tarballs/')));
  assert.ok(c.includes('curl -fO http://127.0.0.1:8034/tarballs/path/to/file.tar.gz'));
  assert.ok(c.includes('curl -f -u __token__:YOUR_TOKEN -T file.tar.gz http://127.0.0.1:8034/tarballs/path/to/'));
  assert.ok(c.includes('curl -f -u __token__:YOUR_TOKEN -X DELETE http://127.0.0.1:8034/tarballs/path/to/file.tar.gz'));
});

test('curl: a private repository needs credentials to download; a proxy takes no uploads; a group deletes nothing', () => {
  const priv = codes(filesSetup({ name: 'vault', kind: 'hosted' }, site('http://h/vault/', { private: true })));
  assert.ok(priv.includes('curl -fO -u __token__:YOUR_TOKEN http://h/vault/path/to/file.tar.gz'));
  const proxy = filesSetup({ name: 'mirror', kind: 'proxy' }, site('http://h/mirror/', { uploads: false }));
  assert.ok(!codes(proxy).some((c) => c.includes('-T ')));
  assert.match(proxy[1].steps[0].text, /proxy/);
  const group = codes(filesSetup({ name: 'all', kind: 'group' }, site('http://h/all/')));
  assert.ok(group.some((c) => c.includes('-T file.tar.gz http://h/all/path/to/')));
  assert.ok(!group.some((c) => c.includes('DELETE')));
});
