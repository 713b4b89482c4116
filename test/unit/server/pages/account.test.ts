// Pure parts of the account pages: where a sign-in may send the browser, cookies, form bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeNext } from '../../../../src/server/pages/account.ts';
import { sameToken } from '../../../../src/server/pages/csrf.ts';
import { parseForm } from '../../../../src/server/pages/forms.ts';
import { carriesSession, cookieValue } from '../../../../src/server/pages/session.ts';

describe('safeNext', () => {
  it('keeps paths on this site', () => {
    for (const p of ['/', '/pypi/', '/pypi/?setup', '/-/package/pypi/x#v-1.0', '/a/../b']) assert.equal(safeNext(p), new URL(p, 'http://h').pathname + new URL(p, 'http://h').search + new URL(p, 'http://h').hash, p);
  });
  it('sends anything that could leave the site to /', () => {
    for (const p of ['', 'evil.example', '//evil.example', '///evil.example', 'https://evil.example/', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', '/\n/evil.example', '/\t/evil.example', ' //evil.example', 'HTTPS://evil.example', '/.//evil.example', '/..//evil.example/x', '/a/..//evil.example', '/%2e//evil.example', '/./\\evil.example']) {
      assert.equal(safeNext(p), '/', JSON.stringify(p));
    }
  });
});

describe('cookies and form bodies', () => {
  it('reads one cookie of many', () => {
    assert.equal(cookieValue('a=1; wharf_session=abc; b=2', 'wharf_session'), 'abc');
    assert.equal(cookieValue('xwharf_session=abc', 'wharf_session'), undefined);
    assert.equal(cookieValue(undefined, 'wharf_session'), undefined);
    assert.equal(carriesSession('a=1; wharf_session=abc'), true);
    assert.equal(carriesSession('a=1'), false);
  });
  it('parses urlencoded fields, first value wins, absent is empty', () => {
    const f = parseForm('name=a+b%21&repos=x&repos=y&empty=');
    assert.equal(f.get('name'), 'a b!');
    assert.equal(f.get('repos'), 'x');
    assert.equal(f.get('empty'), '');
    assert.equal(f.get('missing'), '');
    assert.equal(f.has('empty'), true);
  });
  it('compares tokens in full', () => {
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abc', 'abd'), false);
    assert.equal(sameToken('abc', 'abcd'), false);
    assert.equal(sameToken('', ''), false);
    assert.equal(sameToken(undefined, 'a'), false);
  });
});
