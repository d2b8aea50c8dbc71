// Logging out on the auditor's phone: answers that only this phone holds are sent first. Logging
// out then clears everything the site stored here (the server answers with Clear-Site-Data), so
// whatever cannot be sent now is deleted only after the auditor has read how much and said so.
(function () {
  "use strict";
  var form = document.getElementById("logout-form");
  var dialog = document.getElementById("unsent-dialog");
  if (!form || !dialog || !window.localStorage) return;
  var prefix = "contact:" + form.dataset.user + ":";

  function unsentKeys() {
    var keys = [];
    for (var i = 0; i < localStorage.length; i++) {
      var key = localStorage.key(i), record = null;
      if (key.indexOf(prefix) !== 0) continue;
      try { record = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { record = null; }
      if (record && !record.synced) keys.push(key);
    }
    return keys;
  }
  // Resolves true when the server took the answers (saved, or kept as a copy beside a newer version).
  function send(key) {
    var record = JSON.parse(localStorage.getItem(key) || "{}");
    if (!record.url || navigator.onLine === false) return Promise.resolve(false);
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("client_id", record.client_id || "");
    data.append("base_version", record.base_version || "");
    for (var name in record.fields || {}) data.append(name, record.fields[name]);
    return fetch(record.url, {method: "POST", body: data, credentials: "same-origin",
                              headers: {"X-Requested-With": "fetch", "Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          var taken = response.status === 200 ||
            (response.status === 409 && (json.outcome === "copy_kept" || json.outcome === "locked"));
          if (taken) localStorage.removeItem(key);
          return taken;
        });
      }, function () { return false; });
  }
  function logOut() {
    form.dataset.checked = "1";
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.checked === "1") return;
    var keys = unsentKeys();
    if (!keys.length) return;
    event.preventDefault();
    Promise.all(keys.map(send)).then(function () {
      var left = unsentKeys();
      if (!left.length) { logOut(); return; }
      dialog.querySelector("[data-count]").textContent = String(left.length);
      dialog.showModal();
    });
  });
  dialog.querySelector("[data-stay]").addEventListener("click", function () { dialog.close(); });
  dialog.querySelector("[data-discard]").addEventListener("click", function () {
    unsentKeys().forEach(function (key) { localStorage.removeItem(key); });
    logOut();
  });
})();
