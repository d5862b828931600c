// Mailroom: small enhancements. Every page works without JavaScript; no inline scripts (CSP).
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("meldungen");
    if (!region) {
      return;
    }
    var box = document.createElement("div");
    box.className = "flash flash--error";
    box.setAttribute("role", "alert");
    var paragraph = document.createElement("p");
    paragraph.textContent = text;
    box.appendChild(paragraph);
    region.replaceChildren(box);
  }

  // Failed htmx requests answer with a message for #meldungen (see mailroom/web/errors.py);
  // when the server cannot be reached at all there is no answer, so say it here.
  document.addEventListener("htmx:sendError", function () {
    announce("Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen Sie es noch einmal.");
  });
  document.addEventListener("htmx:timeout", function () {
    announce("Der Server antwortet nicht. Bitte versuchen Sie es noch einmal.");
  });

  // Close the Fachdienste menu with Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.site-nav__menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.site-nav__menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });
})();
