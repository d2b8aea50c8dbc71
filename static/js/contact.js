// The contact form on a phone: conditional criteria, fact tools, and answers that are never lost.
// Every change is written to this device first (localStorage), then sent to the server; without a
// connection or a session, it stays here and is sent later. Works as a plain form without JS.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var T = JSON.parse(document.getElementById("contact-i18n").textContent);
  var key = form.dataset.key;
  var editable = form.dataset.editable === "1";
  var statusEl = document.getElementById("save-status");
  var clientId = form.elements.client_id;
  var baseVersion = form.elements.base_version;
  var timer = null, inflight = false, again = false, changeCount = 0;

  function readLocal() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function writeLocal(record) {
    try { localStorage.setItem(key, JSON.stringify(record)); return true; } catch (e) { return false; }
  }
  function fields() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (/^[anf]_/.test(name) && typeof value === "string") out[name] = value;
    });
    return out;
  }
  function applyFields(values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!/^[anf]_/.test(el.name)) return;
      var v = Object.prototype.hasOwnProperty.call(values, el.name) ? values[el.name] : "";
      if (el.type === "radio") el.checked = el.value === v;
      else el.value = v;
      if (el.tagName === "TEXTAREA" && v) el.closest("details").open = true;
    });
  }
  function say(text, kind, link) {
    if (!statusEl) return;
    statusEl.textContent = text + (link ? " " : "");
    statusEl.className = "save-status " + (kind || "");
    if (link) {
      var a = document.createElement("a");
      a.href = link.href; a.textContent = link.text;
      statusEl.appendChild(a);
    }
  }
  function keepHere(extra) {
    var record = readLocal() || {};
    record.client_id = clientId.value;
    record.base_version = baseVersion.value;
    record.url = form.dataset.autosave;  // so that logging out can send it from any page
    record.fields = fields();
    record.synced = false;
    record.changed_at = Date.now();
    for (var k in extra || {}) record[k] = extra[k];
    return writeLocal(record);
  }

  // --- conditional criteria: static/js/conditions.js, the one script for them ---
  var updateVisibility = window.auditConditions(form);

  // --- saving ---
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(sync, 1200);
  }
  function body(values, cid, base) {
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("client_id", cid);
    data.append("base_version", base);
    for (var name in values) data.append(name, values[name]);
    return data;
  }
  function post(data, done) {
    fetch(form.dataset.autosave, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch", "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) { done(response.status, json); });
    }, function () { done(0, {}); });
  }
  function sync() {
    if (!editable) return;
    if (inflight) { again = true; return; }
    if (navigator.onLine === false) { say(T.offline, "local"); return; }
    inflight = true;
    var sentChange = changeCount;
    post(body(fields(), clientId.value, baseVersion.value), function (status, data) {
      inflight = false;
      if (status === 0) {
        say(T.offline, "local");
        setTimeout(sync, 20000);
        return;
      }
      handle(status, data, sentChange);
      if (again) { again = false; schedule(); }
    });
  }
  // Changes this device holds for a contact it cannot show in the form (sent meanwhile, or started
  // on another device): the server keeps them as a separate version for the auditor to compare.
  function sendAside(record) {
    post(body(record.fields || {}, record.client_id, record.base_version || ""), function (status, data) {
      // Refused (an edition whose fieldwork is closed, an id taken): the answers stay on this phone.
      if (status === 200 || (status === 409 && data.outcome !== "refused" && data.outcome !== "closed")) {
        localStorage.removeItem(key);
        if (status === 409) say(T.conflict, "error", {href: location.pathname, text: T.reload});
      }
    });
  }
  function handle(status, data, sentChange) {
    var record = readLocal() || {};
    if (status === 200) {
      baseVersion.value = data.version;
      clientId.value = data.client_id;
      form.dataset.exists = "1";
      if (sentChange === changeCount) {
        record.synced = true;
      }
      record.base_version = String(data.version);
      record.client_id = data.client_id;
      writeLocal(record);
      say(T.saved.replace("%(time)s", data.saved_at), "server");
    } else if (status === 401) {
      say(T.login, "error", {href: data.login_url || "/login", text: T.login_link});
    } else if (status === 409 && (data.outcome === "copy_kept" || data.outcome === "locked")) {
      localStorage.removeItem(key);  // the server keeps this version beside the newer one
      say(T.conflict, "error", {href: location.pathname, text: T.reload});
    } else if (status === 409 && data.outcome === "closed") {
      editable = false;  // fieldwork is over for this contact: stop sending, keep the answers here
      say(data.message + " " + T.closed, "error");
    } else if (status === 422) {
      say(T.invalid, "error");
    } else {
      say(data.message ? T.refused + " " + data.message : T.failed, "error");
      setTimeout(sync, 30000);
    }
  }

  function changed() {
    updateVisibility();
    if (!editable) return;
    changeCount++;
    if (keepHere()) say(navigator.onLine === false ? T.offline : T.saving, "local");
    schedule();
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", sync);

  form.addEventListener("submit", function (event) {
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }  // a double tap
    var action = (event.submitter && event.submitter.value) || "save";
    keepHere(action === "submit" ? {submitted_at: Date.now()} : {});
    if (navigator.onLine === false) {
      event.preventDefault();
      say(T.offline_submit, "local");
      return;
    }
    form.dataset.submitting = "1";
    clearTimeout(timer);
    var hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "action"; hidden.value = action;
    form.appendChild(hidden);
    setTimeout(function () {  // after the browser has taken the submitter's value
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
    say(T.sending, "local");
  });

  // --- fact tools: ring counter, "now", stopwatch ---
  form.querySelectorAll("[data-step], [data-now], [data-stopwatch]").forEach(function (b) { b.hidden = false; });
  function setValue(input, value) {
    input.value = value;
    input.dispatchEvent(new Event("input", {bubbles: true}));
  }
  form.addEventListener("click", function (event) {
    var b = event.target.closest("button");
    if (!b || b.type === "submit") return;
    if (b.dataset.step) {
      var input = document.getElementById(b.dataset.target);
      setValue(input, Math.max(0, (parseInt(input.value, 10) || 0) + parseInt(b.dataset.step, 10)));
    } else if (b.dataset.now) {
      var d = new Date(), pad = function (n) { return (n < 10 ? "0" : "") + n; };
      setValue(document.getElementById(b.dataset.now), d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
        pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()));
    } else if (b.dataset.stopwatch) {
      if (!b.dataset.started) {
        var started = Date.now();
        b.dataset.started = String(started);
        b.textContent = b.dataset.stop;
        b.setAttribute("aria-pressed", "true");
        b.ticker = setInterval(function () {  // the running time on the button, so the auditor sees it count
          var s = Math.floor((Date.now() - started) / 1000);
          b.textContent = b.dataset.stop + " · " + Math.floor(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
        }, 1000);
      } else {
        var seconds = (Date.now() - Number(b.dataset.started)) / 1000;
        delete b.dataset.started;
        clearInterval(b.ticker);
        b.textContent = b.dataset.start;
        b.setAttribute("aria-pressed", "false");
        // minutes to a tenth, and under a minute to a hundredth: a short wait is never recorded as 0
        var minutes = seconds / 60;
        setValue(document.getElementById(b.dataset.stopwatch), b.dataset.unit === "seconds" ? Math.round(seconds)
          : (minutes < 1 ? Math.max(0.01, Math.round(minutes * 100) / 100) : Math.round(minutes * 10) / 10));
      }
    }
  });

  // --- on load: bring back what only this device holds ---
  var local = readLocal();
  var status = form.dataset.status;
  if (local && local.submitted_at && (status === "submitted" || status === "accepted")) {
    localStorage.removeItem(key);  // it was sent and taken
  } else if (local && !local.synced) {
    if (editable && (form.dataset.exists === "0" || local.client_id === clientId.value)) {
      applyFields(local.fields || {});
      clientId.value = local.client_id;
      baseVersion.value = local.base_version || "";
      changeCount++;
      say(T.restored, "local");
      sync();
    } else {
      sendAside(local);
    }
  } else if (local && local.synced) {
    localStorage.removeItem(key);
  }
  if (form.dataset.exists === "0" && !(local && local.client_id) && window.crypto && crypto.randomUUID) {
    clientId.value = crypto.randomUUID();  // the id is made here, so a retry can never make two contacts
  }
  updateVisibility();
  var missing = document.getElementById("missing");
  if (missing) missing.focus();
})();
