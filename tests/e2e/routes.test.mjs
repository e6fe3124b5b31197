// The page's addresses: each wizard has its own route, query parameters
// fill it in, back and forward move between wizards, a service account has
// its own page with links that open a wizard for it, and an unknown address
// says so with links.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './lib/browser.mjs';

const APP = 'd8b0490d-823f-46df-8680-25017029384a';
const TENANT_ID = '8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47';

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('query parameters fill in a wizard, and back and forward move between wizards', async () => {
  const { page, record } = await openPage(context, `/#/connect/existing?app=${APP}&tenant=${TENANT_ID}`);
  await page.getByRole('heading', { level: 2, name: 'Use an existing application' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Use an existing application' }).isChecked(), true);
  assert.equal(await page.getByLabel('Application (client) ID').inputValue(), APP);
  assert.equal(await page.getByLabel('Tenant ID (or domain)').inputValue(), TENANT_ID);

  // Choosing another wizard is a new history entry.
  await page.getByRole('radio', { name: 'Check and assign Azure roles' }).check();
  await page.waitForURL(/#\/connect\/roles$/);
  await page.getByRole('heading', { level: 2, name: 'Check and assign Azure roles' }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { level: 2, name: 'Use an existing application' }).waitFor();
  assert.equal(await page.getByLabel('Application (client) ID').inputValue(), APP);
  await page.goForward();
  await page.getByRole('heading', { level: 2, name: 'Check and assign Azure roles' }).waitFor();

  // F4 and F5 take the application too.
  await page.goto(new URL(`#/connect/roles?app=${APP}`, page.url()).href);
  await page.getByRole('heading', { level: 2, name: 'Check and assign Azure roles' }).waitFor();
  assert.equal(await page.getByLabel('Application (client) ID').inputValue(), APP);
  await page.goto(new URL(`#/connect/portal?app=${APP}`, page.url()).href);
  await page.getByRole('heading', { level: 2, name: 'Restore Portal application' }).waitFor();
  assert.equal(await page.getByLabel('Application (client) ID').inputValue(), APP);
  assert.equal(await page.getByRole('link', { name: 'Connect' }).getAttribute('aria-current'), 'page');
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('an unknown address says so, with links; a renew link opens F6 with its thumbprint, the dashboard asks for a sign-in', async () => {
  const { page } = await openPage(context, '/#/nowhere/at-all');
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  assert.match(await page.locator('main').textContent(), /There is no page at #\/nowhere\/at-all/);
  await page.locator('main').getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();

  await page.goto(new URL(`#/renew?app=${APP}&thumbprint=4044D714386E1935B9B2B1D50FD5722114DCD999`, page.url()).href);
  await page.getByRole('heading', { level: 1, name: 'Renew a credential' }).waitFor();
  // Signed out, the link fills the F6 box; the search waits for a sign-in.
  assert.equal(await page.locator('#renew-input').inputValue(), '4044D714386E1935B9B2B1D50FD5722114DCD999');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.locator('#dashboard-signed-out').waitFor();
  await page.close();
});

test('a service account has its own address, with links to renew it and check its roles', async () => {
  const { page } = await openPage(context, '/#/accounts');
  await page.locator('#accounts-empty').waitFor();
  const saved = {
    format: 1,
    name: 'Routed One',
    cloud: { cloud: 'global' },
    tenantId: TENANT_ID,
    appId: APP,
    auth: { type: 'clientSecret', hint: 'abc' },
    profile: 'azure-backup',
    saved: '2026-06-01T12:00:00Z',
  };
  await page.locator('#accounts-import').setInputFiles({
    name: 'one.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify([saved])),
  });
  await page.getByRole('link', { name: 'Routed One' }).click();
  await page.waitForURL(new RegExp(`#/accounts/${APP}@${TENANT_ID}$`));
  await page.locator('#account-detail').waitFor();
  await page.getByRole('link', { name: 'Check Azure roles' }).click();
  await page.getByRole('heading', { level: 2, name: 'Check and assign Azure roles' }).waitFor();
  assert.equal(await page.getByLabel('Application (client) ID').inputValue(), APP);
  await page.goBack();
  await page.locator('#account-detail').waitFor();
  await page.goto(new URL('#/accounts/nobody@nowhere', page.url()).href);
  await page.locator('#account-missing').waitFor();
  await page.evaluate(() => localStorage.clear());
  await page.close();
});
