// The style sheet of every page (served as /-/static/wharf-<hash>.css; the CSP allows no
// inline style). Light and dark follow the browser; every colour pair keeps a contrast of at
// least 4.5:1 (text) and 3:1 (focus rings, borders of controls) in both.
export const WHARF_CSS = String.raw`:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--control:#818b98;--link:#0550ae;--badge:#eaeef2;--warn-bg:#fff1c2;--warn-fg:#6b4400;--bad-bg:#ffe0e0;--bad-fg:#8a1c1c;--ok-bg:#dafbe1;--ok-fg:#115a26;--focus:#0550ae}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;--line:#3d444d;--control:#848d97;--link:#58a6ff;--badge:#262c36;--warn-bg:#3b2e0a;--warn-fg:#f2cc60;--bad-bg:#3c1618;--bad-fg:#ff9492;--ok-bg:#12301c;--ok-fg:#7ee2a8;--focus:#58a6ff}}
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg);line-height:1.5}
header,main,footer{max-width:64rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-9999px;top:0;background:var(--bg);color:var(--link);padding:.5rem 1rem;z-index:10}
.skip:focus{left:1rem;top:.5rem}
header{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:center;border-bottom:1px solid var(--line);padding-top:.7rem;padding-bottom:.7rem}
header .brand{font-weight:700;font-size:1.1rem}
header nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
header .viewer{margin-left:auto;color:var(--muted)}
header form[role=search]{flex:1 1 14rem;max-width:24rem}
h1{font-size:1.5rem;margin:1.2rem 0 .4rem;overflow-wrap:anywhere}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
a{color:var(--link)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;background:var(--badge);border-radius:1rem;padding:0 .55rem;font-size:.85rem;margin-right:.3rem}
.badge.warn{background:var(--warn-bg);color:var(--warn-fg)}.badge.bad{background:var(--bad-bg);color:var(--bad-fg)}.badge.ok{background:var(--ok-bg);color:var(--ok-fg)}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.7rem;overflow-x:auto;margin:.3rem 0 1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem}
.hash{overflow-wrap:anywhere;font-size:.8rem}
.copyable{position:relative}.copyable pre{padding-right:5.5rem}
.copyable .copy{position:absolute;top:.35rem;right:.35rem}
button,input,select{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--control);border-radius:6px;padding:.3rem .6rem}
button{cursor:pointer;background:var(--panel)}button.copied{background:var(--ok-bg);color:var(--ok-fg)}
html:not(.js) button[data-copy]{display:none}
button.copy.small{position:static;padding:0 .4rem;font-size:.8rem;margin-left:.3rem}
form[role=search]{display:flex;gap:.4rem;flex-wrap:wrap;align-items:center;position:relative}
form[role=search] input[type=search]{flex:1 1 10rem;min-width:8rem}
.filters{display:flex;gap:.8rem;flex-wrap:wrap;align-items:center;margin:.6rem 0}
.suggest{position:absolute;top:100%;left:0;right:0;z-index:5;background:var(--bg);border:1px solid var(--line);border-radius:6px;margin:.2rem 0 0;padding:.2rem 0;list-style:none;box-shadow:0 4px 12px rgba(0,0,0,.25)}
.suggest[hidden]{display:none}.suggest li{padding:.25rem .6rem}.suggest li a{display:block;text-decoration:none}.suggest .muted{font-size:.85rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.file{color:var(--muted);font-size:.9rem;margin:.2rem 0 0}.muted{color:var(--muted)}
.pager{display:flex;gap:1rem;align-items:center;margin:1rem 0}
.version{border-top:1px solid var(--line);margin-top:1.2rem}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0}dl.fields dt{font-weight:600}dl.fields dd{margin:0;overflow-wrap:anywhere}
.description{overflow-wrap:anywhere}pre.description{white-space:pre-wrap}
.markdown img{max-width:100%}
header form.signout{margin:0}form.stack label{display:block;margin:.7rem 0 .2rem}
form.stack input:not([type=radio]):not([type=checkbox]),form.stack select{min-width:min(24rem,100%)}form.stack fieldset{margin:.8rem 0;border:1px solid var(--line)}
.notice{border-left:4px solid var(--link);background:var(--panel);padding:.5rem .9rem;margin:.8rem 0}button.danger{color:#fff;background:#b42318;border:1px solid #b42318}
main nav ul{display:flex;gap:1rem;list-style:none;padding:0;margin:.8rem 0 0}
footer{border-top:1px solid var(--line);margin-top:2.5rem;padding-top:.8rem;padding-bottom:1.5rem;color:var(--muted);font-size:.9rem}
`;
