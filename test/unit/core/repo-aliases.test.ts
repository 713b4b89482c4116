// A repository's aliases (a migrated devpi index's /<user>/<index>/ URLs): which paths they
// rewrite, and which aliases are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Repository } from '../../../src/core/model.ts';
import { aliasTable, normalizeAliases, rewriteAlias } from '../../../src/core/repo-aliases.ts';

const repo = (name: string, aliases?: string[]) => ({ name, options: aliases ? { aliases } : {} }) as unknown as Repository;

test('rewrites an alias to its repository: +simple/ becomes simple/, the rest and the query stay', () => {
  const table = aliasTable([repo('alice-dev', ['alice/dev']), repo('other')]);
  const names = new Set(['alice-dev', 'other']);
  const rw = (u: string) => rewriteAlias(u, table, (n) => names.has(n));
  assert.equal(rw('/alice/dev/+simple/'), '/alice-dev/simple/');
  assert.equal(rw('/alice/dev/+simple'), '/alice-dev/simple');
  assert.equal(rw('/alice/dev/+simple/beta/?x=1'), '/alice-dev/simple/beta/?x=1');
  assert.equal(rw('/alice/dev/'), '/alice-dev/');
  assert.equal(rw('/alice/dev'), '/alice-dev');
  assert.equal(rw('/alice/dev/packages/beta/beta-2.0-py3-none-any.whl'), '/alice-dev/packages/beta/beta-2.0-py3-none-any.whl');
  assert.equal(rw('/alice/dev/+simplex/'), '/alice-dev/+simplex/');
  for (const u of ['/alice/devx/+simple/', '/alice/', '/other/dev/+simple/', '/-/api/v1/status', '/', '/alice-dev/simple/']) assert.equal(rw(u), undefined, u);
  // A repository created later under the alias's first segment keeps its own URLs.
  assert.equal(rewriteAlias('/alice/dev/', table, (n) => n === 'alice'), undefined);
});

test('refuses an alias that is not user/index, lies under a repository name, or is another repository\'s', () => {
  const repos = [repo('alice-dev', ['alice/dev']), repo('bob')];
  assert.deepEqual(normalizeAliases(['carol/x', 'carol/x'], 'carol-x', repos), ['carol/x']);
  assert.deepEqual(normalizeAliases(['alice/dev'], 'alice-dev', repos), ['alice/dev']);
  for (const bad of ['alice', 'a/b/c', '/a/b', 'a/+simple', 'a b/c'] as const) assert.throws(() => normalizeAliases([bad], 'x', repos), /user\/index/, bad);
  assert.throws(() => normalizeAliases('alice/x', 'x', repos), /list/);
  assert.throws(() => normalizeAliases(['bob/dev'], 'x', repos), /repository bob/);
  assert.throws(() => normalizeAliases(['-/dev'], 'x', repos), /user\/index|repository -/);
  assert.throws(() => normalizeAliases(['alice/dev'], 'x', repos), /already repository alice-dev's/);
});

test('only server administrators give a repository aliases (they claim URLs outside it)', async () => {
  const { optionChangeRefusal } = await import('../../../src/core/auth/repo-options.ts');
  const user = (isAdmin: boolean) => ({ id: 1, name: 'u', isAdmin, passwordHash: '!', createdAt: '' });
  const target = { ...repo('team-dev'), kind: 'hosted' } as Repository;
  const repoAdmin = { kind: 'user', user: user(false), grants: [{ userId: 1, repoPattern: 'team-*', permission: 'admin' }] } as const;
  const serverAdmin = { kind: 'user', user: user(true), grants: [] } as const;
  for (const kind of ['hosted', 'proxy', 'group'] as const) {
    const r = { ...target, kind } as Repository;
    assert.match(String(optionChangeRefusal(repoAdmin as never, r, { aliases: ['team/dev'] }, () => undefined)?.message), /only server administrators change aliases/, kind);
    assert.equal(optionChangeRefusal(serverAdmin as never, r, { aliases: ['team/dev'] }, () => undefined), null, kind);
  }
});
