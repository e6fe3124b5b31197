// F2: an existing application. Box off: checked in the page with the
// network cut, saved under Service accounts. Box on: signed in, the
// certificate registered next to the existing key, roles already there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state } from './lib/emulator.mjs';

const TENANT_ID = '8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47';
const CONTOSO_BACKUP = '082c67e2-3c4e-4548-b957-69746605c3bf';
const PRODUCTION = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51';
const TMP = process.env.E2E_TMP ?? '/tmp';
const openssl = (...args) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const PASSWORD = 'Existing-App-2026!';

/** A fresh RSA certificate and its PFX (OpenSSL 3 defaults). */
function makePfx(cn, days = 365) {
  const dir = mkdtempSync(join(TMP, 'f2-'));
  const key = join(dir, 'key.pem');
  const crt = join(dir, 'cert.pem');
  const pfx = join(dir, 'service.pfx');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', String(days), '-subj', `/CN=${cn}`);
  openssl('pkcs12', '-export', '-inkey', key, '-in', crt, '-out', pfx, '-passout', `pass:${PASSWORD}`);
  const certB64 = readFileSync(crt, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const thumbprint = openssl('x509', '-in', crt, '-noout', '-fingerprint', '-sha1').split('=')[1].replace(/:/g, '').trim();
  return { pfx, certB64, thumbprint };
}

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => { await context?.close(); });

test('F2 with the box off works with the network cut', async () => {
  const { pfx, thumbprint } = makePfx('E2E Offline');
  const { page, record } = await openPage(context, '/#/connect');
  await page.getByLabel('Use an existing application').check();
  await context.setOffline(true);
  const before = record.requests.length;
  try {
    await page.getByLabel('Tenant ID (or domain)').fill(TENANT_ID);
    await page.getByLabel('Application (client) ID').fill('not-a-guid');
    await page.getByLabel('Certificate file (PFX or P12)').setInputFiles(pfx);
    await page.getByLabel('Certificate password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Check and save' }).click();
    await page.locator('#f2-error').filter({ hasText: /application/i }).waitFor();
    await page.getByLabel('Application (client) ID').fill(CONTOSO_BACKUP);
    await page.getByLabel('Name for this service account (optional)').fill('Contoso Backup (offline)');
    await page.getByRole('button', { name: 'Check and save' }).click();
    const card = page.locator('#connection-card');
    await card.waitFor();
    assert.equal(await page.locator('#card-title').textContent(), 'Checked and saved');
    const text = await card.textContent();
    assert.match(text, new RegExp(CONTOSO_BACKUP));
    assert.match(text, new RegExp(thumbprint, 'i'));
    assert.equal(record.requests.length, before, 'nothing was sent');
  } finally {
    await context.setOffline(false);
  }
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('entra-wizard.service-accounts')));
  const saved = stored.find((r) => r.name === 'Contoso Backup (offline)');
  assert.equal(saved.appId, CONTOSO_BACKUP);
  assert.equal(saved.tenantId, TENANT_ID);
  assert.equal(saved.auth.thumbprint.toUpperCase(), thumbprint.toUpperCase());
  await page.evaluate(() => localStorage.clear());
  await page.close();
});

test('F2 with the box off keeps a certificate warning in view next to the card', async () => {
  const { pfx } = makePfx('E2E Expiring', 10);
  const { page } = await openPage(context, '/#/connect');
  await page.getByLabel('Use an existing application').check();
  await page.getByLabel('Tenant ID (or domain)').fill(TENANT_ID);
  await page.getByLabel('Application (client) ID').fill(CONTOSO_BACKUP);
  await page.getByLabel('Certificate file (PFX or P12)').setInputFiles(pfx);
  await page.getByLabel('Certificate password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Check and save' }).click();
  await page.locator('#connection-card').waitFor();
  const notice = await page.locator('#connect-notices').textContent();
  assert.match(notice, /expires on .*, in (9|10) days/);
  await page.evaluate(() => localStorage.clear());
  await page.close();
});

test('F2 with the box on registers the certificate next to the existing key', async () => {
  const { pfx, certB64 } = makePfx('E2E Renewed');
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Use an existing application').check();
  await page.getByLabel('Tenant ID (or domain)').fill(TENANT_ID);
  await page.getByLabel('Application (client) ID').fill(CONTOSO_BACKUP);
  await page.getByLabel('Certificate file (PFX or P12)').setInputFiles(pfx);
  await page.getByLabel('Certificate password').fill(PASSWORD);
  await page.getByLabel('Grant the required permissions').check();
  await page.getByLabel('Permission profile').selectOption('azure-backup');
  const sub = page.getByLabel('Subscription for the Azure roles');
  await sub.waitFor({ timeout: 30_000 });
  await sub.selectOption(PRODUCTION);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#connection-card').waitFor({ timeout: 120_000 });
  const states = await page.locator('#apply-progress li .state').allTextContents();
  assert.ok(states.some((s) => s.startsWith('Already done')), states.join(', '));

  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.appId === CONTOSO_BACKUP);
  assert.equal(apps.length, 1);
  assert.equal(apps[0].keyCredentials.length, 2, 'the old key is kept');
  assert.ok(apps[0].keyCredentials.some((k) => k.key === certB64));
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === CONTOSO_BACKUP);
  assert.equal(sps.length, 1);
  assert.equal(s.role_assignments.filter((r) => r.principal_id === sps[0].id).length, 3, 'no duplicate assignment');
  await page.close();
});

test('F2 with an application ID that is not in the tenant stops at the first step and says so', async () => {
  const { pfx } = makePfx('E2E Missing');
  const missing = '0badf00d-0000-4000-8000-000000000000';
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Use an existing application').check();
  await page.getByLabel('Tenant ID (or domain)').fill(TENANT_ID);
  await page.getByLabel('Application (client) ID').fill(missing);
  await page.getByLabel('Certificate file (PFX or P12)').setInputFiles(pfx);
  await page.getByLabel('Certificate password').fill(PASSWORD);
  await page.getByLabel('Grant the required permissions').check();
  await page.getByLabel('Permission profile').selectOption('restore-portal');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Apply' }).click();
  const failed = page.locator('#apply-progress li.failed');
  await failed.waitFor({ timeout: 60_000 });
  assert.match(await failed.textContent(), new RegExp(`No application with application \\(client\\) ID ${missing} exists in this tenant`));
  assert.equal(await page.locator('#apply-progress li.done').count(), 0);
  assert.match(await page.locator('#apply-error').textContent(), /Step 1 failed/);
  assert.equal(await page.getByRole('button', { name: 'Try again from the failed step' }).count(), 1);
  await page.close();
});
