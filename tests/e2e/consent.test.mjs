// Incremental consent: when the page's sign-in application was not granted
// a Graph permission a plan needs, the review names it and Apply stays off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, CLIENT_ID, reset, registerRedirectUri, signIn, userToken, graph, state } from './lib/emulator.mjs';

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  // An admin takes DelegatedPermissionGrant.ReadWrite.All out of the page's consent.
  const token = await userToken('admin');
  const sp = (await graph('GET', `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${CLIENT_ID}'`)}`, token)).value[0];
  const grants = (await graph('GET', `/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${sp.id}'`)}`, token)).value;
  const grant = grants.find((g) => g.scope.split(' ').includes('DelegatedPermissionGrant.ReadWrite.All'));
  assert.ok(grant, 'the demo client is consented for DelegatedPermissionGrant.ReadWrite.All');
  const scope = grant.scope.split(' ').filter((s) => s && s !== 'DelegatedPermissionGrant.ReadWrite.All').join(' ');
  await graph('PATCH', `/oauth2PermissionGrants/${grant.id}`, token, { scope });
  context = await launch();
});
after(async () => {
  await context?.close();
  await reset();
});

test('a plan needing a permission the page was not granted is blocked with the permission named', async () => {
  const name = `E2E Consent ${Date.now()}`;
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Restore Portal application').check();
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('Restore Portal web address').fill('https://portal.contoso.com:4443');
  await page.getByLabel('PFX password').fill('Correct-Horse-Battery-9');
  await page.getByLabel('Confirm password').fill('Correct-Horse-Battery-9');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  const consent = await page.locator('#consent-needed').textContent();
  assert.match(consent, /DelegatedPermissionGrant\.ReadWrite\.All/);
  assert.doesNotMatch(consent, /Application\.ReadWrite\.All/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Sign in again' }).count(), 1);
  const s = await state();
  assert.deepEqual(Object.values(s.applications).filter((a) => a.body.displayName === name), []);
  await page.close();
});
