// F1 variants: a certificate imported from the admin's own PFX, and a run
// through injected throttling (429) and replication delay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply, reviewNewApplication } from './lib/wizard.mjs';
import { EMULATOR_URL, CLIENT_ID, reset, registerRedirectUri, signIn, state, requests, faults, graph, userToken } from './lib/emulator.mjs';

const DEVELOPMENT = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b52';
const TMP = process.env.E2E_TMP ?? '/tmp';
const openssl = (...args) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => {
  await faults({ random429: 0, replicationMs: 0 });
  await context?.close();
});

/**
 * A token that may change the tenant's default app management policy: the
 * admin consents, for the whole tenant, the page's client to
 * Policy.ReadWrite.ApplicationConfiguration (as an admin would in the
 * portal), then asks for it.
 */
async function policyAdminToken() {
  const admin = await userToken('admin');
  const sp = async (appId) => (await graph('GET', `/servicePrincipals?$filter=appId eq '${appId}'`, admin)).value[0].id;
  const [client, msGraph] = [await sp(CLIENT_ID), await sp('00000003-0000-0000-c000-000000000000')];
  const grants = await graph('GET', `/oauth2PermissionGrants?$filter=clientId eq '${client}'`, admin);
  const grant = grants.value.find((g) => g.resourceId === msGraph && g.consentType === 'AllPrincipals');
  const scope = 'Policy.ReadWrite.ApplicationConfiguration';
  if (grant) await graph('PATCH', `/oauth2PermissionGrants/${grant.id}`, admin, { scope: `${grant.scope} ${scope}` });
  else await graph('POST', '/oauth2PermissionGrants', admin, { clientId: client, consentType: 'AllPrincipals', resourceId: msGraph, scope });
  return userToken('admin', `https://graph.microsoft.com/${scope}`);
}

function appsNamed(s, name) {
  return Object.values(s.applications).map((a) => a.body).filter((a) => a.displayName === name);
}

test('F1 with a certificate from the admin\'s own PFX (OpenSSL 3, AES-256)', async () => {
  const dir = mkdtempSync(join(TMP, 'pfx-'));
  const key = join(dir, 'key.pem');
  const crt = join(dir, 'cert.pem');
  const pfx = join(dir, 'service.pfx');
  const password = 'Import-Me-2026!';
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt,
    '-days', '365', '-subj', '/CN=E2E Imported');
  openssl('pkcs12', '-export', '-inkey', key, '-in', crt, '-out', pfx, '-passout', `pass:${password}`);
  const certB64 = readFileSync(crt, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const keyBody = readFileSync(key, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

  const name = `E2E Imported ${Date.now()}`;
  const { page, record } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await page.getByLabel('Application name').fill(name);
  await page.getByLabel('Permission profile').selectOption('restore-portal');
  await page.getByLabel('Redirect URI (optional)').fill('https://portal.contoso.com:4443');
  await page.getByLabel('Use a PFX/P12 file I have').check();
  // A wrong password is refused in the page, before anything is sent.
  await page.getByLabel('PFX or P12 file').setInputFiles(pfx);
  await page.getByLabel('Password of the PFX').fill('wrong');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#f1-error').filter({ hasText: /password/i }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Password of the PFX').fill(password);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);
  assert.equal(await page.getByRole('button', { name: 'Download the PFX now' }).count(), 0);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#connection-card').waitFor({ timeout: 180_000 });
  assert.equal(await page.getByRole('button', { name: /\.pfx$/ }).count(), 0, 'no PFX to offer: the admin has it');

  const apps = appsNamed(await state(), name);
  assert.equal(apps.length, 1);
  assert.equal(apps[0].keyCredentials.length, 1);
  assert.equal(apps[0].keyCredentials[0].key, certB64);
  assert.deepEqual(apps[0].spa.redirectUris, ['https://portal.contoso.com:4443']);
  assert.deepEqual(apps[0].identifierUris, [`api://${apps[0].appId}`]);
  const bodies = [...(await requests()).map((r) => r.requestBody ?? ''), ...record.requests.map((r) => r.body ?? '')]
    .map((b) => (typeof b === 'string' ? b : JSON.stringify(b)));
  for (const b of bodies) assert.ok(!b.includes(keyBody.slice(40, 120)), 'a request carried the private key');
  await page.close();
});

test('F1 through 20 % throttled answers and a replication delay completes with no duplicates', async () => {
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  const name = `E2E Faults ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await faults({ spec: 'random429=0.2,replication=3s,seed=11' });
  await reviewNewApplication(page, { name, password, subscription: DEVELOPMENT });
  await downloadPfxAndApply(page);
  await page.locator('#connection-card').waitFor({ timeout: 240_000 });

  const log = await requests();
  assert.ok(log.some((r) => r.status === 429), 'the emulator throttled some requests');
  const s = await state();
  const apps = appsNamed(s, name);
  assert.equal(apps.length, 1);
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === apps[0].appId);
  assert.equal(sps.length, 1);
  const assigned = s.role_assignments.filter((r) => r.principal_id === sps[0].id);
  assert.equal(assigned.length, 3);
  assert.ok(assigned.every((r) => r.scope === `/subscriptions/${DEVELOPMENT}`));
  await page.close();
});

// The create's answer is lost after Graph carried it out: the browser (on a
// reused connection) or the page sends the upsert again, and Graph updates
// the application the first one made instead of making a second.
test('F1 whose create answer is lost still makes one application', async () => {
  await faults({ random429: 0, replicationMs: 0 });
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  const name = `E2E Lost create ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await reviewNewApplication(page, { name, password, subscription: DEVELOPMENT });
  // The review shows the upsert as it is sent.
  const create = page.locator('#plan-steps pre.request', { hasText: 'uniqueName=' });
  assert.match(await create.textContent(), /^PATCH \S+\/applications\(uniqueName='entra-wizard-[0-9a-f-]+'\)\nPrefer: create-if-missing\n/);
  await faults({ spec: "commitlost=PATCH:/graph/v1.0/applications(*" });
  try {
    await downloadPfxAndApply(page);
    await page.locator('#connection-card').waitFor({ timeout: 120_000 });
  } finally {
    await faults({ commitLost: [] });
  }
  const upserts = (await requests()).filter((r) => r.method === 'PATCH' && r.path.includes('/applications(uniqueName='));
  assert.deepEqual(upserts.map((r) => r.status), [201, 204], 'carried out, then sent again and updated');
  assert.ok(upserts.every((r) => r.prefer === 'create-if-missing'));
  const s = await state();
  assert.equal(appsNamed(s, name).length, 1);
  await page.close();
});

// Only the tenant's default app management policy restricts a new
// application: F1 reads it before making the certificate, makes it for what
// the policy allows, and says so in the review.
test('F1 under a tenant default that allows 90-day certificates makes a shorter one and says why', async () => {
  await faults({ random429: 0, replicationMs: 0 });
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  await graph('PATCH', '/policies/defaultAppManagementPolicy', await policyAdminToken(), {
    isEnabled: true,
    applicationRestrictions: {
      passwordCredentials: [],
      keyCredentials: [{ restrictionType: 'asymmetricKeyLifetime', maxLifetime: 'P90D', restrictForAppsCreatedAfterDateTime: null }],
    },
  });
  try {
    const name = `E2E Policy ${Date.now()}`;
    const { page } = await openPage(context, '/#/connect');
    await signIn(page, 'admin');
    await reviewNewApplication(page, { name, password: 'Correct-Horse-Battery-9', subscription: DEVELOPMENT });
    const warning = page.locator('ul.warnings li', { hasText: 'instead of 12' });
    assert.match(await warning.textContent(), /made for 2 months instead of 12: the tenant's default app management policy allows certificates no longer/);
    await downloadPfxAndApply(page);
    await page.locator('#connection-card').waitFor({ timeout: 120_000 });
    const [app] = appsNamed(await state(), name);
    const [key] = app.keyCredentials;
    const days = (Date.parse(key.endDateTime) - Date.parse(key.startDateTime)) / 86_400_000;
    assert.ok(days <= 90 && days > 55, `the key lasts ${days} days`);
    await page.close();
  } finally {
    await reset();
  }
});
