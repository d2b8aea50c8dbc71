// Service worker for the auditor's pages (scope /auditor/): pages are fetched from the network
// first and kept for when the connection drops; a form posted offline gets the offline page
// instead of a browser error. The answers themselves are kept by contact.js in localStorage.
"use strict";
var VERSION = "v1";
var PAGES = "auditor-pages-" + VERSION;
var ASSETS = "auditor-assets-" + VERSION;
var OFFLINE = new URL("offline", self.registration.scope).href;

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(PAGES).then(function (cache) { return cache.add(OFFLINE); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== PAGES && k !== ASSETS; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function offlinePage() {
  return caches.match(OFFLINE).then(function (r) { return r || new Response("offline", {status: 503}); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Logging out (/logout, outside this worker's scope) clears these caches and the worker itself:
  // the server answers it with Clear-Site-Data.
  if (request.method === "POST") {
    if (request.mode === "navigate") event.respondWith(fetch(request).catch(offlinePage));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && url.href.startsWith(self.registration.scope)) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected && response.type === "basic") {
        var copy = response.clone();
        caches.open(PAGES).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (r) { return r || offlinePage(); });
    }));
  } else if (url.pathname.indexOf("/static/") >= 0) {
    event.respondWith(caches.open(ASSETS).then(function (cache) {
      return cache.match(request).then(function (cached) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
        if (cached) { fresh.catch(function () {}); return cached; }
        return fresh;
      });
    }));
  }
});
