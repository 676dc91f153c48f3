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
