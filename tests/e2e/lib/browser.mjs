// Launches Debian's Chromium through playwright-core (never a downloaded
// browser) with a fresh profile, and records what a page does: console
// errors, uncaught exceptions and every request it makes.
import { afterEach } from 'node:test';
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const BASE_URL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

// Every Content-Security-Policy violation in any page of any context fails
// the test it happened in: the page's policy must allow all it does.
const cspViolations = [];
afterEach(() => {
  if (cspViolations.length > 0) {
    const seen = cspViolations.splice(0);
    throw new Error(`Content-Security-Policy violations: ${JSON.stringify(seen, null, 1)}`);
  }
});

/** A fresh browser profile; `options` go to Playwright (e.g. `serviceWorkers: 'block'`). */
export async function launch(options = {}) {
  const profile = mkdtempSync(join(process.env.E2E_TMP ?? tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  await context.exposeBinding('__e2eCspViolation', ({ page }, v) => {
    cspViolations.push({ page: page?.url(), ...v });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__e2eCspViolation({
        directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
      });
    });
  });
  return context;
}

// The browser fetches the page's icons, its manifest and its service worker
// script on its own, whenever it chooses (the manifest's icon can come well
// after load): plain GETs of those files carry nothing from the page, so
// they are not counted among the page's requests. Nor are the page's two
// on-demand modules, its own code: the crypto worker (loader, script and
// wasm, loaded the first time a certificate is made or opened) and the
// pages module (script and wasm, loaded on the first visit to a page that
// calls Microsoft). They are listed in `record.shell`. Anything else is.
const SHELL_FILES = /^\/(favicon(-[0-9a-f]+)?\.svg|manifest\.webmanifest|sw\.js|crypto-worker(_loader|_bg)?\.(js|wasm)|pages(_bg)?\.(js|wasm))$/;
function isShellFetch(r) {
  const url = new URL(r.url());
  return r.method() === 'GET' && url.origin === new URL(BASE_URL).origin
    && url.search === '' && SHELL_FILES.test(url.pathname);
}

/** Opens a page and records its console errors, page errors and requests. */
export async function openPage(context, path = '/') {
  const page = await context.newPage();
  const record = { consoleErrors: [], pageErrors: [], requests: [], shell: [] };
  page.on('console', (m) => { if (m.type() === 'error') record.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => record.pageErrors.push(String(e)));
  page.on('request', (r) => {
    if (isShellFetch(r)) record.shell.push(new URL(r.url()).pathname);
    else record.requests.push({ method: r.method(), url: r.url(), body: r.postData() });
  });
  await page.goto(new URL(path, BASE_URL).href);
  // The wasm app has mounted once the navigation is there.
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { page, record };
}
