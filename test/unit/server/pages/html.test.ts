import assert from 'node:assert/strict';
import { test } from 'node:test';
import { html, raw } from '../../../../src/server/pages/html.ts';
import { wantsPage } from '../../../../src/server/pages/negotiate.ts';

test('every interpolated value is escaped, in text and in attributes', () => {
  const hostile = `<script>alert(1)</script>" onerror="x' &amp;`;
  const out = html`<a href="${hostile}" title='${hostile}'>${hostile}</a>`.value;
  assert.equal(out, `<a href="&lt;script&gt;alert(1)&lt;/script&gt;&quot; onerror=&quot;x&#39; &amp;amp;" title='&lt;script&gt;alert(1)&lt;/script&gt;&quot; onerror=&quot;x&#39; &amp;amp;'>&lt;script&gt;alert(1)&lt;/script&gt;&quot; onerror=&quot;x&#39; &amp;amp;</a>`);
  assert.ok(!/<script|onerror="/.test(out));
});

test('Html values nest without being escaped twice; lists join; nothing renders empty', () => {
  const item = (s: string) => html`<li>${s}</li>`;
  const out = html`<ul>${['a<b', 'c&d'].map(item)}</ul>${null}${undefined}${false}${0}`.value;
  assert.equal(out, '<ul><li>a&lt;b</li><li>c&amp;d</li></ul>0');
  assert.equal(html`${raw('<b>kept</b>')}`.value, '<b>kept</b>');
  // A string that looks like markup is still text: only Html objects are trusted.
  assert.equal(html`${'<b>x</b>'}`.value, '&lt;b&gt;x&lt;/b&gt;');
  assert.equal(String(html`<i>${'&'}</i>`), '<i>&amp;</i>');
});

test('pages go to browsers; pip, apt, pacman, curl and API clients keep their answers', () => {
  // Chromium, Firefox, Safari.
  assert.equal(wantsPage('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'), true);
  assert.equal(wantsPage('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true);
  assert.equal(wantsPage('TEXT/HTML'), true);
  // pip (PEP 691), pip older than 22.2 asks pages under /simple/ only, never the repository root.
  assert.equal(wantsPage('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'), false);
  assert.equal(wantsPage('application/vnd.pypi.simple.v1+html, text/html'), false);
  // curl, apt, pacman (libcurl: */* or nothing), API clients.
  assert.equal(wantsPage('*/*'), false);
  assert.equal(wantsPage(undefined), false);
  assert.equal(wantsPage(''), false);
  assert.equal(wantsPage('application/json'), false);
  assert.equal(wantsPage('text/*'), false);
  // Refused explicitly.
  assert.equal(wantsPage('text/html;q=0, */*'), false);
  assert.equal(wantsPage('text/html;q=0.5, application/json'), true);
});
