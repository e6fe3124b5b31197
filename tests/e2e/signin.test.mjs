// Sign-in through the emulator's pages (authorization code + PKCE, full-page
// redirect), sign-out, sign-in errors, and the Settings page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, TENANT, CLIENT_ID, reset, registerRedirectUri, signIn } from './lib/emulator.mjs';

const TENANT_ID = '8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47';
let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => { await context?.close(); });

test('an admin signs in with PKCE, sees the account and tenant, and signs out', async () => {
  const { page, record } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  const who = await page.locator('#signed-in-account').textContent();
  assert.match(who, /admin@contoso\.onmicrosoft\.com/);
  assert.match(who, new RegExp(TENANT_ID));
  // Back where the admin started, with the answer gone from the address.
  assert.equal(new URL(page.url()).hash, '#/connect');
  assert.doesNotMatch(page.url(), /code=|state=/);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Connect');
  // The pending sign-in was removed; nothing was put in localStorage but the
  // name of the build boot.js last started (for the update notice).
  const stored = await page.evaluate(() => ({
    session: Object.keys(sessionStorage),
    local: Object.keys(localStorage),
  }));
  assert.deepEqual(stored.session.filter((k) => k.includes('sign-in')), []);
  assert.deepEqual(stored.local.filter((k) => k !== 'entra-wizard.build'), []);
  // The code was redeemed with PKCE from the page.
  const codeCalls = record.requests.filter((r) => r.method === 'POST' && r.url.includes('/oauth2/v2.0/token')
    && r.body.includes('grant_type=authorization_code'));
  assert.equal(codeCalls.length, 1);
  assert.match(codeCalls[0].body, /code_verifier=/);
  assert.deepEqual(record.pageErrors, []);

  // Sign-out ends the Entra session too: Microsoft's logout URL, which
  // comes back to the page, signed out.
  const logout = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/logout'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  const logoutUrl = new URL((await logout).url());
  assert.equal(logoutUrl.searchParams.get('post_logout_redirect_uri'), new URL('/', BASE_URL).href);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('#signed-in-account').count(), 0);
  await page.close();
});

test('an answer this page did not ask for is refused with advice', async () => {
  const { page } = await openPage(context, '/#code=forged&state=forged');
  const alert = page.locator('#sign-in-error');
  await alert.waitFor();
  assert.match(await alert.textContent(), /No sign-in was in progress.*Sign in again/);
  assert.doesNotMatch(page.url(), /forged/);
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 1);
  await page.close();
});

test('Settings show config.json, save an override in localStorage and go back to the defaults', async () => {
  const { page } = await openPage(context, '/#/settings');
  const cloud = page.getByLabel('Cloud', { exact: true });
  await cloud.waitFor();
  assert.equal(await cloud.inputValue(), 'local');
  assert.equal(await page.getByLabel('Emulator address').inputValue(), EMULATOR_URL);
  assert.equal(await page.getByLabel('Client ID of the sign-in application').inputValue(), CLIENT_ID);
  const tenant = page.getByLabel(/^Tenant/);
  assert.equal(await tenant.inputValue(), TENANT);

  await page.getByLabel('Client ID of the sign-in application').fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('alert').filter({ hasText: 'client ID' }).textContent(), /Set the client ID/);

  await cloud.selectOption('usGovernment');
  assert.equal(await page.getByLabel('Emulator address').count(), 0);
  await page.getByLabel('Client ID of the sign-in application').fill('11111111-2222-3333-4444-555555555555');
  await tenant.fill('fabrikam.onmicrosoft.us');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const saved = JSON.parse(await page.evaluate(() => localStorage.getItem('entra-wizard.settings')));
  assert.deepEqual(saved, {
    cloud: 'usGovernment',
    clientId: '11111111-2222-3333-4444-555555555555',
    tenant: 'fabrikam.onmicrosoft.us',
  });

  await page.reload();
  await page.getByLabel('Cloud', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('Cloud', { exact: true }).inputValue(), 'usGovernment');
  assert.equal(await page.getByLabel(/^Tenant/).inputValue(), 'fabrikam.onmicrosoft.us');

  await page.getByRole('button', { name: "Use the deployment's defaults" }).click();
  assert.equal(await page.getByLabel('Cloud', { exact: true }).inputValue(), 'local');
  assert.equal(await page.getByLabel(/^Tenant/).inputValue(), TENANT);
  assert.equal(await page.evaluate(() => localStorage.getItem('entra-wizard.settings')), null);
  await page.close();
});
