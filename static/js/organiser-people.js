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
    // the director's institutions: a filter over the checkboxes (ticked ones always stay in view)
    document.querySelectorAll("input[data-filter]").forEach(function (input) {
      var list = document.getElementById(input.getAttribute("data-filter"));
      var count = document.getElementById(input.id + "-count");
      input.closest(".list-filter").hidden = false;
      input.addEventListener("input", function () {
        var wanted = input.value.trim().toLocaleLowerCase(), shown = 0;
        list.querySelectorAll("li").forEach(function (item) {
          var box = item.querySelector("input");
          var match = !wanted || item.textContent.toLocaleLowerCase().indexOf(wanted) !== -1 || (box && box.checked);
          item.hidden = !match;
          if (match) { shown += 1; }
        });
        if (count) { count.textContent = wanted ? shown + " / " + list.querySelectorAll("li").length : ""; }
      });
    });
    document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
