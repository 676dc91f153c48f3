"""The page's inline style and script, as Python strings so that they ship with the package
(no package-data configuration) and nothing is fetched when the page opens."""

CSS = r"""
/* report.html: readable on a phone, a desktop and paper; no web fonts. */
:root { color-scheme: light; --ink: #1b1b1b; --muted: #555; --rule: #d0d7de; --band: #f6f8fa; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 92rem; padding: 1rem; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.5rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.4rem; }
a { color: var(--accent); }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--band); padding: 0 0.2em; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; list-style: none; padding: 0; margin: 0.5rem 0; }
.findings li { margin: 0.3rem 0; max-width: 62rem; }
.question { font-size: 1.05rem; }
.note { color: var(--muted); font-size: 0.85rem; max-width: 60rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.4rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.8rem; font-variant-numeric: tabular-nums; min-width: 50%; }
caption { text-align: left; color: var(--muted); }
th, td { padding: 0.22rem 0.45rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); text-align: left; cursor: pointer; white-space: nowrap; user-select: none;
     position: sticky; top: 0; }
th.r, td.r { text-align: right; }
th[aria-sort="ascending"]::after { content: " \25B2"; }
th[aria-sort="descending"]::after { content: " \25BC"; }
th:focus { outline: 2px solid var(--accent); }
tbody tr:nth-child(even) { background: #fafbfc; }
td { white-space: nowrap; }
td.w { white-space: normal; overflow-wrap: anywhere; min-width: 16rem; max-width: 40rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 0.85rem; }
footer { margin-top: 2rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 40rem) {
  body { padding: 0.5rem; font-size: 14px; }
  table { font-size: 0.78rem; }
  th, td { padding: 0.2rem 0.35rem; }
}
@media print {
  body { max-width: none; font-size: 10pt; padding: 0; }
  nav, th::after { display: none; }
  .scroll { overflow: visible; }
  table { font-size: 7.5pt; }
  th, td { white-space: normal; padding: 0.1rem 0.25rem; }
  th { position: static; }
  tr, figure, img { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

#: Sortable tables: click (or Enter on) a header; numbers sort as numbers, ties keep their order.
SCRIPT = r"""
// Sortable tables for report.html: click (or Enter on) a header; numbers sort as numbers.
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v") || "";
    var n = parseFloat(v);
    return isNaN(n) ? { s: v } : { n: n };
  }
  function compare(a, b) {
    if ("n" in a && "n" in b) { return a.n < b.n ? -1 : a.n > b.n ? 1 : 0; }
    return String(a.s !== undefined ? a.s : a.n).localeCompare(String(b.s !== undefined ? b.s : b.n));
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (r, j) {
          return { row: r, k: key(r.cells[i]), j: j };
        });
        rows.sort(function (a, b) { return (ascending ? 1 : -1) * compare(a.k, b.k) || a.j - b.j; });
        rows.forEach(function (r) { body.appendChild(r.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
})();
"""
