// hems service worker: keeps the UI shell so the app opens even when the hems box is not
// reachable, and then says so. The API is never cached: numbers on screen are live or marked old.
const CACHE = "hems-shell-v1";
const SHELL = ["/", "/static/app.css", "/static/icon.svg", "/static/js/theme.js", "/static/js/app.js",
  "/static/js/api.js", "/static/js/dom.js", "/static/js/i18n.js", "/static/js/pages/overview.js",
  "/static/i18n/en.json", "/static/i18n/de.json", "/static/i18n/nl.json", "/static/i18n/fr.json"];

self.addEventListener("install", (event) => {
  // each file on its own: one that fails (a slow network) must not cost the whole offline shell
  event.waitUntil(caches.open(CACHE).then((c) => Promise.allSettled(SHELL.map((u) => c.add(u))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The network first (the box is on the home network: fresh files when it answers), the shell when not.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(fetch(event.request).then((resp) => {
    if (resp.ok && (url.pathname === "/" || url.pathname.startsWith("/static/"))) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return resp;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((hit) => hit || (event.request.mode === "navigate" ? caches.match("/") : Response.error()))));
});
