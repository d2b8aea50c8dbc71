// The auditor's pages: register the service worker that keeps them usable offline, and mark
// assignments whose changes are still only on this phone.
(function () {
  "use strict";
  var script = document.currentScript;
  if ("serviceWorker" in navigator && script && script.dataset.sw) {
    navigator.serviceWorker.register(script.dataset.sw, {scope: script.dataset.sw.replace(/sw\.js$/, "")})
      .catch(function () { /* no offline pages, but the form still keeps answers on the phone */ });
  }
  document.querySelectorAll("li[data-key]").forEach(function (card) {
    var record = null;
    try { record = JSON.parse(localStorage.getItem(card.dataset.key) || "null"); } catch (e) { return; }
    if (!record || record.synced) return;
    var sent = card.dataset.status === "submitted" || card.dataset.status === "accepted";
    if (sent && record.submitted_at) {
      localStorage.removeItem(card.dataset.key);
      return;
    }
    card.querySelector(".unsent").hidden = false;
  });
})();
