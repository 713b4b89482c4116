// The script of every page (served as /-/static/wharf-<hash>.js; the CSP allows no inline
// script). Two helpers, and every page works without them:
// - a copy button beside each element with a `data-copy` attribute (its value names what is
//   copied, for the button's accessible label), using the clipboard API, showing "Copied"; a
//   `<button data-copy="TEXT">` written in the page is itself such a button, copying TEXT
//   (hidden until this script runs, since it does nothing without it);
// - search as you type in a search form with `data-suggest`: the form's own GET URL asked
//   for JSON, the first results listed under the box (built with textContent, never markup).
export const WHARF_JS = String.raw`(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var status = document.createElement('div');
  status.className = 'visually-hidden';
  status.setAttribute('aria-live', 'polite');
  status.setAttribute('role', 'status');
  document.body.appendChild(status);

  function announce(text) {
    status.textContent = '';
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain HTTP to a remote host has no clipboard API: the older way still works there.
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }

  function wire(button, text, what) {
    var label = button.textContent;
    var timer = null;
    button.addEventListener('click', function () {
      copyText(text()).then(function () {
        button.textContent = 'Copied';
        button.classList.add('copied');
        announce('Copied ' + what);
        clearTimeout(timer);
        timer = setTimeout(function () { button.textContent = label; button.classList.remove('copied'); }, 2500);
      }, function () {
        button.textContent = 'Select and copy';
        announce('Copying failed: select the text and copy it');
      });
    });
  }

  function addCopyButton(target) {
    if (target.tagName === 'BUTTON') {
      // A button the page wrote: it copies its own data-copy value.
      var value = target.getAttribute('data-copy') || '';
      if (!target.getAttribute('aria-label')) target.setAttribute('aria-label', target.textContent || 'Copy');
      wire(target, function () { return value; }, (target.textContent || '').replace(/^Copy\s*/, '') || 'text');
      return;
    }
    var what = target.getAttribute('data-copy') || 'text';
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy ' + what);
    wire(button, function () { return target.textContent || ''; }, what);
    var box = target.parentElement;
    if (box && box.classList.contains('copyable')) {
      box.appendChild(button);
    } else {
      button.classList.add('small');
      target.insertAdjacentElement('afterend', button);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-copy]'), addCopyButton);

  function suggest(form, index) {
    var input = form.querySelector('input[type=search]');
    if (!input) return;
    var list = document.createElement('ul');
    list.className = 'suggest';
    list.id = 'suggest-' + index;
    list.hidden = true;
    list.setAttribute('aria-label', 'Search results');
    form.appendChild(list);
    input.setAttribute('autocomplete', 'off');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    var pending = null;
    var timer = null;

    function hide() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
    }
    function item(text, href, detail) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = href;
      a.textContent = text;
      li.appendChild(a);
      if (detail) {
        var span = document.createElement('span');
        span.className = 'muted';
        span.textContent = detail;
        a.appendChild(document.createElement('br'));
        a.appendChild(span);
      }
      list.appendChild(li);
    }
    function show(answer, query) {
      list.textContent = '';
      if (!answer.results.length) {
        var none = document.createElement('li');
        none.className = 'muted';
        none.textContent = 'No packages match';
        list.appendChild(none);
      }
      answer.results.slice(0, 8).forEach(function (r) {
        item(r.displayName + ' (' + r.repo + ')', r.url, r.summary || r.format);
      });
      if (answer.total > 8) item('All ' + answer.total + ' results', answer.pageUrl || (form.action + '?' + query), '');
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      announce(answer.total + (answer.total === 1 ? ' result' : ' results'));
    }
    function run() {
      var query = new URLSearchParams(new FormData(form)).toString();
      if (!input.value.trim()) { hide(); return; }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(form.action + '?' + query, { headers: { accept: 'application/json' }, signal: pending.signal, credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (answer) { if (answer) show(answer, query); })
        .catch(function () {});
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(run, 150);
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') hide();
      if (e.key === 'ArrowDown' && !list.hidden) {
        var first = list.querySelector('a');
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
    list.addEventListener('keydown', function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll('a'));
      var at = links.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' && at < links.length - 1) { e.preventDefault(); links[at + 1].focus(); }
      if (e.key === 'ArrowUp') { e.preventDefault(); if (at > 0) links[at - 1].focus(); else input.focus(); }
      if (e.key === 'Escape') { hide(); input.focus(); }
    });
    form.addEventListener('focusout', function (e) {
      if (!form.contains(e.relatedTarget)) hide();
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('form[data-suggest]'), suggest);
})();
`;
