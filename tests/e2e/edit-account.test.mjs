// F3, edit a service account, as an admin would on the demo tenant: the
// demo's records imported under Service accounts, then a record opened and
// repaired from its page. The renewed secret is shown once and is in no
// storage, no console message and no request; the old secret goes only
// after the confirmation. A deleted application is re-created: new IDs in
// the record, the old one in its history, the roles assigned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state } from './lib/emulator.mjs';
import { downloadPfxAndApply } from './lib/wizard.mjs';

/** A generated certificate with the test's password: review, download the PFX, apply. */
async function generateReviewAndApply(page) {
  await page.getByLabel('PFX password', { exact: true }).fill('Correct-Horse-42');
  await page.getByLabel('Confirm password').fill('Correct-Horse-42');
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  await downloadPfxAndApply(page);
}

const PRODUCTION = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51';
let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  context = await launch();
});
after(async () => { await context?.close(); });

/** The demo tenant's service-account records, as the page imports them. */
async function demoRecords() {
  const r = await fetch(`${EMULATOR_URL}/_emulator/demo/service-accounts`);
  assert.ok(r.ok, `demo records: ${r.status}`);
  return r.json();
}

const routeId = (r) => `${r.appId.toLowerCase()}@${r.tenantId.toLowerCase()}`;
const secretsOf = (s, appId) => Object.values(s.applications).map((a) => a.body)
  .find((b) => b.appId === appId)?.passwordCredentials ?? [];

/** Imports the demo records, opens the one named `name` and signs in there. */
async function openAccount(name) {
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  const records = await demoRecords();
  const rec = records.find((r) => r.name === name);
  assert.ok(rec, `the demo has a record '${name}'`);
  const { page, record } = await openPage(context, '/#/accounts');
  const consoleAll = [];
  page.on('console', (m) => consoleAll.push(m.text()));
  await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
  await page.locator('#accounts-import').setInputFiles({
    name: 'demo.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(records)),
  });
  await page.getByRole('status').filter({ hasText: 'Imported' }).waitFor();
  await page.goto(new URL(`/#/accounts/${routeId(rec)}`, BASE_URL).href);
  await page.locator('#account-detail').waitFor();
  await signIn(page, 'admin');
  await page.locator('#account-status').waitFor({ timeout: 60_000 });
  return { page, record, rec, consoleAll };
}

async function reviewAndApply(page) {
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Apply' }).click();
}

/** Every value the page keeps in its storages, as one string. */
const storages = (page) => page.evaluate(() => {
  const all = [];
  for (const s of [localStorage, sessionStorage]) {
    for (let i = 0; i < s.length; i += 1) all.push(s.key(i), s.getItem(s.key(i)));
  }
  return all.join('\n');
});

test('F3: the expiring secret is renewed, shown once, and the old one removed only after confirming', async () => {
  const { page, record, rec, consoleAll } = await openAccount('Contoso Archiver');
  assert.match(await page.locator('#account-status').textContent(), /expires in (9|10) days/);
  const before = secretsOf(await state(), rec.appId);
  assert.equal(before.length, 1);

  await page.getByRole('button', { name: 'Renew the secret' }).click();
  await page.getByLabel('Name of the new secret').fill('Archiver 2027');
  await page.getByLabel('Expires after').selectOption('180');
  await page.locator('#f3-renew-title').waitFor();
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await reviewAndApply(page);
  const shown = page.locator('#edit-new-secret-value');
  await shown.waitFor({ timeout: 120_000 });
  const value = await shown.inputValue();
  assert.ok(value.length >= 16, 'a secret value is shown');

  // Made once, next to the old one, which is still there.
  let secrets = secretsOf(await state(), rec.appId);
  assert.equal(secrets.length, 2);
  const made = secrets.find((s) => s.keyId !== before[0].keyId);
  assert.equal(made.hint, value.slice(0, 3));
  assert.match(made.displayName, /^Archiver 2027 \(entra-wizard:plan:/);

  // The value is in no storage, no console message and no request the page sent.
  assert.ok(!(await storages(page)).includes(value), 'not in localStorage or sessionStorage');
  assert.ok(consoleAll.every((m) => !m.includes(value)), 'not in the console');
  assert.ok(record.requests.every((r) => !r.url.includes(value) && !(r.body ?? '').includes(value)),
    'not in any request');
  // The record remembers the new secret's keyId until the confirmation.
  const saved = JSON.parse(await page.evaluate(() => localStorage.getItem(
    Object.keys(localStorage).find((k) => localStorage.getItem(k).includes('"pending"')),
  )));
  const pending = saved.find((r) => r.appId === rec.appId).pending;
  assert.equal(pending.keyId, made.keyId);

  // Confirm: its own reviewed plan removes the old secret.
  await page.locator('#edit-confirm').click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#plan-steps').textContent(), /Remove the old secret/);
  assert.equal(await shown.count(), 0, 'the value is gone once the result is left');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#edit-result-title').filter({ hasText: 'Old credential removed' }).waitFor({ timeout: 120_000 });
  secrets = secretsOf(await state(), rec.appId);
  assert.deepEqual(secrets.map((s) => s.keyId), [made.keyId]);
  await page.locator('#account-status').filter({ hasText: 'Healthy' }).waitFor({ timeout: 60_000 });

  assert.ok(!(await storages(page)).includes(value));
  assert.ok(!(await page.content()).includes(value), 'not in the page any more');
  assert.ok(record.requests.every((r) => !r.url.includes(value) && !(r.body ?? '').includes(value)));
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('F3: a deleted application is re-created with new IDs, its history kept and its roles assigned', async () => {
  const { page, rec } = await openAccount('Contoso Sync');
  assert.match(await page.locator('#account-status').textContent(), /no longer exists/);
  await page.getByRole('button', { name: 'Re-create the application' }).click();
  await generateReviewAndApply(page);
  const newId = (await page.locator('#edit-new-app-id').textContent({ timeout: 120_000 })).replace('Copy', '').trim();
  assert.notEqual(newId, rec.appId);
  assert.match(await page.locator('#edit-result').textContent(), /must be given the new application \(client\) ID/);

  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((b) => b.displayName === 'Contoso Sync');
  assert.deepEqual(apps.map((a) => a.appId), [newId]);
  const sp = Object.values(s.service_principals).map((p) => p.body).find((p) => p.appId === newId);
  assert.ok(sp, 'its service principal');
  const roles = s.role_assignments.filter((r) => r.principal_id === sp.id && r.scope === `/subscriptions/${PRODUCTION}`);
  assert.equal(roles.length, 3);

  const records = JSON.parse(await page.evaluate(() => localStorage.getItem(
    Object.keys(localStorage).find((k) => localStorage.getItem(k).includes('"history"')),
  )));
  const now = records.filter((r) => r.name === 'Contoso Sync');
  assert.equal(now.length, 1, 'the record is replaced, not duplicated');
  assert.equal(now[0].appId, newId);
  assert.equal(now[0].servicePrincipalId, sp.id);
  assert.deepEqual(now[0].history.map((h) => h.appId), [rec.appId]);
  await page.close();
});

test('F3: a new secret whose page was closed before confirming is offered for removal on the next visit', async () => {
  const { page, rec } = await openAccount('Contoso Archiver');
  const before = secretsOf(await state(), rec.appId);
  await page.getByRole('button', { name: 'Renew the secret' }).click();
  await page.getByRole('button', { name: 'Review', exact: true }).click();
  await reviewAndApply(page);
  await page.locator('#edit-new-secret-value').waitFor({ timeout: 120_000 });
  const made = secretsOf(await state(), rec.appId).find((s) => s.keyId !== before[0].keyId);

  // Closed without confirming: the value is gone, the record knows the keyId.
  await page.reload();
  await page.locator('#account-detail').waitFor();
  await signIn(page, 'admin');
  await page.locator('#account-pending').waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#account-pending-record').textContent(), new RegExp(made.keyId));
  assert.equal(await page.locator('#edit-new-secret-value').count(), 0);
  await page.locator('#account-remove-orphan').click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#plan-steps').textContent(), /whose value nobody has/);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#edit-result-title').filter({ hasText: 'Unused secret removed' }).waitFor({ timeout: 120_000 });
  assert.deepEqual(secretsOf(await state(), rec.appId).map((s) => s.keyId), [before[0].keyId]);
  await page.close();
});

test('F3: a policy that forbids secrets is named before anything is sent, and the service moves to a certificate', async () => {
  const { page, record, rec } = await openAccount('Contoso Reports');
  // Changes only: reads and the sign-in's token requests do not count.
  const changes = () => record.requests.filter((r) => r.method !== 'GET' && !r.url.includes('/oauth2/')).length;
  const sentBefore = changes();
  const named = page.locator('#account-policy');
  await named.filter({ hasText: 'Contoso: certificates only' }).waitFor({ timeout: 30_000 });
  assert.match(await named.textContent(), /Use a certificate instead/);
  const actions = page.locator('#account-actions');
  assert.equal(await actions.getByRole('button', { name: 'Renew the secret' }).count(), 0, 'no new secret offered');
  assert.equal(changes(), sentBefore, 'nothing was sent');

  const app = async () => Object.values((await state()).applications).map((a) => a.body).find((b) => b.appId === rec.appId);
  assert.equal((await app()).passwordCredentials.length, 1);
  await actions.getByRole('button', { name: 'Use a certificate instead' }).click();
  await generateReviewAndApply(page);
  await page.locator('#edit-result-title').filter({ hasText: 'New certificate registered' }).waitFor({ timeout: 120_000 });
  assert.equal((await app()).keyCredentials.length, 1);
  assert.equal((await app()).passwordCredentials.length, 1, 'the secret stays until the confirmation');

  await page.locator('#edit-confirm').click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#edit-result-title').filter({ hasText: 'Old credential removed' }).waitFor({ timeout: 120_000 });
  const after = await app();
  assert.equal(after.passwordCredentials.length, 0, 'the secret is gone');
  assert.equal(after.keyCredentials.length, 1);
  const records = JSON.parse(await page.evaluate(() => localStorage.getItem(
    Object.keys(localStorage).find((k) => localStorage.getItem(k).includes('"profile"')),
  )));
  const moved = records.find((r) => r.appId === rec.appId);
  assert.equal(moved.auth.type, 'certificate');
  assert.equal(moved.auth.thumbprint.toUpperCase(), after.keyCredentials[0].customKeyIdentifier.toUpperCase());
  await page.close();
});

test('F3: another application replaces the record\'s, checked in the page, its history kept', async () => {
  const { page, record, rec } = await openAccount('Contoso Archiver');
  const other = (await demoRecords()).find((r) => r.name === 'Contoso Restore');
  await page.getByRole('button', { name: 'Use another application' }).click();
  assert.match(await page.locator('#f3-other-title').locator('..').textContent(), new RegExp(rec.tenantId));
  await page.getByLabel('Application (client) ID').fill(other.appId);
  await page.getByLabel('Client secret', { exact: true }).check();
  await page.getByLabel('Client secret (value)').fill('Zq58Q~UpQGsvDxBcF8cHGBwsAtF-r0mXNik-Mbk7');
  const changes = () => record.requests.filter((r) => r.method !== 'GET' && !r.url.includes('/oauth2/')).length;
  const sent = changes();
  await page.getByRole('button', { name: 'Check and switch' }).click();
  await page.locator('#f3-other-saved').waitFor();
  assert.equal(changes(), sent, 'switching sends nothing');
  const records = JSON.parse(await page.evaluate(() => localStorage.getItem(
    Object.keys(localStorage).find((k) => localStorage.getItem(k).includes('"history"')),
  )));
  const switched = records.filter((r) => r.name === 'Contoso Archiver');
  assert.equal(switched.length, 1);
  assert.equal(switched[0].appId, other.appId);
  assert.equal(switched[0].auth.hint, 'Zq5');
  assert.deepEqual(switched[0].history.map((h) => h.appId), [rec.appId]);
  assert.ok(!JSON.stringify(records).includes('UpQGsv'), 'the secret is not kept');
  await page.close();
});

test('F3: the certificate is renewed while valid, the old key removed only after confirming', async () => {
  const { page, rec } = await openAccount('Contoso Restore');
  const keysOf = (s) => Object.values(s.applications).map((a) => a.body).find((b) => b.appId === rec.appId).keyCredentials;
  const old = keysOf(await state());
  assert.equal(old.length, 1);
  await page.getByRole('button', { name: 'Renew the certificate' }).click();
  await generateReviewAndApply(page);
  await page.locator('#edit-result-title').filter({ hasText: 'New certificate registered' }).waitFor({ timeout: 120_000 });
  assert.equal(keysOf(await state()).length, 2, 'the old key is kept until the confirmation');

  await page.locator('#edit-confirm').click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#plan-steps').textContent(), new RegExp(`Remove certificate .*${old[0].keyId}`));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#edit-result-title').filter({ hasText: 'Old credential removed' }).waitFor({ timeout: 120_000 });
  const left = keysOf(await state());
  assert.equal(left.length, 1);
  assert.notEqual(left[0].keyId, old[0].keyId);
  const records = JSON.parse(await page.evaluate(() => localStorage.getItem(
    Object.keys(localStorage).find((k) => localStorage.getItem(k).includes('"profile"')),
  )));
  const now = records.find((r) => r.appId === rec.appId);
  assert.equal(now.pending, undefined);
  assert.equal(now.auth.thumbprint.toUpperCase(), left[0].customKeyIdentifier.toUpperCase());
  await page.close();
});
