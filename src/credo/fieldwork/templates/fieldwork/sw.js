{% load static %}/* Credo service worker: the offline page for navigations without network, and the
   shell's static files from the cache. Pages themselves are never cached (they hold personal
   data and must be current); drafts of field forms live in the page's localStorage. */
"use strict";
var VERSION = "credo-fieldwork-v1";
var OFFLINE = "{% url 'fieldwork:offline' %}";
var ASSETS = [
  OFFLINE,
  "{% static 'vendor/tabler/tabler.min.css' %}",
  "{% static 'credo/favicon.svg' %}",
  "{% static 'fieldwork/mobile.css' %}",
  "{% static 'fieldwork/pwa.js' %}",
  "{% static 'fieldwork/field.js' %}"
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(VERSION).then(function (cache) { return cache.addAll(ASSETS); }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== VERSION; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(function () { return caches.match(OFFLINE); }));
    return;
  }
  if (url.pathname.indexOf("{% get_static_prefix %}") === 0) {
    // network first (file names are not always hashed), the cached copy when offline
    event.respondWith(
      fetch(req).then(function (resp) {
        if (resp.ok) {
          var copy = resp.clone();
          caches.open(VERSION).then(function (cache) { cache.put(req, copy); });
        }
        return resp;
      }).catch(function () { return caches.match(req); })
    );
  }
});
