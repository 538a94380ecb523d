// Vivalia agents' console: one-click copy of an answer's text. No framework, no inline code
// (the page's policy is script-src 'self').
(function () {
  "use strict";

  function textOf(element) {
    var lines = [];
    element.querySelectorAll("p").forEach(function (p) {
      lines.push(p.textContent.trim());
    });
    return lines.length ? lines.join("\n") : element.textContent.trim();
  }

  function copyWithSelection(text) {
    // For consoles opened over plain HTTP on another host, where navigator.clipboard is missing.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function flash(button, label, className) {
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    button.textContent = label;
    button.classList.add(className);
    window.setTimeout(function () {
      button.textContent = original;
      button.classList.remove(className);
    }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) {
      return;
    }
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    copy(textOf(target)).then(
      function () {
        flash(button, "Copié ✓", "copied");
      },
      function () {
        flash(button, "Copie impossible : sélectionnez le texte", "copy-failed");
      }
    );
  });
})();
