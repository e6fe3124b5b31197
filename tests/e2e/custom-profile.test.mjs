// F1 with a custom permission profile: "Load a custom profile (JSON)" names
// the field at fault, a loaded profile joins the profile list, and
// appadmin@ (Application Administrator) asking for a Microsoft Graph
// application permission gets the pre-flight refusal naming the roles that
// can grant it — with nothing created in the tenant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state } from './lib/emulator.mjs';

const GRAPH = '00000003-0000-0000-c000-000000000000';
const PROFILE = {
  id: 'directory-reader',
  displayName: 'Directory reader (test)',
  description: 'Reads the tenant’s applications.',
  resources: [
    { resourceAppId: GRAPH, displayName: 'Microsoft Graph', applicationPermissions: ['Application.Read.All'] },
  ],
};

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => {
  await context?.close();
  await reset();
});

test('a pasted custom profile with a wrong field is refused naming the field', async () => {
  const { page } = await openPage(context, '/#/connect');
  await page.getByText('Load a custom profile (JSON)').click();
  const bad = { ...PROFILE, resources: [{ ...PROFILE.resources[0], resourceAppId: 'graph' }] };
  await page.getByLabel('Custom profile JSON').fill(JSON.stringify(bad));
  await page.getByRole('button', { name: 'Load profile' }).click();
  const error = page.locator('#f1-custom-error');
  await error.filter({ hasText: /resources\[0\]\.resourceAppId/ }).waitFor({ timeout: 30_000 });
  assert.match(await error.textContent(), /'graph' is not an application ID/);
  // A shipped profile's ID is refused too.
  await page.getByLabel('Custom profile JSON').fill(JSON.stringify({ ...PROFILE, id: 'azure-backup' }));
  await page.getByRole('button', { name: 'Load profile' }).click();
  await error.filter({ hasText: /^id: 'azure-backup' is the ID of a profile this page ships/ }).waitFor({ timeout: 30_000 });
  const options = await page.locator('#f1-profile option').allTextContents();
  assert.ok(!options.some((o) => o.includes('(custom)')), `nothing was added: ${options}`);
  await page.close();
});

test('appadmin@ with a custom profile granting a Graph application permission gets the app-role refusal explained', async () => {
  const name = `E2E Custom ${Date.now()}`;
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'appadmin');
  await page.getByText('Load a custom profile (JSON)').click();
  await page.getByLabel('Custom profile file').setInputFiles({
    name: 'directory-reader.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ version: 1, profiles: [PROFILE] })),
  });
  await page.locator('#f1-custom-loaded').filter({ hasText: /Directory reader \(test\)/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#f1-custom-error').textContent(), '');
  assert.equal(await page.getByLabel('Permission profile').inputValue(), 'directory-reader');
  const options = await page.locator('#f1-profile option').allTextContents();
  assert.ok(options.includes('Directory reader (test) (custom)'), `the custom profile is listed: ${options}`);

  const before = await state();
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('PFX password').fill('Correct-Horse-Battery-9');
  await page.getByLabel('Confirm password').fill('Correct-Horse-Battery-9');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  const sentences = await page.locator('#plan-steps li .sentence').allTextContents();
  assert.ok(sentences.some((s) => /Application\.Read\.All/.test(s)), `the plan grants the app role: ${sentences}`);
  const preflight = await page.locator('#preflight').textContent();
  assert.match(preflight, /you cannot apply this plan/);
  assert.match(preflight, /Microsoft Graph application permissions/);
  assert.match(preflight, /Global Administrator or Privileged Role Administrator/);
  assert.match(preflight, /it has Application Administrator/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true);

  // Nothing half-created: the tenant is as it was.
  const after = await state();
  assert.deepEqual(Object.values(after.applications).filter((a) => a.body.displayName === name), []);
  assert.equal(Object.keys(after.applications).length, Object.keys(before.applications).length);
  assert.equal(Object.keys(after.service_principals).length, Object.keys(before.service_principals).length);
  await page.close();
});
