// Incremental consent: when the page's sign-in application was not granted
// a Graph permission a plan needs, the review names it and Apply stays off;
// "Consent and sign in again" asks Entra for exactly that permission, the
// admin consents on Microsoft's page, comes back and can apply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply } from './lib/wizard.mjs';
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

async function fillPortal(page, name) {
  // The sign-in brings the admin back to this wizard's own address.
  await page.getByRole('radio', { name: 'Restore Portal application' }).check();
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('Restore Portal web address').fill('https://portal.contoso.com:4443');
  await page.getByLabel('PFX password').fill('Correct-Horse-Battery-9');
  await page.getByLabel('Confirm password').fill('Correct-Horse-Battery-9');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
}

test('a plan needing a permission the page was not granted is blocked, consented to in Entra, then applied', async () => {
  const name = `E2E Consent ${Date.now()}`;
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await fillPortal(page, name);
  const consent = await page.locator('#consent-needed').textContent();
  assert.match(consent, /DelegatedPermissionGrant\.ReadWrite\.All/);
  assert.doesNotMatch(consent, /Application\.ReadWrite\.All/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true);
  let s = await state();
  assert.deepEqual(Object.values(s.applications).filter((a) => a.body.displayName === name), []);

  // The consent button asks Entra for exactly the missing permission.
  const authorize = page.waitForRequest((r) => r.url().startsWith(EMULATOR_URL) && r.url().includes('/authorize'));
  await page.getByRole('button', { name: 'Consent and sign in again' }).click();
  const scopes = new URL((await authorize).url()).searchParams.get('scope').split(' ');
  assert.ok(scopes.some((x) => x.endsWith('/DelegatedPermissionGrant.ReadWrite.All')), `scope asks for the missing permission: ${scopes}`);
  assert.ok(scopes.includes('openid') && scopes.includes('offline_access'), `scope keeps the sign-in's own scopes: ${scopes}`);
  assert.ok(!scopes.some((x) => x.endsWith('/Application.ReadWrite.All')), `scope asks for nothing already granted: ${scopes}`);
  await page.locator('#pick-admin').click();
  // Entra's consent screen names the permission; the admin accepts.
  const accept = page.locator('#consent-accept');
  await accept.waitFor({ timeout: 30_000 });
  await accept.click();
  await page.waitForURL((u) => !u.href.startsWith(EMULATOR_URL), { timeout: 30_000 });
  await page.locator('#signed-in-account').waitFor({ timeout: 30_000 });
  assert.match(new URL(page.url()).hash, /^#\/connect/);
  const notice = await page.locator('#sign-in-notice').textContent();
  assert.match(notice, /DelegatedPermissionGrant\.ReadWrite\.All/);

  // The emulator recorded the consent for the page's client.
  const token = await userToken('admin');
  const sp = (await graph('GET', `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${CLIENT_ID}'`)}`, token)).value[0];
  const grants = (await graph('GET', `/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${sp.id}'`)}`, token)).value;
  assert.ok(grants.some((g) => g.scope.split(' ').includes('DelegatedPermissionGrant.ReadWrite.All')));

  // Reviewed again, the plan is no longer blocked and applies.
  await fillPortal(page, name);
  assert.equal(await page.locator('#consent-needed').count(), 0);
  await downloadPfxAndApply(page);
  await page.locator('#connection-card').waitFor({ timeout: 180_000 });
  s = await state();
  assert.equal(Object.values(s.applications).filter((a) => a.body.displayName === name).length, 1);
  await page.close();
});
