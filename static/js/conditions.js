// Conditional criteria, shown while their condition holds, in any order of definition: the one script
// for it, used by the auditor's contact form (contact.js) and by the rubric workshop's try page.
// A criterion's fieldset carries data-when='{"c": "<criterion>", "v": ["<answer>", ...]}'; the server
// renders the same visibility (audit.scoring.visible_criteria), so the form works without JS too.
(function () {
  "use strict";
  function bind(form) {
    var conditional = form.querySelectorAll("fieldset.criterion[data-when]:not([data-when=''])");
    function answerOf(id) {
      var box = document.getElementById("q-" + id);
      if (box && box.hidden) return null;
      var checked = form.querySelector("input[name='a_" + id + "']:checked");
      return checked ? checked.value : null;
    }
    function update() {
      for (var pass = 0; pass <= conditional.length; pass++) {  // chains settle in as many passes as they are long
        var changed = false;
        conditional.forEach(function (box) {
          var when = JSON.parse(box.dataset.when);
          var show = when.v.indexOf(answerOf(when.c)) >= 0;
          if (box.hidden === show) { box.hidden = !show; changed = true; }
        });
        if (!changed) break;
      }
      form.querySelectorAll("details.section").forEach(function (section) {
        section.hidden = !section.querySelector("fieldset.criterion:not([hidden])");
      });
    }
    form.addEventListener("change", update);
    update();
    return update;
  }
  window.auditConditions = bind;
  document.querySelectorAll("form[data-conditions]").forEach(bind);
})();
