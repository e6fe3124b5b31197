// F6 end to end as an admin would do it: the demo's backup service fails
// with AADSTS700027 (its only certificate expired); the admin signs in,
// pastes that error, generates a new certificate in the page, downloads
// its PFX, applies, then confirms the removal of the expired key. The
// emulator's state then holds exactly the new key, the saved service
// account names it, and the service gets an app-only token with a client
// assertion signed by the key from the downloaded PFX.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply } from './lib/wizard.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state, userToken, graph } from './lib/emulator.mjs';

const EXPIRED_APP = '082c67e2-3c4e-4548-b957-69746605c3bf';
const TMP = process.env.E2E_TMP ?? '/tmp';
const openssl = (...args) => execFileSync('openssl', args, { encoding: 'utf8' });
const b64url = (buf) => Buffer.from(buf).toString('base64url');
/** The base64 body of a PEM block, on one line. */
const pemBody = (pem, label) => {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  assert.ok(m, `no ${label} block`);
  return m[1].replace(/\s+/g, '');
};

let context;
let seed;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  seed = await (await fetch(`${EMULATOR_URL}/_emulator/seed`)).json();
  context = await launch();
});
after(async () => { await context?.close(); });

/**
 * What the token endpoint answers the service's client-credentials request
 * with a client assertion (RS256, x5t) signed by `keyPem` for the
 * certificate `certDer`, as a service (no browser, no Origin) sends it.
 */
async function serviceSignIn(appId, keyPem, certDer) {
  const tokenUrl = `${EMULATOR_URL}/login/${seed.tenant.id}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5t: b64url(createHash('sha1').update(certDer).digest()) };
  const claims = { aud: tokenUrl, iss: appId, sub: appId, jti: randomUUID(), nbf: now, iat: now, exp: now + 300 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey(keyPem));
  const r = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: appId,
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${input}.${b64url(signature)}`,
    }),
  });
  return { status: r.status, body: await r.json() };
}

async function expiredAppKeys() {
  const s = await state();
  const app = Object.values(s.applications).map((a) => a.body).find((a) => a.appId === EXPIRED_APP);
  return app.keyCredentials;
}

test("F6: a service account's Renew link searches for its certificate once signed in", async () => {
  const expired = seed.serviceApps.find((a) => a.scenario === 'expired-certificate');
  const query = new URLSearchParams({ app: EXPIRED_APP, tenant: seed.tenant.id, thumbprint: expired.thumbprint });
  const { page } = await openPage(context, `/#/renew?${query}`);
  await signIn(page, 'admin');
  await page.locator('#renew-found').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#renew-input').inputValue(), expired.thumbprint);
  assert.match(await page.locator('#renew-found').textContent(), /Contoso Backup/);
  // Nothing is changed by looking.
  assert.equal((await expiredAppKeys()).length, 1);
  await page.close();
});

test('F6: from the pasted AADSTS700027 text to a new certificate the service signs in with, the expired key removed', async () => {
  const expired = seed.serviceApps.find((a) => a.scenario === 'expired-certificate');
  const oldThumb = expired.thumbprint.toUpperCase();

  // The service's failure, as it prints it.
  const admin = await userToken('admin');
  const app = await graph('GET', `/applications(appId='${EXPIRED_APP}')?$select=id,keyCredentials`, admin);
  const oldDer = Buffer.from(app.keyCredentials[0].key, 'base64');
  const failed = await serviceSignIn(EXPIRED_APP, expired.privateKeyPem, oldDer);
  assert.equal(failed.status, 401);
  const errorText = failed.body.error_description;
  assert.match(errorText, /^AADSTS700027: .*The key used is expired/);

  const { page, record } = await openPage(context, '/#/renew');
  // The service account this browser saved when it was set up.
  await page.evaluate(({ tenant, appId, thumbprint }) => {
    localStorage.setItem('entra-wizard.service-accounts', JSON.stringify([{
      format: 1, name: 'Contoso Backup service', cloud: { cloud: 'global' }, tenantId: tenant, appId,
      applicationObjectId: null, servicePrincipalId: null,
      auth: { type: 'certificate', thumbprint, subject: 'CN=Contoso Backup', notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' },
      profile: 'azure-backup', subscription: null, objectIds: [], portalAddress: null, saved: '2025-06-01T12:00:00Z',
    }]));
  }, { tenant: seed.tenant.id, appId: EXPIRED_APP, thumbprint: oldThumb });
  await signIn(page, 'admin');
  await page.locator('#renew-input').waitFor({ timeout: 30_000 });

  // Paste the error as the service's log shows it, and find the key.
  await page.getByLabel('Error text or thumbprint').fill(`Backup job failed: ${errorText}`);
  await page.getByRole('button', { name: 'Find the key' }).click();
  await page.locator('#renew-found').waitFor({ timeout: 60_000 });
  assert.match(await page.locator('#renew-decoded').textContent(), /has expired/);
  assert.match(await page.locator('#renew-decoded-facts').textContent(), new RegExp(oldThumb));
  const found = await page.locator('#renew-found').textContent();
  assert.match(found, /Contoso Backup/);
  assert.match(found, new RegExp(EXPIRED_APP));
  assert.match(found, /Expired \d+ days? ago/);
  assert.match(found, /'Contoso Backup service' signs in with this key/);

  // A new certificate generated in the page; review.
  const password = 'Correct-Horse-Battery-9';
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
  const sentences = await page.locator('#plan-steps li .sentence').allTextContents();
  assert.equal(sentences.length, 2, sentences.join(' | '));
  assert.match(sentences[1], /^Register certificate CN=Contoso Backup .*keeping the existing ones$/);
  assert.match(await page.locator('#preflight').textContent(), /you have the roles this plan needs/);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isDisabled(), true, 'Apply waits for the PFX');
  const pfxDownload = await downloadPfxAndApply(page);
  const pfxPath = join(TMP, `renew-${Date.now()}.pfx`);
  await pfxDownload.saveAs(pfxPath);

  // The result: the new certificate, what to do in the service.
  const result = page.locator('#renew-result');
  await result.waitFor({ timeout: 180_000 });
  const facts = Object.fromEntries(
    await result.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
  );
  const newThumb = facts['New certificate thumbprint (SHA-1)'];
  assert.match(newThumb, /^[0-9A-F]{40}$/);
  assert.ok(facts['Valid until']);
  assert.match(await page.locator('#renew-instructions').textContent(), /upload .*\.pfx and enter the password/);
  assert.match(await page.locator('#renew-records').textContent(), /'Contoso Backup service' now uses the new certificate/);
  const saved = JSON.parse(await page.evaluate(() => localStorage.getItem('entra-wizard.service-accounts')));
  assert.equal(saved.length, 1);
  assert.equal(saved[0].auth.thumbprint, newThumb);
  assert.equal(await page.getByRole('button', { name: /^Download .*\.pfx$/ }).count(), 1);

  // Exactly one new key; the expired one still there until confirmed.
  let keys = await expiredAppKeys();
  assert.deepEqual(keys.map((k) => k.customKeyIdentifier.toUpperCase()).sort(), [oldThumb, newThumb].sort());

  // The key in the downloaded PFX is the new certificate's.
  const certPem = openssl('pkcs12', '-in', pfxPath, '-passin', `pass:${password}`, '-nokeys');
  const newDer = Buffer.from(pemBody(certPem, 'CERTIFICATE'), 'base64');
  assert.equal(createHash('sha1').update(newDer).digest('hex').toUpperCase(), newThumb);
  const keyPem = openssl('pkcs12', '-in', pfxPath, '-passin', `pass:${password}`, '-nocerts', '-nodes');

  // The service now signs in with it: an app-only token.
  const signedIn = await serviceSignIn(EXPIRED_APP, keyPem, newDer);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const claims = JSON.parse(Buffer.from(signedIn.body.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.idtyp, 'app');
  assert.equal(claims.appid, EXPIRED_APP);
  assert.equal(claims.scp, undefined);

  // Then the removal, confirmed and reviewed on its own.
  const remove = page.getByRole('button', { name: 'Remove the expired key' });
  assert.equal(await remove.isDisabled(), true, 'removal waits for the confirmation');
  await page.locator('#renew-confirm').check();
  await remove.click();
  await page.locator('#renew-remove-what').waitFor({ timeout: 30_000 });
  await page.locator('#plan-steps li').first().waitFor({ timeout: 60_000 });
  const removal = await page.locator('#plan-steps li .sentence').allTextContents();
  assert.match(removal[1], new RegExp(`^Remove certificate .*thumbprint ${oldThumb}.*keeping the other keys$`));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#apply-done').waitFor({ timeout: 120_000 });
  assert.match(await page.locator('#apply-done').textContent(), new RegExp(`thumbprint ${oldThumb}\\) was removed`));

  keys = await expiredAppKeys();
  assert.deepEqual(keys.map((k) => k.customKeyIdentifier.toUpperCase()), [newThumb]);
  // And the service still signs in.
  assert.equal((await serviceSignIn(EXPIRED_APP, keyPem, newDer)).status, 200);
  // The old key cannot any more.
  assert.equal((await serviceSignIn(EXPIRED_APP, expired.privateKeyPem, oldDer)).status, 401);

  // No request of the page carried the new private key.
  const keyBody = pemBody(keyPem, 'PRIVATE KEY');
  for (const r of record.requests) assert.ok(!(r.body ?? '').includes(keyBody.slice(40, 120)), 'a request carried the private key');
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('F6: a SHA-256 thumbprint is explained, and an unknown one says why it can happen', async () => {
  const { page } = await openPage(context, '/#/renew');
  await signIn(page, 'admin');
  await page.locator('#renew-input').waitFor({ timeout: 30_000 });
  await page.getByLabel('Error text or thumbprint').fill('ab'.repeat(32));
  await page.getByRole('button', { name: 'Find the key' }).click();
  await page.locator('#renew-find-error').filter({ hasText: 'SHA-1' }).waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#renew-find-error').textContent(), /SHA-256 thumbprint/);

  await page.getByLabel('Error text or thumbprint').fill('0123456789'.repeat(4));
  await page.getByRole('button', { name: 'Find the key' }).click();
  await page.locator('#renew-not-found').waitFor({ timeout: 60_000 });
  const why = await page.locator('#renew-not-found').textContent();
  assert.match(why, /already removed/);
  assert.match(why, /another tenant/);
  await page.close();
});
