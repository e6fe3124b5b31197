// Offline after one visit: the service worker has cached the page's own
// files, so with the network off a reload still opens the page, and the
// certificate tools work; the update notice shows after a new build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './lib/browser.mjs';
import { generate, cardFacts } from './lib/certificates.mjs';

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

/** Waits until the worker controls the page and has cached the page's files. */
async function cachedForOffline(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(async () => {
    const cache = await caches.open('entra-wizard-page');
    const urls = (await cache.keys()).map((r) => new URL(r.url).pathname);
    return urls.some((u) => u.endsWith('.wasm')) && urls.some((u) => u.endsWith('.js') && u !== '/sw.js')
      && urls.includes('/') && urls.includes('/config.json')
      // The crypto worker and the pages module (loaded on demand, not in the
      // first load) are kept too.
      && ['/crypto-worker_loader.js', '/crypto-worker.js', '/crypto-worker_bg.wasm', '/pages.js', '/pages_bg.wasm']
        .every((u) => urls.includes(u));
  }, null, { timeout: 30_000 });
}

test('visit once, go offline, reload: Certificates generates and inspects', async () => {
  const { page, record } = await openPage(context, '/#/certificates');
  await cachedForOffline(page);
  // Nothing from another origin (sign-in, Graph, ARM, the emulator) is cached.
  const foreign = await page.evaluate(async () => {
    const cache = await caches.open('entra-wizard-page');
    return (await cache.keys()).map((r) => r.url).filter((u) => new URL(u).origin !== location.origin);
  });
  assert.deepEqual(foreign, []);

  await context.setOffline(true);
  try {
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const facts = await generate(page, { cn: 'Offline SA', months: 6, password: 'Offline-Passw0rd-1' });
    assert.equal(facts['Subject'], 'CN=Offline SA');
    assert.equal(facts['Key'], 'RSA 2048 bits');

    // The PFX just made, opened again under Inspect, offline.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download .pfx' }).click(),
    ]);
    const bytes = await (await download.createReadStream()).toArray().then(Buffer.concat);
    await page.getByLabel('Choose a certificate file').setInputFiles({ name: 'offline.pfx', mimeType: 'application/x-pkcs12', buffer: bytes });
    const pw = page.getByLabel('Password for this file');
    await pw.waitFor();
    await pw.fill('Offline-Passw0rd-1');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('#inspect-result dl.facts').waitFor();
    const inspected = await cardFacts(page, '#inspect-result');
    assert.equal(inspected['SHA-1 thumbprint'], facts['SHA-1 thumbprint']);

    // The pages that call Microsoft open offline too, from the cache (a
    // wizard's form can be filled in; applying it needs the network).
    await page.getByRole('link', { name: 'Connect' }).click();
    await page.getByRole('heading', { level: 2, name: 'Register a new application' }).waitFor();
  } finally {
    await context.setOffline(false);
  }
  assert.deepEqual(record.pageErrors, []);
});

test('a new build is picked up on the next load, with a notice', async () => {
  const { page } = await openPage(context, '/#/certificates');
  await cachedForOffline(page);
  // As if the last visit had run an older build.
  await page.evaluate(() => localStorage.setItem('entra-wizard.build', '/entra-wizard-0000000000000000_bg.wasm'));
  await page.reload();
  await page.getByRole('status').filter({ hasText: 'updated since your last visit' }).waitFor();
  await page.getByRole('button', { name: 'Dismiss' }).click();
  assert.equal(await page.getByText('updated since your last visit').count(), 0);
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.equal(await page.getByText('updated since your last visit').count(), 0, 'said once');
});
