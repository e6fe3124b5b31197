// F5: the Restore Portal application, new, as admin@: the address checked,
// set as spa redirect URI, access_as_user exposed under api://{appId},
// User.Read and that scope consented.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply } from './lib/wizard.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state } from './lib/emulator.mjs';

const GRAPH_USER_READ = 'User.Read';
let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => { await context?.close(); });

test('F5: a new Restore Portal application with its address, scope and consent', async () => {
  const name = `E2E Portal ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Restore Portal application').check();
  assert.equal(await page.locator('#f5-region').textContent(), 'Local emulator');
  assert.match(await page.locator('#f5-address-help').textContent(), /https:\/\/135\.169\.170\.192:4443/);
  assert.match(await page.locator('#f5-note').textContent(), /several redirect URIs/);
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  // HTTP is refused.
  await page.getByLabel('Restore Portal web address').fill('http://portal.contoso.com:4443');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#f5-error').filter({ hasText: /HTTPS|https/ }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Restore Portal web address').fill('https://portal.contoso.com:4443');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);
  await downloadPfxAndApply(page);
  const card = page.locator('#connection-card');
  await card.waitFor({ timeout: 180_000 });
  assert.match(await card.textContent(), /Restore Portal address/);

  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.displayName === name);
  assert.equal(apps.length, 1);
  const app = apps[0];
  assert.equal(app.spa.redirectUris.length, 1);
  assert.match(app.spa.redirectUris[0], /^https:\/\/portal\.contoso\.com:4443/);
  assert.deepEqual(app.identifierUris, [`api://${app.appId}`]);
  assert.deepEqual(app.api.oauth2PermissionScopes.map((p) => p.value), ['access_as_user']);
  assert.equal(app.keyCredentials.length, 1);
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === app.appId);
  assert.equal(sps.length, 1);
  const grants = s.oauth2_permission_grants.filter((g) => g.clientId === sps[0].id);
  const scopes = grants.flatMap((g) => g.scope.split(' ').filter(Boolean));
  assert.ok(scopes.includes(GRAPH_USER_READ), scopes.join(' '));
  assert.ok(scopes.includes('access_as_user'), scopes.join(' '));
  assert.ok(grants.every((g) => g.consentType === 'AllPrincipals'));
  await page.close();
});

test('F5: an existing application gets the portal address, the scope and a new certificate next to its key', async () => {
  const CONTOSO_RESTORE = 'd8b0490d-823f-46df-8680-25017029384a';
  const password = 'Correct-Horse-Battery-9';
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Restore Portal application').check();
  await page.locator('input[name="f5-app"]').nth(1).check();
  await page.getByLabel('Application (client) ID').fill(CONTOSO_RESTORE);
  await page.getByLabel('Restore Portal web address').fill('https://135.169.170.192:4443');
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  await downloadPfxAndApply(page);
  await page.locator('#connection-card').waitFor({ timeout: 180_000 });

  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.appId === CONTOSO_RESTORE);
  assert.equal(apps.length, 1);
  const app = apps[0];
  assert.equal(app.keyCredentials.length, 2, 'the existing certificate is kept');
  assert.ok(app.spa.redirectUris.some((u) => u.startsWith('https://135.169.170.192:4443')), app.spa.redirectUris.join(' '));
  assert.deepEqual(app.identifierUris, [`api://${CONTOSO_RESTORE}`]);
  assert.deepEqual(app.api.oauth2PermissionScopes.map((p) => p.value), ['access_as_user']);
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === CONTOSO_RESTORE);
  assert.equal(sps.length, 1, 'no second service principal');
  await page.close();
});
