// entra-wizard's service worker: the page opens offline after one visit.
//
// It caches the page's own files only — index.html, boot.js, the hashed
// loader, wasm and stylesheet, the icon, the manifest and config.json — and
// never touches any other origin: sign-in, Microsoft Graph and ARM requests
// (and a local emulator on another port) go to the network untouched, so no
// token or API answer is ever stored. Non-GET requests are never handled.
//
// Navigations are network-first, so an online load always gets the newest
// page (its hashed files are then fetched and cached under new names);
// offline, the cached page is served. Hashed files never change, so they are
// served from the cache first; unhashed ones (boot.js, the crypto worker's
// loader, script and wasm, which trunk names by their bin) are fetched
// network-first and kept for offline use. After a new page is seen, the
// files of the old one are dropped.

const CACHE = 'entra-wizard-page';
const PAGE = new URL('./', self.location).href;
/** trunk's content-hashed names ("entra-wizard-9563e7fdcd61532_bg.wasm": a 64-bit hash in hex, unpadded). */
const HASHED = /-[0-9a-f]{8,16}(_bg)?\.[a-z]+$/;

/**
 * Same-origin files a page's HTML refers to (href, src, data-js, data-wasm,
 * data-worker, and the pages module's data-pages, data-pages-wasm), and the
 * files the crypto worker's loader imports.
 */
async function assetsOf(html) {
  const urls = new Set([PAGE, new URL('config.json', PAGE).href, new URL('boot.js', PAGE).href]);
  for (const m of html.matchAll(/(?:href|src|data-js|data-wasm|data-worker|data-pages|data-pages-wasm)="([^"]+)"/g)) {
    const url = new URL(m[1], PAGE);
    if (url.origin === self.location.origin) urls.add(url.href);
  }
  const loader = html.match(/data-worker="([^"]+)"/);
  if (loader) {
    // importScripts("./crypto-worker.js");wasm_bindgen("./crypto-worker_bg.wasm");
    const url = new URL(loader[1], PAGE);
    const r = await fetch(url, { cache: 'no-cache' });
    if (r.ok) {
      for (const m of (await r.text()).matchAll(/"(\.\/[^"]+)"/g)) urls.add(new URL(m[1], url).href);
    }
  }
  return [...urls];
}

/** Caches the page at `html` and its files; drops files no longer referred to. */
async function keep(html) {
  const cache = await caches.open(CACHE);
  // Most loads bring the page already kept: then its files are too.
  const kept = await cache.match(PAGE);
  if (kept && (await kept.text()) === html) return;
  const wanted = await assetsOf(html);
  const missing = await Promise.all(wanted.filter((u) => u !== PAGE).map(async (u) => {
    // A hashed file kept is the right one; an unhashed one may have changed.
    if (HASHED.test(new URL(u).pathname) && await cache.match(u)) return false;
    const r = await fetch(u, { cache: 'no-cache' });
    if (r.ok) await cache.put(u, r);
    return !r.ok;
  }));
  // The page goes in last, and only whole: a page kept means its files are.
  if (missing.some(Boolean)) return;
  await cache.put(PAGE, new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
  for (const request of await cache.keys()) {
    if (!wanted.includes(request.url) && request.url !== new URL('sw.js', PAGE).href) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const r = await fetch(PAGE, { cache: 'no-cache' });
    if (r.ok) await keep(await r.text());
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;

  if (request.mode === 'navigate') {
    // Network first; offline (or a server error) falls back to the cache.
    event.respondWith((async () => {
      try {
        const r = await fetch(request);
        if (r.ok) {
          const copy = r.clone();
          event.waitUntil(copy.text().then(keep));
          return r;
        }
        return (await caches.match(PAGE)) ?? r;
      } catch (e) {
        const cached = await caches.match(PAGE);
        if (cached) return cached;
        throw e;
      }
    })());
    return;
  }

  if (url.pathname.endsWith('/config.json')) {
    // The deployment's settings: fresh when online, cached when not.
    event.respondWith(fetch(request).then(async (r) => {
      if (r.ok) await (await caches.open(CACHE)).put(request, r.clone());
      return r;
    }).catch(async (e) => (await caches.match(request)) ?? Promise.reject(e)));
    return;
  }

  if (!HASHED.test(url.pathname)) {
    // Unhashed: fresh when online (and kept if it is one of the page's
    // files), cached when not.
    event.respondWith((async () => {
      try {
        const r = await fetch(request, { cache: 'no-cache' });
        const cache = await caches.open(CACHE);
        if (r.ok && await cache.match(request)) await cache.put(request, r.clone());
        return r;
      } catch (e) {
        const cached = await caches.match(request);
        if (cached) return cached;
        throw e;
      }
    })());
    return;
  }

  event.respondWith((async () => {
    const cached = await caches.match(request);
    if (cached) return cached;
    return fetch(request);
  })());
});
