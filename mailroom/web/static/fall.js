// Case page: picking a standard text ("Textbaustein") puts it into the message field, unless
// the clerk has written something of their own there; an action form is sent only once (a
// double click would otherwise come back as "changed meanwhile"). Without this file the
// server uses the standard text when the message is left empty. No inline scripts (CSP).
(function () {
  "use strict";

  var sending = false;

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-textbausteine")) {
      return;
    }
    var texts = JSON.parse(select.getAttribute("data-textbausteine") || "[]");
    var message = select.form && select.form.elements.namedItem("nachricht");
    if (!(message instanceof HTMLTextAreaElement)) {
      return;
    }
    var untouched = message.value.trim() === "" || texts.indexOf(message.value) !== -1;
    var chosen = texts[Number(select.value) - 1];
    if (untouched) {
      message.value = chosen || "";
    }
    if (chosen) {
      message.focus();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post" || !form.closest("#inhalt")) {
      return;
    }
    if (sending) {
      event.preventDefault();
      return;
    }
    sending = true;
  });

  window.addEventListener("pageshow", function () {
    sending = false;
  });
})();
