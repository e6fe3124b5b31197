// F1 end to end as an admin would do it: sign in through the emulator's
// pages, register a new application with a certificate generated in the
// page and the azure-backup profile on subscription Production, then check
// the emulator's state, the downloaded PFX, and that no request ever
// carried the private key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply, reviewNewApplication } from './lib/wizard.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state, requests } from './lib/emulator.mjs';

const PRODUCTION = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51';
const ROLES = {
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '12338af0-0e69-4776-bea7-57ae8d297424': 'Key Vault Crypto User',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
};
const TMP = process.env.E2E_TMP ?? '/tmp';
const openssl = (...args) => execFileSync('openssl', args, { encoding: 'utf8' });
/** The base64 body of a PEM block, on one line. */
const pemBody = (pem, label) => {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  assert.ok(m, `no ${label} block`);
  return m[1].replace(/\s+/g, '');
};

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => { await context?.close(); });

test('F1: an admin registers a new application with a generated certificate and azure-backup roles', async () => {
  const name = `E2E Backup ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page, record } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await reviewNewApplication(page, { name, password, subscription: PRODUCTION, description: 'Backup service (end-to-end test)' });

  const sentences = await page.locator('#plan-steps li .sentence').allTextContents();
  assert.equal(sentences[0], `Create application '${name}'`);
  for (const role of Object.values(ROLES)) {
    assert.ok(sentences.some((s) => s.includes(role) && s.includes('Production')), `${role} in ${sentences}`);
  }
  // Each step discloses its request, with no certificate bytes or secrets.
  assert.equal(await page.locator('#plan-steps li details').count(), sentences.length);
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);

  // Apply waits for the generated key's PFX to be saved.
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true);
  await downloadPfxAndApply(page);
  const card = page.locator('#connection-card');
  await card.waitFor({ timeout: 180_000 });
  const facts = Object.fromEntries(
    await card.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.firstChild.textContent])),
  );
  const states = await page.locator('#apply-progress li .state').allTextContents();
  assert.ok(states.every((s) => s.startsWith('Done')), states.join(', '));

  // The downloads: the connection record and the PFX made here.
  const [jsonDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download connection (.json)' }).click(),
  ]);
  const jsonPath = join(TMP, `f1-${Date.now()}.json`);
  await jsonDownload.saveAs(jsonPath);
  const saved = JSON.parse(execFileSync('cat', [jsonPath], { encoding: 'utf8' }));
  assert.equal(saved.appId, facts['Application (client) ID']);
  assert.equal(saved.name, name);
  assert.equal(saved.profile, 'azure-backup');
  const [pfxDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: /^Download .*\.pfx$/ }).click(),
  ]);
  const pfxPath = join(TMP, `f1-${Date.now()}.pfx`);
  await pfxDownload.saveAs(pfxPath);
  const certPem = openssl('pkcs12', '-in', pfxPath, '-passin', `pass:${password}`, '-nokeys');
  const certB64 = pemBody(certPem, 'CERTIFICATE');
  const keyPem = openssl('pkcs12', '-in', pfxPath, '-passin', `pass:${password}`, '-nocerts', '-nodes');
  const keyPemBody = pemBody(keyPem, 'PRIVATE KEY');
  const keyDer = Buffer.from(keyPemBody, 'base64');

  // The tenant: exactly one application and one service principal, the
  // certificate registered, the three roles on Production.
  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.displayName === name);
  assert.equal(apps.length, 1);
  const app = apps[0];
  assert.equal(app.appId, facts['Application (client) ID']);
  assert.equal(app.id, facts['Application object ID']);
  assert.equal(app.description, 'Backup service (end-to-end test)');
  assert.equal(app.keyCredentials.length, 1);
  assert.equal(app.keyCredentials[0].key, certB64);
  assert.equal(app.keyCredentials[0].customKeyIdentifier, facts['Certificate thumbprint (SHA-1)'].toUpperCase());
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === app.appId);
  assert.equal(sps.length, 1);
  assert.equal(sps[0].id, facts['Service principal object ID']);
  const assigned = s.role_assignments.filter((r) => r.principal_id === sps[0].id);
  assert.deepEqual(
    assigned.map((r) => ROLES[r.role_definition_id]).sort(),
    Object.values(ROLES).sort(),
  );
  for (const r of assigned) {
    assert.equal(r.scope, `/subscriptions/${PRODUCTION}`);
    assert.equal(r.principal_type, 'ServicePrincipal');
  }

  // No request carried the private key: neither the emulator's log nor
  // what the browser sent.
  const bodies = [
    ...(await requests()).map((r) => r.requestBody ?? ''),
    ...record.requests.map((r) => r.body ?? ''),
  ].map((b) => (typeof b === 'string' ? b : JSON.stringify(b)));
  assert.ok(bodies.some((b) => b.includes(certB64)), 'the certificate was sent (the log records bodies)');
  const needles = [keyPemBody, keyDer.toString('base64'), keyDer.toString('base64url'), keyPemBody.slice(40, 120)];
  for (const b of bodies) {
    for (const n of needles) assert.ok(!b.includes(n), 'a request carried the private key');
  }

  // The record is saved for Service accounts (no secret in it).
  const stored = await page.evaluate(() => localStorage.getItem('entra-wizard.service-accounts'));
  assert.ok(stored.includes(app.appId));
  assert.ok(!stored.includes(keyPemBody.slice(40, 120)));
  await page.getByRole('link', { name: 'Service accounts' }).click();
  await page.locator('#accounts-list').waitFor();
  assert.ok((await page.locator('#accounts-list h3').allTextContents()).includes(name));
  assert.match(await page.locator('#accounts-list').textContent(), new RegExp(app.appId));
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('F1: reader@ gets the pre-flight refusal naming the missing role, and nothing is created', async () => {
  const name = `E2E Reader ${Date.now()}`;
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'reader');
  // reader@ can see no subscription for azure-backup's roles: said so.
  await page.getByLabel('Permission profile').selectOption('azure-backup');
  await page.locator('#f1-no-subscription').waitFor({ timeout: 30_000 });
  // A profile without Azure roles reaches the review, which refuses.
  await page.getByLabel('Permission profile').selectOption('restore-portal');
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('PFX password').fill('Correct-Horse-Battery-9');
  await page.getByLabel('Confirm password').fill('Correct-Horse-Battery-9');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  const preflight = await page.locator('#preflight').textContent();
  assert.match(preflight, /you cannot apply this plan/);
  assert.match(preflight, /Application Administrator/);
  assert.match(preflight, /it has no directory role/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true);
  const s = await state();
  assert.deepEqual(Object.values(s.applications).filter((a) => a.body.displayName === name), []);
  await page.close();
});
