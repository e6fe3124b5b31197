// F4: an application's Azure roles on a subscription. appadmin@ (Contributor)
// is told which role they lack; admin@ (Owner) assigns the missing ones once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state } from './lib/emulator.mjs';

const CONTOSO_RESTORE = 'd8b0490d-823f-46df-8680-25017029384a';
const PRODUCTION = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51';
let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => { await context?.close(); });

async function checkRoles(user) {
  const { page, record } = await openPage(context, '/#/connect');
  await signIn(page, user);
  await page.getByLabel('Check and assign Azure roles').check();
  await page.getByLabel('Application (client) ID').fill(CONTOSO_RESTORE);
  await page.getByLabel('Permission profile').selectOption('azure-backup');
  const sub = page.getByLabel('Subscription for the Azure roles');
  await sub.waitFor({ timeout: 30_000 });
  await sub.selectOption(PRODUCTION);
  await page.getByRole('button', { name: 'Check roles' }).click();
  await page.locator('#f4-roles li').first().waitFor({ timeout: 60_000 });
  const roles = Object.fromEntries(
    await page.locator('#f4-roles li').evaluateAll((lis) => lis.map((li) => [
      li.querySelector('.role').textContent, li.querySelector('.state').textContent,
    ])),
  );
  return { page, record, roles };
}

const EXPECTED = {
  Contributor: 'assigned',
  'Key Vault Crypto User': 'missing',
  'Storage Queue Data Contributor': 'missing',
};

test('F4: appadmin@ sees the missing roles and is told which role they lack', async () => {
  const { page, record, roles } = await checkRoles('appadmin');
  assert.deepEqual(roles, EXPECTED);
  const refusal = await page.locator('#f4-admin-missing').textContent();
  assert.match(refusal, /Owner or User Access Administrator/);
  assert.equal(await page.getByRole('button', { name: 'Review the assignments' }).count(), 0);
  assert.ok(record.requests.every((r) => r.method === 'GET' || r.url.includes('/oauth2/')), 'checking only reads');
  await page.close();
});

test('F4: admin@ assigns the missing roles once', async () => {
  const { page, roles } = await checkRoles('admin');
  assert.deepEqual(roles, EXPECTED);
  await page.getByRole('button', { name: 'Review the assignments' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#apply-done').waitFor({ timeout: 120_000 });
  const states = await page.locator('#apply-progress li .state').allTextContents();
  assert.ok(states.every((s) => s.startsWith('Done') || s.startsWith('Already done')), states.join(', '));

  const s = await state();
  const sp = Object.values(s.service_principals).map((p) => p.body).find((p) => p.appId === CONTOSO_RESTORE);
  const assigned = s.role_assignments.filter((r) => r.principal_id === sp.id && r.scope === `/subscriptions/${PRODUCTION}`);
  assert.equal(assigned.length, 3);
  assert.equal(new Set(assigned.map((r) => r.role_definition_id)).size, 3, 'Contributor was not assigned twice');
  await page.close();
});
