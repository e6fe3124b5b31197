// F1 interrupted by a reload in the middle of apply: after signing in
// again, "Resume" finishes the same plan with no duplicate application,
// service principal or role assignment; when the reload came before the
// certificate generated in the page was registered, the page says its key
// is gone and registers a new certificate instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { downloadPfxAndApply, reviewNewApplication } from './lib/wizard.mjs';
import { EMULATOR_URL, reset, registerRedirectUri, signIn, state, faults } from './lib/emulator.mjs';

const PRODUCTION = '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51';
let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => {
  await faults({ latencyMs: 0 });
  await context?.close();
});

test('a reload in the middle of apply resumes after sign-in with no duplicates', async () => {
  const name = `E2E Resume ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page, record } = await openPage(context, '/#/connect');
  await signIn(page, 'admin');
  await reviewNewApplication(page, { name, password, subscription: PRODUCTION });
  const total = await page.locator('#plan-steps li').count();
  // The admin saves the PFX before applying: the key exists only in the page.
  const [pfx] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download the PFX now' }).click(),
  ]);
  assert.match(pfx.suggestedFilename(), /\.pfx$/);

  // Slow answers, so that the reload lands in the middle.
  await faults({ spec: 'latency=400ms' });
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(
    () => [...document.querySelectorAll('#apply-progress .state')].filter((s) => s.textContent.startsWith('Done')).length >= 2,
    null,
    { timeout: 60_000 },
  );
  await page.reload();
  await faults({ latencyMs: 0 });

  const resume = page.getByRole('button', { name: 'Resume' });
  await resume.waitFor();
  const summary = await page.locator('section', { has: resume }).textContent();
  const done = Number(summary.match(/(\d+) of (\d+) steps were done/)[1]);
  assert.ok(done >= 2 && done < total, `${done} of ${total}`);
  assert.equal(await resume.isDisabled(), true, 'resuming needs a sign-in');
  await signIn(page, 'admin');
  await resume.click();
  await page.locator('#connection-card').waitFor({ timeout: 180_000 });

  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.displayName === name);
  assert.equal(apps.length, 1);
  assert.equal(apps[0].keyCredentials.length, 1);
  const sps = Object.values(s.service_principals).map((p) => p.body).filter((p) => p.appId === apps[0].appId);
  assert.equal(sps.length, 1);
  const assigned = s.role_assignments.filter((r) => r.principal_id === sps[0].id);
  assert.equal(assigned.length, 3);
  assert.equal(new Set(assigned.map((r) => r.role_definition_id)).size, 3);
  // The saved progress is gone once finished.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('entra-wizard.apply')), null);
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('a reload before the generated certificate is registered says its key is gone and registers a new one instead', async () => {
  const name = `E2E Lost key ${Date.now()}`;
  const password = 'Correct-Horse-Battery-9';
  const { page, record } = await openPage(context, '/#/connect/new');
  await signIn(page, 'admin');
  await reviewNewApplication(page, { name, password, profile: 'restore-portal' });

  // Reload while the first step's first request is still waiting for its
  // answer: nothing is created, and the key generated here is gone.
  await faults({ spec: 'latency=4000ms' });
  await downloadPfxAndApply(page);
  await page.locator('#apply-progress li.running').waitFor({ timeout: 30_000 });
  await page.reload();
  await faults({ latencyMs: 0 });

  await signIn(page, 'admin');
  const lost = page.locator('#resume-lost-key');
  await lost.waitFor();
  assert.match(await lost.textContent(), /key is gone with the page/);
  await lost.getByText('Use a new certificate instead', { exact: true }).click();
  await lost.getByLabel('PFX password').fill(password);
  await lost.getByLabel('Confirm password').fill(password);
  await lost.getByRole('button', { name: 'Use this certificate' }).click();
  const resume = page.getByRole('button', { name: 'Resume' });
  // The new key must be saved before anything registers it.
  const download = page.getByRole('button', { name: 'Download the PFX now' });
  await download.waitFor({ timeout: 60_000 });
  assert.equal(await resume.isDisabled(), true);
  const [pfx] = await Promise.all([page.waitForEvent('download'), download.click()]);
  assert.match(pfx.suggestedFilename(), /\.pfx$/);
  await resume.click();
  await page.locator('#connection-card').waitFor({ timeout: 180_000 });

  const thumbprint = await page.locator('#connection-card dt', { hasText: 'Certificate thumbprint (SHA-1)' })
    .evaluate((dt) => dt.nextElementSibling.firstChild.textContent);
  const s = await state();
  const apps = Object.values(s.applications).map((a) => a.body).filter((a) => a.displayName === name);
  assert.equal(apps.length, 1);
  assert.equal(apps[0].keyCredentials.length, 1, 'only the new certificate is registered');
  assert.equal(apps[0].keyCredentials[0].customKeyIdentifier, thumbprint.toUpperCase());
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});
