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
