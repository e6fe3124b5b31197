// The page loads from the built dist/ with no error, and its shell works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('the page loads with no console error', async () => {
  const { page, record } = await openPage(context);
  await page.waitForLoadState('networkidle');
  assert.deepEqual(record.pageErrors, []);
  assert.deepEqual(record.consoleErrors, []);
  assert.equal(await page.title(), 'entra-wizard');
  // Only the page's own files were fetched.
  const origin = new URL(BASE_URL).origin;
  const foreign = record.requests.filter((r) => new URL(r.url).origin !== origin);
  assert.deepEqual(foreign, []);
});

test('navigation follows the address and the keyboard', async () => {
  const { page } = await openPage(context, '/#/settings');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Settings');
  await page.getByRole('link', { name: 'Dashboard' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/dashboard$/);
  // The page re-renders on the hashchange event, just after the URL changes.
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.equal(
    await page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current'),
    'page',
  );
  await page.goBack();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
});

// The first load is the shell (sign-in, certificate tools, settings); the
// pages that call Microsoft are a second wasm module, fetched on the first
// visit to one of them and then kept for the rest of the visit.
test('the pages that call Microsoft load on the first visit to one, once', async () => {
  const { page, record } = await openPage(context, '/#/certificates');
  await page.waitForLoadState('networkidle');
  const pagesFetched = () => record.shell.filter((p) => p === '/pages_bg.wasm').length;
  assert.equal(pagesFetched(), 0, 'not in the first load');

  await page.getByRole('link', { name: 'Connect' }).click();
  await page.getByRole('heading', { level: 2, name: 'Register a new application' }).waitFor();
  assert.equal(pagesFetched(), 1);
  for (const [link, heading] of [['Dashboard', 'Dashboard'], ['Certificates', 'Certificates'], ['Service accounts', 'Service accounts'], ['Connect', 'Connect']]) {
    await page.getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }
  await page.getByRole('heading', { level: 2, name: 'Register a new application' }).waitFor();
  // The shell's pages show nothing of the pages module's, and back again.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.getByRole('heading', { level: 2, name: 'Register a new application' }).count(), 0);
  assert.equal(pagesFetched(), 1, 'loaded once');
  assert.deepEqual(record.pageErrors, []);
  assert.deepEqual(record.consoleErrors, []);
});

test('a pages module that cannot be fetched is named, and Try again loads it', async () => {
  // No service worker: it would answer from its cache, where routes do not reach.
  const bare = await launch({ serviceWorkers: 'block' });
  const page = await bare.newPage();
  await page.route('**/pages_bg.wasm', (route) => route.abort('internetdisconnected'));
  await page.goto(new URL('/#/dashboard', BASE_URL).href);
  const error = page.locator('#pages-error');
  await error.waitFor();
  assert.match(await error.textContent(), /This page could not be loaded .*Check the network connection and try again/);
  // The shell still works meanwhile.
  await page.getByRole('link', { name: 'Certificates' }).click();
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  await page.goBack();
  await page.unroute('**/pages_bg.wasm');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.locator('#dashboard-signed-out').waitFor();
  assert.equal(await page.locator('#pages-error').count(), 0);
  await bare.close();
});
