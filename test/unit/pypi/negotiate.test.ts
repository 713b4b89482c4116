import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentTypeFor, formatFromParam, MEDIA_JSON_V1, negotiateSimpleFormat } from '../../../src/formats/pypi/negotiate.ts';

const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

test('pip, browsers, curl and missing headers', () => {
  assert.equal(negotiateSimpleFormat(PIP_ACCEPT), 'json');
  assert.equal(negotiateSimpleFormat('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), 'html');
  assert.equal(negotiateSimpleFormat('*/*'), 'html');
  assert.equal(negotiateSimpleFormat(undefined), 'html');
  assert.equal(negotiateSimpleFormat(''), 'html');
  assert.equal(negotiateSimpleFormat('   '), 'html');
});

test('q-values decide, then server preference (JSON v1 first)', () => {
  assert.equal(negotiateSimpleFormat('application/vnd.pypi.simple.v1+json;q=0.5, text/html'), 'html');
  assert.equal(negotiateSimpleFormat('text/html;q=0.5, application/vnd.pypi.simple.latest+json;q=0.6'), 'json');
  assert.equal(negotiateSimpleFormat('text/html, application/vnd.pypi.simple.v1+json'), 'json');
  assert.equal(negotiateSimpleFormat('application/vnd.pypi.simple.latest+html'), 'html');
  assert.equal(negotiateSimpleFormat('APPLICATION/VND.PYPI.SIMPLE.V1+JSON'), 'json');
  // A wildcard never picks JSON over an explicit HTML type of equal weight.
  assert.equal(negotiateSimpleFormat('*/*, text/html'), 'html');
  assert.equal(negotiateSimpleFormat('text/*'), 'html');
  assert.equal(negotiateSimpleFormat('application/*;q=0.3, text/html;q=0.2'), 'html');
  // The most specific range sets an offer's q: text/html is excluded despite text/*.
  assert.equal(negotiateSimpleFormat('text/*;q=0.9, text/html;q=0, application/vnd.pypi.simple.v1+json;q=0.1'), 'json');
  assert.equal(negotiateSimpleFormat('*/*;q=0.1, application/vnd.pypi.simple.v1+json;q=0.5'), 'json');
  assert.equal(negotiateSimpleFormat('*/*;q=0.8, application/vnd.pypi.simple.v1+json;q=0.5'), 'html');
});

test('nothing acceptable: null (406)', () => {
  assert.equal(negotiateSimpleFormat('application/json'), null);
  assert.equal(negotiateSimpleFormat('application/vnd.pypi.simple.v2+json'), null);
  assert.equal(negotiateSimpleFormat('text/html;q=0'), null);
  assert.equal(negotiateSimpleFormat('*/*;q=0'), null);
  assert.equal(negotiateSimpleFormat('application/vnd.pypi.simple.v1+json;q=0, text/plain'), null);
  assert.equal(negotiateSimpleFormat('image/png, text/html;q=abc'), null);
});

test('?format= overrides Accept when valid', () => {
  assert.equal(negotiateSimpleFormat('text/html', 'json'), 'json');
  assert.equal(negotiateSimpleFormat(PIP_ACCEPT, 'html'), 'html');
  assert.equal(negotiateSimpleFormat('application/json', MEDIA_JSON_V1), 'json');
  assert.equal(negotiateSimpleFormat('application/json', 'text/html'), 'html');
  assert.equal(negotiateSimpleFormat(PIP_ACCEPT, 'yaml'), 'json');
  assert.equal(negotiateSimpleFormat('application/json', 'bogus'), null);
  assert.equal(formatFromParam('application/vnd.pypi.simple.latest+json'), 'json');
  assert.equal(formatFromParam(undefined), null);
});

test('content types', () => {
  assert.equal(contentTypeFor('json'), 'application/vnd.pypi.simple.v1+json');
  assert.equal(contentTypeFor('html'), 'text/html; charset=utf-8');
});
