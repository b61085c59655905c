/* 到户 service worker: the field app with no network.
 *
 * Served by the server at /sw.js with DAOHU_BUILD = { version, precache }
 * in front of this code (src/sync/service_worker.rs), so it knows this
 * build's content-hashed bundle names and changes whenever they do.
 *
 * - Install: cache the /field shell, the bundle, the manifest and icons.
 * - /pkg and the static files: from the cache (names are content-hashed).
 * - /field: the cached shell (it holds no data; the app reads the phone's
 *   IndexedDB), refreshed from the network in the background.
 * - Other pages: the network; with none, a redirect to /field.
 * - /api: never cached, never answered from here.
 */
/* global DAOHU_BUILD */
const CACHE = `daohu-${DAOHU_BUILD.version}`;
const SHELL = DAOHU_BUILD.precache[0];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // The bundle's names are content-hashed: the copy the page just
      // downloaded (HTTP cache, immutable) is the right one, and fetching
      // it again would double the first load on a weak link. The rest
      // (the shell, manifest, icons) is fetched afresh.
      .then((cache) =>
        cache.addAll(
          DAOHU_BUILD.precache.map((url) => new Request(url, { cache: url.startsWith('/pkg/') ? 'default' : 'reload' })),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('daohu-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;

  if (request.mode === 'navigate') {
    event.respondWith(url.pathname === SHELL ? shell(event) : networkOrShell(request));
    return;
  }
  if (url.pathname.startsWith('/pkg/') || DAOHU_BUILD.precache.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

/* The shell from the cache at once; a fresh copy for next time. */
function shell(event) {
  const refresh = fetch(SHELL, { cache: 'no-store' })
    .then((response) => {
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(SHELL, copy)));
      }
      return response;
    })
    .catch(() => undefined);
  return caches.match(SHELL).then((hit) => hit || refresh.then((r) => r || offlineText()));
}

function networkOrShell(request) {
  return fetch(request).catch(() => caches.match(SHELL).then((hit) => (hit ? Response.redirect(SHELL, 302) : offlineText())));
}

function offlineText() {
  return new Response('<!doctype html><meta charset="utf-8"><title>到户</title><p style="font:20px sans-serif;padding:24px">无法连接服务器，请联网后再打开。</p>', {
    status: 503,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  });
}
