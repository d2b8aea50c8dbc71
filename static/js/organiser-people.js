// The organiser's people pages: copy a one-time link to the clipboard (the CSP forbids inline scripts).
(function () {
  "use strict";

  function status(button, text) {
    var box = button.closest(".one-time-link");
    var out = box && box.querySelector(".copy-status");
    if (out) { out.textContent = text; }
  }

  function copy(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    input.focus();
    input.select();
    var done = function () { status(button, button.getAttribute("data-copied")); };
    var failed = function () { status(button, button.getAttribute("data-failed")); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, failed);
    } else {
      try { (document.execCommand("copy") ? done : failed)(); } catch (e) { failed(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;  // without scripts the link is simply selected and copied by hand
      button.addEventListener("click", function () { copy(button); });
    });
    document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
