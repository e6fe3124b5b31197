// Service accounts: records listed, imported and exported as JSON, forgotten.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage } from './lib/browser.mjs';

const TMP = process.env.E2E_TMP ?? '/tmp';
const record = (name, appId, extra = {}) => ({
  format: 1,
  name,
  cloud: { cloud: 'global' },
  tenantId: '8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47',
  appId,
  applicationObjectId: null,
  servicePrincipalId: null,
  auth: {
    type: 'certificate',
    thumbprint: '4044D714386E1935B9B2B1D50FD5722114DCD999',
    subject: `CN=${name}`,
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2027-01-01T00:00:00Z',
  },
  profile: 'azure-backup',
  subscription: { subscriptionId: '5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51', displayName: 'Production' },
  objectIds: [],
  portalAddress: null,
  saved: '2026-06-01T12:00:00Z',
  ...extra,
});

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('service accounts are imported, listed, exported and forgotten', async () => {
  const { page, record: rec } = await openPage(context, '/#/accounts');
  await page.locator('#accounts-empty').waitFor();
  const records = [
    record('Backup One', '11111111-1111-4111-8111-111111111111'),
    record('Archiver Two', '22222222-2222-4222-8222-222222222222', {
      auth: { type: 'clientSecret', hint: 'Sr3', end: '2026-12-01T00:00:00Z' },
      subscription: null,
    }),
  ];
  await page.locator('#accounts-import').setInputFiles({
    name: 'accounts.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(records)),
  });
  await page.getByRole('status').filter({ hasText: 'Imported 2 service account(s).' }).waitFor();
  const items = page.locator('#accounts-list > li');
  assert.equal(await items.count(), 2);
  assert.deepEqual(await page.locator('#accounts-list h3').allTextContents(), ['Backup One', 'Archiver Two']);
  assert.match(await items.nth(0).textContent(), /Certificate 4044D714386E1935B9B2B1D50FD5722114DCD999, valid until 2027-01-01/);
  assert.match(await items.nth(1).textContent(), /Client secret Sr3…, valid until 2026-12-01/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export as JSON' }).click(),
  ]);
  const path = join(TMP, `accounts-${Date.now()}.json`);
  await download.saveAs(path);
  const exported = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(exported.map((r) => r.appId), records.map((r) => r.appId));
  assert.equal(exported[0].auth.thumbprint, records[0].auth.thumbprint);

  // A file that is not a list of records is refused, and nothing changes.
  await page.locator('#accounts-import').setInputFiles({
    name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}'),
  });
  await page.getByRole('alert').filter({ hasText: 'not a list of service accounts' }).waitFor();
  assert.equal(await items.count(), 2);

  await items.nth(0).getByRole('button', { name: 'Forget' }).click();
  assert.deepEqual(await page.locator('#accounts-list h3').allTextContents(), ['Archiver Two']);
  await page.reload();
  await page.locator('#accounts-list').waitFor();
  assert.deepEqual(await page.locator('#accounts-list h3').allTextContents(), ['Archiver Two']);
  assert.deepEqual(rec.pageErrors, []);
  await page.evaluate(() => localStorage.clear());
  await page.close();
});
