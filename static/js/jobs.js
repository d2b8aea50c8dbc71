// Background jobs: keep a job's progress bar current without reloading the page (the page refreshes
// itself when JavaScript is off: <noscript><meta http-equiv="refresh">). Each element with
// data-job-status polls that JSON address; once a job has finished, the page is loaded again to
// show its download link, its result or its error.
(function () {
  "use strict";
  var watched = document.querySelectorAll("[data-job-status]");
  if (!watched.length || !window.fetch) return;

  function show(element, status) {
    var bar = element.querySelector("progress");
    if (bar) { bar.value = status.percent; bar.textContent = status.percent + " %"; }
    var pct = element.querySelector("[data-job-percent]");
    if (pct) pct.textContent = status.percent + " %";
  }

  function poll(element, wait) {
    fetch(element.dataset.jobStatus, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) return setTimeout(function () { poll(element, Math.min(wait * 2, 15000)); }, wait);
        show(element, status);
        if (status.finished) { window.location.reload(); return; }
        setTimeout(function () { poll(element, 1500); }, 1500);
      })
      .catch(function () { setTimeout(function () { poll(element, Math.min(wait * 2, 15000)); }, wait); });
  }

  for (var i = 0; i < watched.length; i++) poll(watched[i], 1500);
})();
