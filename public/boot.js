// Starts the page: the hashed wasm-bindgen module and wasm named by trunk in
// this script's data attributes. A file of its own (not trunk's inline
// loader) so that the Content-Security-Policy allows scripts from 'self'
// only. Module scripts have no document.currentScript, hence the query.
const script = document.querySelector('script[data-wasm]');
const BUILD_KEY = 'entra-wizard.build';

// A new version is picked up on the next load (the service worker fetches
// the page network-first); say so once, so nobody wonders why it changed.
try {
  const previous = localStorage.getItem(BUILD_KEY);
  localStorage.setItem(BUILD_KEY, script.dataset.wasm);
  if (previous && previous !== script.dataset.wasm) {
    const notice = document.createElement('div');
    notice.className = 'update-notice';
    notice.setAttribute('role', 'status');
    notice.textContent = 'entra-wizard was updated since your last visit: this is the new version. ';
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => notice.remove());
    notice.append(close);
    document.body.prepend(notice);
  }
} catch {
  // Storage may be off (private windows): then there is nothing to compare.
}

// The pages that call Microsoft: a second wasm module, loaded on the first
// visit to one of them (ui::bridge calls this), once.
let pages;
globalThis.entraWizardPages = () => {
  pages ??= import(script.dataset.pages).then(async (module) => {
    await module.default({ module_or_path: script.dataset.pagesWasm });
    return module;
  });
  // A failed load may be tried again (the connection came back).
  pages.catch(() => { pages = undefined; });
  return pages;
};

const { default: init } = await import(script.dataset.js);
const wasm = await init({ module_or_path: script.dataset.wasm });
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));

// Offline after one visit: the worker caches the page's own files (never an
// API answer). Registered once the page runs, so it never slows the first load.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI)).catch((e) => {
    console.warn('entra-wizard: offline use is unavailable:', e);
  });
}
