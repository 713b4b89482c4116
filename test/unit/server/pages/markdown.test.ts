// Descriptions anyone who uploads can write, rendered for every viewer: whatever they hold,
// the output has no script element, no event handler attribute, no URL with a scheme other
// than http, https or mailto, and the hostile text is still there for the reader, escaped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedUrl, DESCRIPTION_CAP, MARKDOWN_CAP, renderDescription } from '../../../../src/server/pages/markdown.ts';
import { cpuMs } from '../../../helpers/cpu-time.ts';

/** Every tag in the output (text is escaped, so a raw `<` only starts markup). */
const tags = (out: string) => out.match(/<[^>]*>/g) ?? [];

/** The properties every rendering must have, whatever went in. */
function assertInert(out: string) {
  assert.ok(!/<script/i.test(out), `a script element in ${out.slice(0, 300)}`);
  assert.ok(!/<(iframe|object|embed|img|svg|math|style|form|input|base|meta|link)\b/i.test(out), `an active element in ${out.slice(0, 300)}`);
  for (const tag of tags(out)) {
    assert.ok(!/\son\w+\s*=/i.test(tag), `an event handler in ${tag}`);
    assert.ok(!/\sstyle\s*=/i.test(tag), `a style attribute in ${tag}`);
    for (const m of tag.matchAll(/\s(?:href|src|action|formaction|xlink:href)\s*=\s*"([^"]*)"/gi)) {
      const url = m[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
      assert.ok(allowedUrl(url), `a URL that is not allowed in ${tag}`);
      assert.ok(!/^\s*(javascript|vbscript|data):/i.test(url), `a script URL in ${tag}`);
    }
  }
  assert.ok(!/href="\s*(javascript|vbscript|data)/i.test(out));
}

const md = (text: string) => renderDescription({ kind: 'markdown', text }).value;
const plain = (text: string) => renderDescription({ kind: 'text', text }).value;

describe('package descriptions', () => {
  it('renders ordinary Markdown: headings, emphasis, lists, code, links with rel', () => {
    const out = md('# Title\n\nSome *emphasis* and `code`.\n\n- one\n- two\n\n```py\nprint("<hi>")\n```\n\n[docs](https://example.org/docs) and [rel](../other) and [mail](mailto:a@example.org)\n');
    assert.match(out, /<h3>Title<\/h3>/, 'headings start below the page\'s own');
    assert.match(md('###### six'), /<h6>six<\/h6>/);
    assert.match(out, /<em>emphasis<\/em>/);
    assert.match(out, /<li>one<\/li>/);
    assert.match(out, /print\(&quot;&lt;hi&gt;&quot;\)/);
    assert.match(out, /<a href="https:\/\/example\.org\/docs" rel="nofollow noopener noreferrer">docs<\/a>/);
    assert.match(out, /<a href="\.\.\/other" rel="nofollow noopener noreferrer">rel<\/a>/);
    assert.match(out, /<a href="mailto:a@example\.org" rel="nofollow noopener noreferrer">mail<\/a>/);
    assertInert(out);
  });

  it('shows raw HTML as escaped text: script, img onerror, html blocks, inline tags', () => {
    const input = [
      '<script>alert(1)</script>',
      '',
      '<img src=x onerror=alert(1)>',
      '',
      '<div onclick="alert(1)">\n<iframe src="javascript:alert(1)"></iframe>\n</div>',
      '',
      'inline <b onmouseover=alert(1)>bold</b> and <svg/onload=alert(1)>',
      '',
      '<style>body{display:none}</style><form action="https://evil.example"><input name=x></form>',
    ].join('\n');
    const out = md(input);
    assertInert(out);
    assert.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the script is shown as text');
    assert.ok(out.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(out.includes('&lt;b onmouseover=alert(1)&gt;bold&lt;/b&gt;'));
  });

  it('drops links whose URL is not http, https, mailto or relative, however it is spelled', () => {
    const hostile = [
      '[a](javascript:alert(1))',
      '[b](JaVaScRiPt:alert(1))',
      '[c](javascript&#58;alert(1))',
      '[d](javascript&colon;alert(1))',
      '[e](&#106;avascript:alert(1))',
      '[f](java\tscript:alert(1))',
      '[g](%20javascript:alert(1))',
      '[h](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[i](vbscript:msgbox(1))',
      '[j](file:///etc/passwd)',
      '[k]( javascript:alert(1) )',
      '[l](<javascript:alert(1)>)',
      '[m](data:image/png;base64,iVBORw0KGgo=)',
    ];
    for (const line of hostile) {
      const out = md(line);
      assertInert(out);
      assert.ok(!/<a\s/.test(out), `${line} became a link: ${out}`);
    }
  });

  it('checks autolinks, reference links and images the same way; images are links, never loaded', () => {
    const out = md([
      '<javascript:alert(1)> <https://ok.example/> <vbscript:x> <mailto:a@b.example>',
      '',
      '[ref][r1] and [bad][r2] and [worse][r3]',
      '',
      '[r1]: https://example.org/ref',
      '[r2]: javascript:alert(1)',
      '[r3]: JAVASCRIPT&#x3a;alert(1) "title"',
      '',
      '![logo](https://tracker.example/pixel.png) ![x](javascript:alert(1)) ![](data:image/svg+xml,<svg onload=alert(1)>)',
      '',
      '![alt <b>text</b>](logo.png "t\\" onerror=\\"alert(1)")',
    ].join('\n'));
    assertInert(out);
    assert.match(out, /<a href="https:\/\/ok\.example\/" rel="nofollow noopener noreferrer">https:\/\/ok\.example\/<\/a>/);
    assert.match(out, /<a href="https:\/\/example\.org\/ref" rel="nofollow noopener noreferrer">ref<\/a>/);
    assert.match(out, /<a href="https:\/\/tracker\.example\/pixel\.png" rel="nofollow noopener noreferrer" class="image-link">\[image: logo\]<\/a>/);
    assert.match(out, /<a href="logo\.png" rel="nofollow noopener noreferrer" class="image-link">\[image: alt &lt;b&gt;text&lt;\/b&gt;\]<\/a>/);
    assert.equal((out.match(/<a /g) ?? []).length, 5);
    assert.ok(!/<img/i.test(out));
  });

  it('survives deep nesting and pathological input quickly', () => {
    const cases = [
      '>'.repeat(20_000) + ' deep',
      '- '.repeat(5_000) + 'item',
      '*'.repeat(50_000) + 'a' + '*'.repeat(50_000),
      '['.repeat(50_000) + 'x' + ']'.repeat(50_000) + '(javascript:alert(1))',
      '<'.repeat(100_000),
      '`'.repeat(100_000),
      '[x]('.repeat(30_000),
    ];
    for (const input of cases) {
      const started = performance.now();
      const out = md(input);
      const ms = performance.now() - started;
      assertInert(out);
      // Generous: a busy machine is slow, but a quadratic blow-up on 100 KB takes minutes.
      assert.ok(ms < 10_000, `${input.slice(0, 20)}… took ${ms} ms`);
    }
  });

  it('renders the slowest hostile Markdown at any size in well under a second, and again at no cost', () => {
    // markdown-it's worst inputs cost several ms per KiB: at the 512 KiB cap, seconds per view.
    // Measured in CPU time of this process, so a busy machine does not fail it.
    const cases = ['!['.repeat(DESCRIPTION_CAP), '['.repeat(DESCRIPTION_CAP), '[a'.repeat(DESCRIPTION_CAP / 4) + ']'.repeat(DESCRIPTION_CAP / 4), '*[`<'.repeat(DESCRIPTION_CAP / 4), '|a|b|\n|-|-|\n' + '|x|y|\n'.repeat(DESCRIPTION_CAP / 6)];
    for (const input of cases) {
      for (const size of [MARKDOWN_CAP, DESCRIPTION_CAP]) {
        const text = input.slice(0, size);
        let started = cpuMs();
        const out = md(text);
        const first = cpuMs() - started;
        assertInert(out);
        assert.ok(first < 1000, `${input.slice(0, 8)}… (${size} chars) took ${first.toFixed(0)} ms`);
        started = cpuMs();
        assert.equal(md(text), out);
        const again = cpuMs() - started;
        assert.ok(again < 50, `${input.slice(0, 8)}… (${size} chars) took ${again.toFixed(0)} ms the second time`);
      }
    }
    // Longer Markdown is all there, as text.
    const long = '# Title\n\n' + 'word '.repeat(MARKDOWN_CAP / 4);
    const out = md(long);
    assert.match(out, /shown as its text/);
    assert.match(out, /<pre class="description"># Title/);
  });

  it('cuts a 5 MB description at the cap, says so, and stays inert', () => {
    const chunk = '<script>alert(1)</script> [x](javascript:alert(1)) **bold** <img src=x onerror=alert(1)>\n\n';
    const huge = chunk.repeat(Math.ceil((5 * 1024 * 1024) / chunk.length));
    assert.ok(huge.length > 5 * 1024 * 1024);
    const started = performance.now();
    const out = md(huge);
    const ms = performance.now() - started;
    assertInert(out);
    assert.match(out, /The description is longer than 512 KiB; it is cut here\./);
    assert.ok(out.length < 4 * DESCRIPTION_CAP, `output ${out.length} chars`);
    assert.ok(ms < 20_000, `${ms} ms`);
    const text = plain(huge);
    assertInert(text);
    assert.match(text, /cut here/);
    // A cut never splits a character in two.
    const emoji = plain('😀'.repeat(DESCRIPTION_CAP));
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(emoji));
    assert.ok(!md('short').includes('cut here'));
  });

  it('shows plain text and reStructuredText preformatted and escaped', () => {
    const rst = 'Title\n=====\n\n.. raw:: html\n\n   <script>alert(1)</script>\n\n`x <javascript:alert(1)>`_\n';
    const out = plain(rst);
    assert.equal(out, '<pre class="description">Title\n=====\n\n.. raw:: html\n\n   &lt;script&gt;alert(1)&lt;/script&gt;\n\n`x &lt;javascript:alert(1)&gt;`_\n</pre>');
    assertInert(out);
  });

  it('allows exactly http, https, mailto and relative URLs', () => {
    for (const ok of ['https://x.example/', 'http://x', 'HTTPS://X', 'mailto:a@b', '/abs', 'rel/path', '../up', '#frag', '?q=1', '//host/path', 'a/b:c']) assert.ok(allowedUrl(ok), ok);
    for (const bad of ['javascript:x', ' javascript:x', 'java\nscript:x', '\u0001javascript:x', 'data:x', 'vbscript:x', 'file:///x', 'ftp://x', 'x:y', 'JAVASCRIPT:x']) assert.ok(!allowedUrl(bad), bad);
  });
});
