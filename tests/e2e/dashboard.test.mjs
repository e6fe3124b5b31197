// F7, the credential dashboard: signed in on the demo tenant, the page lists
// every credential by expiry with the emulator's counts, read in one request;
// the AADSTS700027 the demo's backup service gets highlights its expired
// certificate and the fix opens #/renew prefilled; a large tenant pages with
// $top=999 and only the rows on screen are in the DOM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { EMULATOR_URL, graph, reset, registerRedirectUri, signIn, userToken } from './lib/emulator.mjs';
import { droppedFrames, expectedCounts, listRequests, loaded, scrollFrames, seedTenant as seed, shownCounts, timeLoad } from './lib/dashboard.mjs';

const TENANT_ID = '8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47';
const CONTOSO_BACKUP = '082c67e2-3c4e-4548-b957-69746605c3bf';
const TMP = process.env.E2E_TMP ?? '/tmp';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** What the demo's backup service gets signing in with its expired certificate. */
async function expiredCertificateError() {
  const seed = await (await fetch(`${EMULATOR_URL}/_emulator/seed`)).json();
  const backup = seed.serviceApps.find((a) => a.scenario === 'expired-certificate');
  const token = await userToken('admin');
  const app = await graph('GET', `/applications(appId='${CONTOSO_BACKUP}')?$select=keyCredentials`, token);
  const der = Buffer.from(app.keyCredentials[0].key, 'base64');
  const tokenUrl = `${EMULATOR_URL}/login/${TENANT_ID}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5t: b64url(createHash('sha1').update(der).digest()) };
  const claims = { aud: tokenUrl, iss: CONTOSO_BACKUP, sub: CONTOSO_BACKUP, jti: randomUUID(), nbf: now, iat: now, exp: now + 300 };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signed).sign(backup.privateKeyPem);
  const r = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CONTOSO_BACKUP,
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${signed}.${b64url(signature)}`,
    }),
  });
  const answer = await r.json();
  assert.equal(r.status, 401, JSON.stringify(answer));
  return { text: answer.error_description, thumbprint: backup.thumbprint.toUpperCase() };
}

let context;
before(async () => {
  assert.ok(EMULATOR_URL, 'E2E_EMULATOR_URL names the emulator (cargo xtask test starts it)');
  await seed('demo');
  await reset();
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  context = await launch();
});
after(async () => {
  await context?.close();
  // The next test file's reset must give the demo tenant back.
  await seed('demo');
});

test('the demo tenant by expiry, counts as in the emulator, a pasted AADSTS700027 finds the expired certificate', async () => {
  const { page, record } = await openPage(context, '/#/dashboard');
  await page.locator('#dashboard-signed-out').waitFor();
  // The demo's service accounts, as "Load the demo tenant's service accounts" saves them.
  const demoRecords = await (await fetch(`${EMULATOR_URL}/_emulator/demo/service-accounts`)).json();
  await page.evaluate((json) => localStorage.setItem('entra-wizard.service-accounts', json), JSON.stringify(demoRecords));
  await signIn(page);
  const summary = await loaded(page);
  const expected = await expectedCounts();
  assert.match(summary, new RegExp(`^${expected.apps} applications, \\d+ credentials, read in 1 requests\\.`));
  assert.deepEqual(await shownCounts(page), expected.counts);
  const lists = listRequests(record);
  assert.equal(lists.length, 1, JSON.stringify(lists));
  const query = new URL(lists[0].url).searchParams;
  assert.equal(query.get('$top'), '999');
  assert.equal(query.get('$select'), 'id,appId,displayName,keyCredentials,passwordCredentials');

  // Soonest expiry first: the backup service's expired certificate.
  const rows = page.locator('.vt-body .vt-row');
  const first = rows.first();
  assert.match(await first.textContent(), /Contoso Backup/);
  assert.match(await first.textContent(), /Expired 30 days ago/);
  assert.equal(await rows.count(), Object.values(expected.counts).reduce((a, b) => a + b, 0));
  // The saved service account that signs in with it.
  assert.equal(await first.getByRole('cell').nth(6).textContent(), 'Contoso Backup');
  // A secret a saved service account uses: its Renew opens that account's page.
  const archiver = demoRecords.find((r) => r.auth.type === 'clientSecret' && r.name === 'Contoso Archiver');
  await page.locator('#filter-text').fill('Contoso Archiver');
  await page.locator('#filter-type').selectOption('secret');
  assert.equal(await page.locator('#dashboard-shown').textContent(), '1 shown');
  assert.equal(await rows.first().getByRole('cell').nth(6).textContent(), 'Contoso Archiver');
  assert.equal(await rows.first().getByRole('link', { name: 'Renew' }).getAttribute('href'), `#/accounts/${archiver.appId}@${TENANT_ID}`);
  await page.locator('#filter-clear').click();

  // The timeline's "expired" bar filters the table to the expired ones.
  await page.locator('#dashboard-timeline .bar.expired').click();
  assert.equal(await page.locator('#dashboard-shown').textContent(), `${expected.counts.expired} shown`);
  await page.locator('#filter-clear').click();
  // The status filter and the type filter.
  await page.locator('#filter-type').selectOption('secret');
  for (const row of await rows.all()) assert.match(await row.textContent(), /Secret/);
  await page.locator('#filter-clear').click();

  // Triage: the error as the service's log printed it.
  const { text, thumbprint } = await expiredCertificateError();
  assert.match(text, /^AADSTS700027/);
  await page.locator('#triage-input').fill(`2026-11-29 02:00:01 ERROR Backup failed: ${text}`);
  await page.locator('#triage-run').click();
  const result = page.locator('#triage-result');
  await result.waitFor();
  assert.match(await result.textContent(), /has expired/);
  assert.equal(await page.locator('#triage-found').textContent(), 'The matching credential is highlighted in the table.');
  const hit = page.locator('.vt-body .vt-row.hit');
  assert.equal(await hit.count(), 1);
  assert.match(await hit.textContent(), new RegExp(thumbprint));
  assert.match(await hit.textContent(), /Contoso Backup/);

  // The fix opens the renewal with the application, tenant and thumbprint.
  const fix = page.locator('#triage-fix');
  assert.equal(await fix.textContent(), 'Renew this certificate');
  await fix.click();
  await page.waitForURL(/#\/renew\?/);
  const params = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
  assert.equal(params.get('app'), CONTOSO_BACKUP);
  assert.equal(params.get('thumbprint'), thumbprint);
  assert.equal(params.get('tenant'), TENANT_ID);
  await page.getByRole('heading', { level: 1, name: 'Renew a credential' }).waitFor();

  // Back on the dashboard, a row's Renew link goes to the same place.
  await page.goBack();
  await loaded(page);
  const renew = page.locator('.vt-body .vt-row').first().getByRole('link', { name: 'Renew' });
  assert.equal(await renew.getAttribute('href'), `#/renew?app=${CONTOSO_BACKUP}&tenant=${TENANT_ID}&thumbprint=${thumbprint}`);

  // CSV export: a header and one line per credential.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  assert.equal(download.suggestedFilename(), 'credentials.csv');
  const path = join(TMP, `dashboard-${Date.now()}.csv`);
  await download.saveAs(path);
  const lines = readFileSync(path, 'utf8').split('\r\n').filter(Boolean);
  assert.match(lines[0], /^Application,Application \(client\) ID,/);
  assert.equal(lines.length - 1, Object.values(expected.counts).reduce((a, b) => a + b, 0));
  // The calendar: an event with a reminder 30 days before for each credential not yet ended.
  const [calendar] = await Promise.all([page.waitForEvent('download'), page.locator('#export-ics').click()]);
  assert.equal(calendar.suggestedFilename(), 'credential-expiry.ics');
  const icsPath = join(TMP, `dashboard-${Date.now()}.ics`);
  await calendar.saveAs(icsPath);
  const ics = readFileSync(icsPath, 'utf8');
  assert.match(ics, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\n/);
  const notEnded = Object.values(expected.counts).reduce((a, b) => a + b, 0) - expected.counts.expired;
  assert.equal(ics.split('BEGIN:VEVENT').length - 1, notEnded);
  assert.equal(ics.split('TRIGGER:-P30D').length - 1, notEnded);
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});

test('a large tenant: one request per 999 applications, only the rows on screen in the page', async (t) => {
  const n = 10000;
  await seed(`large:${n}`);
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  const { page, record } = await openPage(context, '/#/dashboard');
  const { firstRow, complete, readingAtFirstRow, summary } = await timeLoad(page);
  const rows = page.locator('.vt-body .vt-row');
  // The first page's rows are shown while the next pages are read.
  assert.ok(readingAtFirstRow);
  const expected = await expectedCounts();
  const pages = Math.ceil(expected.apps / 999);
  assert.match(summary, new RegExp(`^${expected.apps} applications, \\d+ credentials, read in ${pages} requests\\.`));
  assert.equal(listRequests(record).length, pages);
  assert.deepEqual(await shownCounts(page), expected.counts);
  const total = Object.values(expected.counts).reduce((a, b) => a + b, 0);
  assert.equal(await page.locator('#dashboard-shown').textContent(), `${total} shown`);

  // Twenty thousand rows, a few dozen elements: scroll through the whole
  // list, a frame at a time, and look at the frames.
  assert.ok(await rows.count() <= 40, `${await rows.count()} rows rendered`);
  const frames = await scrollFrames(page);
  const dropped = droppedFrames(frames);
  frames.sort((a, b) => a - b);
  t.diagnostic(`${expected.apps} applications, ${total} credentials: first row after ${firstRow} ms, complete after ${complete} ms, ` +
    `${pages} requests; scrolling: median frame ${frames[150].toFixed(1)} ms, slowest ${frames[299].toFixed(1)} ms, ` +
    `${frames.filter((f) => f > 50).length} of 300 frames over 50 ms, ${dropped} display frames dropped`);
  await page.waitForFunction(() => {
    const body = document.querySelector('.vt-body');
    const last = [...body.querySelectorAll('.vt-row')].pop();
    return last && last.getBoundingClientRect().bottom <= body.getBoundingClientRect().bottom + 1
      && last.getBoundingClientRect().bottom > body.getBoundingClientRect().top;
  });
  assert.ok(await rows.count() <= 40);
  // A search narrows to a few rows: the application's certificate and
  // secret (and any credential whose IDs happen to contain 01234).
  await page.locator('#filter-text').fill('Bulk app 01234');
  const shown = Number((await page.locator('#dashboard-shown').textContent()).split(' ')[0]);
  assert.ok(shown >= 2 && shown < 10, `${shown} shown`);
  assert.equal(await rows.count(), shown);
  const names = await rows.evaluateAll((rs) => rs.map((r) => r.querySelector('[role=cell]').textContent));
  assert.equal(names.filter((n) => n === 'Bulk app 01234').length, 2);
  assert.deepEqual(record.pageErrors, []);
  await page.close();
});
