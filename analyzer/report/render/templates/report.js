"use strict";
(function () {
  var table = document.getElementById("profile");
  if (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var shown = document.getElementById("shown");
    var heads = table.tHead.rows[0].cells;
    function value(cell) { var v = cell.getAttribute("data-v"); return v === null ? cell.textContent : v; }
    var texts = new Map(rows.map(function (r) {  // what the filter searches: the row's text and data-text
      return [r, (r.textContent + " " + (r.getAttribute("data-text") || "")).toLowerCase()];
    }));
    Array.prototype.forEach.call(heads, function (th, column) {
      if (!th.hasAttribute("data-sort")) return;
      th.tabIndex = 0;
      function sort() {
        var numeric = th.getAttribute("data-sort") === "num";
        var down = th.getAttribute("aria-sort") !== "descending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : String(x).localeCompare(String(y));
          return down ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    var filter = document.getElementById("filter");
    if (filter) {
      filter.addEventListener("input", function () {
        var q = filter.value.trim().toLowerCase(), n = 0;
        rows.forEach(function (r) {
          var hit = !q || texts.get(r).indexOf(q) >= 0;
          r.hidden = !hit;
          if (hit) n++;
        });
        if (shown) shown.textContent = n + " of " + rows.length + " classes shown";
      });
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      var text = source.textContent;
      function done() { var old = button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = old; }, 1200); }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else { select(source); }
    });
  });
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  var views = document.querySelectorAll("#view-switch input[name=view]");
  function showView() {  // the profile by class or by group: one of the two sections at a time
    var chosen = document.querySelector("#view-switch input[name=view]:checked");
    var groups = chosen && chosen.value === "groups";
    var c = document.getElementById("classes"), g = document.getElementById("groups");
    if (c) c.hidden = groups;
    if (g) g.hidden = !groups;
  }
  Array.prototype.forEach.call(views, function (v) { v.addEventListener("change", showView); });
  if (views.length) showView();
  function openTarget() {  // a link to a class opens its section
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
})();
