// Bulk renewal from the dashboard (issue 10 §3): rows selected → one plan
// (summary, refusals by the tenant's policy, steps per application) →
// applied through Graph $batch under random 429s and 503s → every selected
// application has exactly one new secret, each value shown once in the
// result (equal to what Entra holds, never in storage, the console or a
// request) and in the CSV the admin asks for → the old secrets removed only
// after the second confirmation. A reload in the middle resumes, replacing
// the secrets whose values were never shown. Certificates in bulk come as
// one archive of PFX files that opens with the admin's password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, faults, registerRedirectUri, requests, reset, signIn, state } from './lib/emulator.mjs';

const TMP = process.env.E2E_TMP ?? '/tmp';
const SECRET_NAME = 'E2E bulk renewal';

let context;
let savedFaults;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  savedFaults = await (await fetch(`${EMULATOR_URL}/_emulator/faults`)).json();
  context = await launch();
});
after(async () => {
  await context?.close();
  await faults(savedFaults);
  // The next test file's reset must give the demo tenant back.
  await seed('demo');
});

/** A fresh tenant from `name` (demo, large:N), the page's redirect URI registered. */
async function seed(name) {
  const r = await fetch(`${EMULATOR_URL}/_emulator/seed`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seed: name }),
  });
  assert.ok(r.ok, await r.text());
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
}

/** Waits until the dashboard has read the whole tenant. */
async function loaded(page) {
  await page.waitForFunction(() => /read in \d+ requests/.test(document.querySelector('#dashboard-progress')?.textContent ?? ''), null, { timeout: 60_000 });
}

/**
 * Filters the table and selects every row shown (a few dozen at most, all
 * rendered); resolves with the applications' names of those rows. A search
 * matches words anywhere, IDs included, so the names come from the rows.
 */
async function selectShown(page, text, type) {
  await page.locator('#filter-clear').click();
  await page.locator('#filter-text').fill(text);
  await page.locator('#filter-type').selectOption(type);
  const shown = Number((await page.locator('#dashboard-shown').textContent()).split(' ')[0]);
  const names = await page.locator('.vt-body .vt-row').evaluateAll((rows) => rows.map((r) => r.querySelector('[role=cell]').textContent));
  assert.equal(names.length, shown, 'every row shown is rendered');
  await page.locator('#select-shown').check();
  return names;
}

/** The applications (state entries) with these display names. */
async function appsNamed(names) {
  const s = await state();
  const wanted = new Set(names);
  return Object.values(s.applications).filter((a) => wanted.has(a.body.displayName));
}

/** Whether the app management policy assigned to `app` forbids new secrets. */
function forbidsSecrets(s, app) {
  const policy = s.app_management_policies[s.app_policy_assignments[app.body.id]];
  return (policy?.restrictions?.passwordCredentials ?? [])
    .some((r) => r.restrictionType === 'passwordAddition' && r.state === 'enabled');
}

const plural = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The selected applications split as the plan must: renewed, or refused by their policy. */
async function expectedSecretPlan(apps) {
  const s = await state();
  const refused = apps.filter((a) => forbidsSecrets(s, a));
  const renewed = apps.filter((a) => !forbidsSecrets(s, a));
  const tail = refused.length ? `; ${plural(refused.length, 'renewal')} refused by the tenant's app management policy` : '';
  return {
    renewed,
    refused,
    summary: `Renew ${plural(renewed.length, 'secret')} in ${plural(renewed.length, 'application')}${tail}`,
    removal: `Remove ${plural(renewed.length, 'secret')} from ${plural(renewed.length, 'application')}`
      + (refused.length ? `; ${plural(refused.length, 'credential')} kept: not renewed` : ''),
  };
}

/** A keyCredential's SHA-1 thumbprint: of its key bytes when the state holds them. */
function thumbprintOf(k) {
  if (k.key) return createHash('sha1').update(Buffer.from(k.key, 'base64')).digest('hex').toUpperCase();
  return String(k.customKeyIdentifier).toUpperCase();
}

/** The requests the emulator served, its control API's own left out. */
async function sent() {
  return (await requests()).filter((r) => !r.path.startsWith('/_emulator/'));
}

/** Rows of the result's secrets table: { appId, keyId, value }. */
async function shownSecrets(page) {
  return page.locator('#bulk-secrets tbody tr').evaluateAll((rows) => rows.map((r) => ({
    appId: r.dataset.appId, keyId: r.dataset.key, value: r.querySelector('input.secret-value').value,
  })));
}

/** Every new secret of the run: one per application, its value Entra's, shown once. */
async function assertOneNewSecretEach(page, apps, shown) {
  const s = await state();
  assert.equal(shown.length, apps.length, 'one row per application');
  assert.equal(new Set(shown.map((r) => r.value)).size, shown.length, 'no value twice');
  for (const app of apps) {
    const now = s.applications[app.body.id];
    const renewed = now.body.passwordCredentials.filter((p) => p.displayName?.startsWith(SECRET_NAME));
    assert.equal(renewed.length, 1, `${app.body.displayName}: ${JSON.stringify(now.body.passwordCredentials)}`);
    const row = shown.filter((r) => r.appId === app.body.appId);
    assert.equal(row.length, 1, `${app.body.displayName} shown once`);
    assert.equal(row[0].keyId, renewed[0].keyId);
    const text = now.secrets.find((x) => x.key_id === renewed[0].keyId)?.text;
    assert.ok(text && row[0].value === text, `${app.body.displayName}: the value shown is the secret's`);
  }
}

/** No secret value in the page's storage, console or any request it sent. */
async function assertValuesNowhereElse(page, record, values) {
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  const sent = JSON.stringify(record.requests);
  const logged = record.consoleErrors.join('\n');
  for (const v of values) {
    assert.ok(!stored.includes(v), 'a secret value is in storage');
    assert.ok(!sent.includes(v), 'a secret value was sent in a request');
    assert.ok(!logged.includes(v), 'a secret value is in the console');
  }
}

test('bulk-renew secrets under random 429s, 503s and lost answers: one new secret each, shown once, CSV, then the old ones removed on confirm', async () => {
  await seed('large:40');
  const { page, record } = await openPage(context, '/#/dashboard');
  await signIn(page);
  await loaded(page);
  // About twenty applications' secrets, selected through two filters.
  const names = new Set([
    ...await selectShown(page, 'Bulk app 0000', 'secret'),
    ...await selectShown(page, 'Bulk app 0001', 'secret'),
  ]);
  assert.ok(names.size >= 20, `${names.size} selected`);
  assert.equal(await page.locator('#bulk-count').textContent(), `${names.size} selected`);
  const selected = await appsNamed([...names]);
  assert.equal(selected.length, names.size);
  const expected = await expectedSecretPlan(selected);
  // The large seed puts every twentieth application under a policy that forbids secrets.
  assert.ok(expected.refused.length > 0 && expected.renewed.length >= 18);
  const apps = expected.renewed;
  const n = apps.length;
  const before = Object.fromEntries(selected.map((a) => [a.body.id, a.body.passwordCredentials.map((p) => p.keyId)]));

  await page.locator('#bulk-open').click();
  await page.locator('#bulk-summary').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#bulk-summary').textContent(), expected.summary);
  // Each refusal names its application and the policy.
  const refusals = await page.locator('#bulk-refused li').allTextContents();
  assert.equal(refusals.length, expected.refused.length);
  const s0 = await state();
  for (const a of expected.refused) {
    const policy = s0.app_management_policies[s0.app_policy_assignments[a.body.id]].displayName;
    assert.ok(refusals.some((r) => r.startsWith(`${a.body.displayName}: `) && r.includes(policy)), JSON.stringify(refusals));
  }
  assert.equal(await page.locator('#bulk-apps details').count(), names.size);
  // Steps are collapsed until opened.
  const first = page.locator('#bulk-apps details').first();
  assert.equal(await first.locator('li').first().isVisible(), false);
  await first.locator('summary').click();
  assert.match(await first.locator('li').first().textContent(), /^Create client secret 'Renewed/);
  await page.getByLabel('Secret name').fill(SECRET_NAME);
  await page.getByLabel('Secret name').press('Tab');
  await page.getByLabel('Secret lifetime (months)').selectOption('3');
  await page.waitForFunction((name) => document.querySelector('#bulk-apps li')?.textContent.includes(`'${name}'`), SECRET_NAME);

  // Throttled and failing items, and two batches whose answers are lost
  // after Graph made their secrets.
  await faults({ spec: 'random429=0.25,random503=0.1,retryafter=1s,seed=7,commitlost=POST:/graph/v1.0/applications/*/addPassword@2' });
  try {
    await page.locator('#bulk-apply').click();
    await page.locator('#bulk-progress').waitFor();
    await page.locator('#bulk-secrets').waitFor({ timeout: 180_000 });
  } finally {
    await faults({ random429: 0, random503: 0, commitLost: [] });
  }
  assert.match(await page.locator('#bulk-counts').textContent(), new RegExp(`^${n} of ${n} done, 0 failed`));
  const log = await requests();
  const batches = log.filter((r) => r.method === 'POST' && /(\$|%24)batch$/.test(r.path) && !r.batch);
  const items = log.filter((r) => r.batch && r.path.endsWith('/addPassword'));
  assert.ok(batches.length >= 2, `${batches.length} batches`);
  assert.ok(items.some((r) => r.status === 429 || r.status === 503), 'the faults hit some items');
  // Secrets made by a batch whose answer was lost were found and replaced.
  assert.ok(log.some((r) => r.batch && r.path.endsWith('/removePassword')), 'a lost answer\'s secret was removed');
  assert.ok(!log.some((r) => !r.batch && r.path.endsWith('/addPassword')), 'addPassword only inside batches');

  const shown = await shownSecrets(page);
  await assertOneNewSecretEach(page, apps, shown);
  // The values and the dates, as the admin downloads them.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#bulk-download-csv').click()]);
  assert.match(csv.suggestedFilename(), /^new-secrets-\d{4}-\d{2}-\d{2}\.csv$/);
  const path = join(TMP, `bulk-${Date.now()}.csv`);
  await csv.saveAs(path);
  const lines = readFileSync(path, 'utf8').split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'Application,Application (client) ID,Key ID,Name,Value,Expires');
  assert.equal(lines.length, n + 1);
  for (const r of shown) {
    const line = lines.find((l) => l.includes(r.keyId));
    assert.ok(line, r.keyId);
    const cells = line.split(',');
    assert.equal(cells[1], r.appId);
    assert.equal(cells[4], r.value);
  }
  await assertValuesNowhereElse(page, record, shown.map((r) => r.value));

  // The old secrets stay until the second confirmation.
  const renewedState = await state();
  for (const a of apps) assert.equal(renewedState.applications[a.body.id].body.passwordCredentials.length, 2);
  // Nothing was sent for the refused ones.
  for (const a of expected.refused) assert.deepEqual(renewedState.applications[a.body.id].body.passwordCredentials, a.body.passwordCredentials);
  assert.equal(await page.locator('#bulk-removal-summary').textContent(), expected.removal);
  assert.equal(await page.locator('#bulk-remove').isDisabled(), true);
  await page.getByLabel('The services use the new credentials').check();
  await page.locator('#bulk-remove').click();
  await page.locator('#bulk-removed').waitFor({ timeout: 120_000 });
  assert.match(await page.locator('#bulk-counts').textContent(), new RegExp(`^${n} of ${n} done, 0 failed`));
  const after = await state();
  for (const a of apps) {
    const left = after.applications[a.body.id].body.passwordCredentials;
    assert.equal(left.length, 1, JSON.stringify(left));
    assert.ok(left[0].displayName.startsWith(SECRET_NAME));
    assert.ok(!before[a.body.id].includes(left[0].keyId));
  }
  for (const a of expected.refused) assert.deepEqual(after.applications[a.body.id].body.passwordCredentials, a.body.passwordCredentials);
  // Done: the values leave the page with the result.
  await page.locator('#bulk-done').click();
  assert.equal(await page.locator('#bulk-secrets').count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('entra-wizard.bulk-renewal')), null);
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('a reload in the middle of a bulk renewal resumes it and replaces the secrets whose values were never shown', async () => {
  await seed('large:30');
  const { page, record } = await openPage(context, '/#/dashboard');
  await signIn(page);
  await loaded(page);
  const names = await selectShown(page, 'Bulk app 000', 'secret');
  assert.equal(names.length, 30);
  const expected = await expectedSecretPlan(await appsNamed(names));
  const apps = expected.renewed;
  const n = apps.length;
  // More than one batch of 20.
  assert.ok(n > 20, `${n} to renew`);
  await page.locator('#bulk-open').click();
  await page.locator('#bulk-summary').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#bulk-summary').textContent(), expected.summary);
  await page.getByLabel('Secret name').fill(SECRET_NAME);
  await page.getByLabel('Secret name').press('Tab');
  await page.waitForFunction((name) => document.querySelector('#bulk-apps li')?.textContent.includes(`'${name}'`), SECRET_NAME);

  // Slow answers: the first batch lands, the second is in flight at the reload.
  await faults({ spec: 'latency=1500ms' });
  try {
    await page.locator('#bulk-apply').click();
    await page.waitForFunction((n) => {
      const m = /^(\d+) of (\d+) done/.exec(document.querySelector('#bulk-counts')?.textContent ?? '');
      return m && Number(m[2]) === n && Number(m[1]) > 0 && Number(m[1]) < n;
    }, n, { timeout: 60_000 });
    await page.reload();
  } finally {
    await faults({ latencyMs: 0 });
  }
  await page.locator('#bulk-resume-offer').waitFor();
  assert.match(await page.locator('#bulk-resume-status').textContent(), /was interrupted/);
  const unseen = page.locator('#bulk-unseen li');
  const lost = await unseen.count();
  assert.ok(lost > 0 && lost < n, `${lost} secrets made before the reload`);
  assert.match(await page.locator('#bulk-unseen p').textContent(), /never shown.*Resuming replaces/);
  assert.equal(await page.locator('#bulk-resume').isDisabled(), true, 'resuming needs a sign-in');
  await signIn(page);
  await page.locator('#bulk-resume').click();
  await page.locator('#bulk-secrets').waitFor({ timeout: 180_000 });
  assert.match(await page.locator('#bulk-counts').textContent(), new RegExp(`^${n} of ${n} done, 0 failed`));
  const shown = await shownSecrets(page);
  await assertOneNewSecretEach(page, apps, shown);
  // The secrets made before the reload, whose values nobody had, are gone.
  const s = await state();
  for (const a of apps) assert.equal(s.applications[a.body.id].body.passwordCredentials.length, 2);
  await assertValuesNowhereElse(page, record, shown.map((r) => r.value));
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('certificates in bulk: one archive of PFX files under the admin password before Apply; a secret the policy forbids is refused', async () => {
  await seed('demo');
  const { page, record } = await openPage(context, '/#/dashboard');
  await signIn(page);
  await loaded(page);
  const s0 = await state();
  const byName = (n) => Object.values(s0.applications).find((a) => a.body.displayName === n);
  const backup = byName('Contoso Backup');
  const archiver = byName('Contoso Archiver');
  const reports = byName('Contoso Reports');
  assert.deepEqual(await selectShown(page, 'Contoso Backup', 'certificate'), backup.body.keyCredentials.map(() => 'Contoso Backup'));
  assert.deepEqual(await selectShown(page, 'Contoso Archiver', 'secret'), archiver.body.passwordCredentials.map(() => 'Contoso Archiver'));
  assert.deepEqual(await selectShown(page, 'Contoso Reports', 'secret'), reports.body.passwordCredentials.map(() => 'Contoso Reports'));
  await page.locator('#bulk-open').click();
  await page.locator('#bulk-summary').waitFor({ timeout: 60_000 });
  const summary = await page.locator('#bulk-summary').textContent();
  assert.match(summary, /^Renew 1 secret and 1 certificate in 2 applications; 1 renewal refused by the tenant's app management policy/);
  const refused = await page.locator('#bulk-refused').textContent();
  assert.match(refused, /Contoso Reports/);
  assert.match(refused, /Contoso: certificates only/);
  await page.getByLabel('Secret name').fill(SECRET_NAME);
  await page.getByLabel('Secret name').press('Tab');
  await page.waitForFunction((name) => document.querySelector('#bulk-apps')?.textContent.includes(`'${name}'`), SECRET_NAME);

  // Apply waits for the certificates, then for their archive.
  assert.equal(await page.locator('#bulk-apply').isDisabled(), true);
  const password = 'Bulk-Archive-Pw-42';
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.locator('#bulk-generate').click();
  await page.locator('#bulk-made').waitFor({ timeout: 120_000 });
  assert.equal(await page.locator('#bulk-apply').isDisabled(), true);
  assert.match(await page.locator('#bulk-apply-hint').textContent(), /Download the archive/);
  const [zip] = await Promise.all([page.waitForEvent('download'), page.locator('#bulk-download-zip').click()]);
  assert.match(zip.suggestedFilename(), /^renewed-certificates-\d{4}-\d{2}-\d{2}\.zip$/);
  const work = mkdtempSync(join(TMP, 'bulk-zip-'));
  await zip.saveAs(join(work, 'archive.zip'));
  execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', join(work, 'archive.zip'), join(work, 'out')]);
  const files = readdirSync(join(work, 'out'));
  assert.deepEqual(files, ['Contoso-Backup.pfx']);
  const pem = execFileSync('openssl', ['pkcs12', '-in', join(work, 'out', files[0]), '-passin', `pass:${password}`, '-nokeys', '-clcerts'], { encoding: 'utf8' });
  const der = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: pem });
  const thumbprint = createHash('sha1').update(der).digest('hex').toUpperCase();
  assert.throws(() => execFileSync('openssl', ['pkcs12', '-in', join(work, 'out', files[0]), '-passin', 'pass:wrong', '-nokeys'], { stdio: 'pipe' }));

  await page.locator('#bulk-apply').click();
  await page.locator('#bulk-removal').waitFor({ timeout: 120_000 });
  assert.match(await page.locator('#bulk-counts').textContent(), /^2 of 2 done, 0 failed/);
  const s1 = await state();
  const keys = s1.applications[backup.body.id].body.keyCredentials;
  assert.equal(keys.length, backup.body.keyCredentials.length + 1);
  assert.ok(keys.some((k) => thumbprintOf(k) === thumbprint), 'the archive\'s certificate is registered');
  const shown = await shownSecrets(page);
  await assertOneNewSecretEach(page, [archiver], shown);
  // Nothing sent for the refused application.
  assert.deepEqual(s1.applications[reports.body.id].body.passwordCredentials, reports.body.passwordCredentials);

  await page.getByLabel('The services use the new credentials').check();
  await page.locator('#bulk-remove').click();
  await page.locator('#bulk-removed').waitFor({ timeout: 120_000 });
  const s2 = await state();
  const left = s2.applications[backup.body.id].body.keyCredentials;
  assert.equal(left.length, 1);
  assert.equal(thumbprintOf(left[0]), thumbprint);
  assert.equal(s2.applications[archiver.body.id].body.passwordCredentials.length, 1);
  await assertValuesNowhereElse(page, record, shown.map((r) => r.value));
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('Pause stops between batches; Cancel while paused creates nothing more, and only what was renewed is offered for removal', async () => {
  await seed('large:30');
  const { page, record } = await openPage(context, '/#/dashboard');
  await signIn(page);
  await loaded(page);
  const names = await selectShown(page, 'Bulk app 000', 'secret');
  const expected = await expectedSecretPlan(await appsNamed(names));
  const n = expected.renewed.length;
  assert.ok(n > 20, `${n} to renew: more than one batch`);
  await page.locator('#bulk-open').click();
  await page.locator('#bulk-summary').waitFor({ timeout: 60_000 });
  await page.getByLabel('Secret name').fill(SECRET_NAME);
  await page.getByLabel('Secret name').press('Tab');
  await page.waitForFunction((name) => document.querySelector('#bulk-apps li')?.textContent.includes(`'${name}'`), SECRET_NAME);

  // Slow answers: Pause lands while the first batch is in flight.
  await faults({ spec: 'latency=1500ms' });
  let paused;
  try {
    await page.locator('#bulk-apply').click();
    await page.locator('#bulk-pause').click();
    await page.locator('#bulk-paused').waitFor({ timeout: 60_000 });
  } finally {
    await faults({ latencyMs: 0 });
  }
  // The emulator logs a batch's entries as it answers: let the last one land.
  await new Promise((r) => setTimeout(r, 500));
  paused = (await sent()).length;
  const counts = await page.locator('#bulk-counts').textContent();
  const m = new RegExp(`^(\\d+) of ${n} done`).exec(counts);
  const done = Number(m?.[1]);
  assert.ok(done > 0 && done < n, counts);
  // Nothing is sent while paused.
  await new Promise((r) => setTimeout(r, 2500));
  const sinceTheStop = (log) => JSON.stringify(log.slice(paused).map((r) => [r.method, r.path, r.status]));
  assert.equal((await sent()).length, paused, sinceTheStop(await sent()));

  await page.locator('#bulk-cancel').click();
  await page.locator('#bulk-removal').waitFor({ timeout: 60_000 });
  // Cancelling creates nothing more: at most the reads that check the new
  // secrets made before the pause for a copy.
  const after = (await sent()).slice(paused);
  assert.ok(after.every((r) => (r.batch ? r.method === 'GET' : /(\$|%24)batch$/.test(r.path) || r.method === 'OPTIONS')),
    `cancelling while paused writes nothing: ${sinceTheStop(await sent())}`);
  assert.match(await page.locator('#bulk-counts').textContent(), new RegExp(`^${done} of ${n} done, 0 failed, ${n - done} cancelled$`));
  const shown = await shownSecrets(page);
  assert.equal(shown.length, done);
  const s = await state();
  const renewed = expected.renewed.filter((a) => s.applications[a.body.id].body.passwordCredentials.some((p) => p.displayName?.startsWith(SECRET_NAME)));
  assert.equal(renewed.length, done);
  await assertOneNewSecretEach(page, renewed, shown);
  const kept = n - done + expected.refused.length;
  assert.equal(await page.locator('#bulk-removal-summary').textContent(),
    `Remove ${plural(done, 'secret')} from ${plural(done, 'application')}; ${plural(kept, 'credential')} kept: not renewed`);
  assert.equal(await page.locator('#bulk-removal-kept li').count(), kept);
  await page.locator('#bulk-done').click();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('entra-wizard.bulk-renewal')), null);
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});
