// Triage keys: an element with data-taste="KEY" is clicked (buttons, links) or focused
// (inputs) when KEY is pressed outside a text field. 1–3 accept a candidate, "/" focuses the
// department search, f marks as misdirected, s asks for a rescan, j/k go to the next/previous
// item. The page works without this file (plain forms and links). No inline scripts (CSP).
(function () {
  "use strict";

  var sending = false;

  function isTyping(target) {
    return target instanceof Element &&
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
  }

  function target(key) {
    var elements = document.querySelectorAll("[data-taste]");
    for (var i = 0; i < elements.length; i += 1) {
      if (elements[i].getAttribute("data-taste") === key) {
        return elements[i];
      }
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
      return;
    }
    if (isTyping(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
      }
      return;
    }
    var element = target(event.key);
    if (element === null) {
      return;
    }
    event.preventDefault();
    if (element.matches("input, textarea, select")) {
      element.focus();
      if (typeof element.select === "function") {
        element.select();
      }
    } else if (!sending) {
      element.click();
    }
  });

  // One decision per item: a second submit (a double click, a repeated key) is dropped.
  document.addEventListener("submit", function (event) {
    if (!event.target.closest(".triage-item")) {
      return;
    }
    if (sending) {
      event.preventDefault();
      return;
    }
    sending = true;
    document.body.classList.add("is-sending");
  });

  // Coming back with the browser's back button shows the page from its cache: allow again.
  window.addEventListener("pageshow", function () {
    sending = false;
    document.body.classList.remove("is-sending");
  });
})();
