// List pages: "select all" for the bulk actions of a department queue. Without JavaScript
// the checkbox stays hidden and each row is chosen on its own. No inline scripts (CSP).
(function () {
  "use strict";

  function setUp(root) {
    root.querySelectorAll("form.bulk-form").forEach(function (form) {
      var all = form.querySelector("input.select-all");
      var rows = form.querySelectorAll('input[name="auswahl"]');
      if (!all || rows.length === 0 || all.dataset.ready) {
        return;
      }
      all.dataset.ready = "1";
      all.hidden = false;
      function sync() {
        var checked = Array.prototype.filter.call(rows, function (box) { return box.checked; });
        all.checked = checked.length === rows.length;
        all.indeterminate = checked.length > 0 && checked.length < rows.length;
      }
      all.addEventListener("change", function () {
        rows.forEach(function (box) { box.checked = all.checked; });
        sync();
      });
      rows.forEach(function (box) { box.addEventListener("change", sync); });
      sync();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  // After htmx swapped the table in (filtering without a page load).
  document.addEventListener("htmx:afterSettle", function () { setUp(document); });
})();
