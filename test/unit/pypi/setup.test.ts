import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SetupSection } from '../../../src/core/format-plugin.ts';
import { pypiSetup } from '../../../src/formats/pypi/setup.ts';

const site = (url: string, o: { private?: boolean; uploads?: boolean } = {}) => ({ server: new URL('/', url).toString(), url, private: o.private ?? false, uploads: o.uploads ?? true });
const code = (sections: SetupSection[], title: string, file?: string) =>
  sections.find((s) => s.title === title)!.steps.filter((s) => (file ? s.file === file : s.code !== undefined)).map((s) => s.code!);

test('pip: --index-url and pip.conf name the simple index; no credentials for a public repository', () => {
  const s = pypiSetup({ name: 'team', kind: 'hosted' }, site('http://127.0.0.1:8080/team/'));
  assert.deepEqual(code(s, 'pip', '~/.config/pip/pip.conf'), ['[global]\nindex-url = http://127.0.0.1:8080/team/simple/\n']);
  assert.equal(code(s, 'pip')[0], 'pip install --index-url http://127.0.0.1:8080/team/simple/ PACKAGE');
  assert.ok(!JSON.stringify(s.find((x) => x.title === 'pip')).includes('YOUR_TOKEN'));
});

test('pip: a private repository puts placeholder credentials in the URL and says how to get a token', () => {
  const s = pypiSetup({ name: 'secret', kind: 'hosted' }, site('https://pkgs.example.org/secret/', { private: true }));
  assert.deepEqual(code(s, 'pip', '~/.config/pip/pip.conf'), ['[global]\nindex-url = https://__token__:YOUR_TOKEN@pkgs.example.org/secret/simple/\n']);
  const pip = s.find((x) => x.title === 'pip')!;
  assert.ok(pip.steps.some((st) => st.code?.includes('wharf token create --name secret-read --repo secret --permission read')));
  assert.ok(pip.steps.some((st) => st.code?.startsWith('WHARF_URL=https://pkgs.example.org/ ')));
});

test('pip: plain HTTP to a host other than localhost needs trusted-host; HTTPS and loopback do not', () => {
  const remote = pypiSetup({ name: 'x', kind: 'hosted' }, site('http://pkgs.internal:8126/x/'));
  assert.deepEqual(code(remote, 'pip', '~/.config/pip/pip.conf'), ['[global]\nindex-url = http://pkgs.internal:8126/x/simple/\ntrusted-host = pkgs.internal:8126\n']);
  assert.match(code(remote, 'pip')[0], /^pip install --trusted-host pkgs\.internal:8126 --index-url /);
  for (const url of ['https://pkgs.internal/x/', 'http://localhost:1/x/', 'http://127.0.0.2:1/x/', 'http://[::1]:1/x/']) {
    assert.ok(!JSON.stringify(pypiSetup({ name: 'x', kind: 'hosted' }, site(url))).includes('trusted-host'), url);
  }
});

test('twine: a .pypirc section named after the repository, for hosted repositories and groups that take uploads', () => {
  const s = pypiSetup({ name: 'cu121', kind: 'group' }, site('http://127.0.0.1:8080/cu121/'));
  assert.deepEqual(code(s, 'twine', '~/.pypirc'), ['[distutils]\nindex-servers = cu121\n\n[cu121]\nrepository = http://127.0.0.1:8080/cu121/\nusername = __token__\npassword = YOUR_TOKEN\n']);
  assert.ok(code(s, 'twine').includes('twine upload --repository cu121 dist/*'));
  const proxy = pypiSetup({ name: 'pypi-org', kind: 'proxy' }, site('http://127.0.0.1:8080/pypi-org/', { uploads: false }));
  assert.deepEqual(code(proxy, 'twine'), []);
  assert.match(proxy.find((x) => x.title === 'twine')!.steps[0].text, /proxy: it takes no uploads/);
});

test('uv: a [[tool.uv.index]] entry with publish-url when uploads are taken, credentials variables for a private one', () => {
  const hosted = pypiSetup({ name: 'team', kind: 'hosted' }, site('http://127.0.0.1:8080/team/'));
  assert.deepEqual(code(hosted, 'uv', 'pyproject.toml'), ['[[tool.uv.index]]\nname = "team"\nurl = "http://127.0.0.1:8080/team/simple/"\npublish-url = "http://127.0.0.1:8080/team/"\ndefault = true\n']);
  assert.ok(code(hosted, 'uv').includes('uv publish --index team --token YOUR_TOKEN'));
  assert.ok(code(hosted, 'uv').includes('uv pip install --index-url http://127.0.0.1:8080/team/simple/ PACKAGE'));
  assert.ok(!code(hosted, 'uv').some((c) => c.includes('UV_INDEX_')), 'a public index needs no credentials to read');
  const secret = pypiSetup({ name: 'cu-121.x', kind: 'proxy' }, site('https://pkgs.example.org/cu-121.x/', { private: true, uploads: false }));
  assert.deepEqual(code(secret, 'uv', 'pyproject.toml'), ['[[tool.uv.index]]\nname = "cu-121.x"\nurl = "https://pkgs.example.org/cu-121.x/simple/"\ndefault = true\n']);
  assert.ok(code(secret, 'uv').includes('export UV_INDEX_CU_121_X_USERNAME=__token__\nexport UV_INDEX_CU_121_X_PASSWORD=YOUR_TOKEN'));
  assert.ok(!code(secret, 'uv').some((c) => c.startsWith('uv publish')), 'a proxy takes no uploads');
  const remote = pypiSetup({ name: 'x', kind: 'hosted' }, site('http://pkgs.internal:8126/x/'));
  assert.ok(code(remote, 'uv').includes('export UV_INSECURE_HOST=pkgs.internal:8126'));
});
