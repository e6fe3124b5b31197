// The demo tenant in one click: on the local emulator, Service accounts
// offers "Load the demo tenant's service accounts", which adds one record
// per demo scenario (never a secret or a key) from the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './lib/browser.mjs';
import { EMULATOR_URL, reset } from './lib/emulator.mjs';

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('the demo tenant\'s service accounts load in one click', async () => {
  await reset();
  const seed = await (await fetch(`${EMULATOR_URL}/_emulator/seed`)).json();
  const { page, record } = await openPage(context, '/#/accounts');
  await page.locator('#accounts-empty').waitFor();
  await page.getByRole('button', { name: 'Load the demo tenant\'s service accounts' }).click();
  await page.getByRole('status').filter({ hasText: 'Added the demo tenant\'s 5 service accounts' }).waitFor();

  const names = await page.locator('#accounts-list h3').allTextContents();
  assert.deepEqual(
    [...names].sort(),
    ['Contoso Archiver', 'Contoso Backup', 'Contoso Reports', 'Contoso Restore', 'Contoso Sync'],
  );
  const text = await page.locator('#accounts-list').textContent();
  assert.match(text, /Client secret/);
  assert.match(text, /Certificate [0-9A-F]{40}/);
  // Fetched from the emulator's control API, nothing sent anywhere else.
  const fetched = record.requests.filter((r) => r.url.startsWith(EMULATOR_URL));
  assert.deepEqual(fetched.map((r) => `${r.method} ${new URL(r.url).pathname}`), ['GET /_emulator/demo/service-accounts']);
  // Saved in this browser, without the demo secrets' values.
  const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage }));
  for (const app of seed.serviceApps) {
    assert.ok(stored.includes(app.appId), `${app.displayName} saved`);
    if (app.secretText) assert.ok(!stored.includes(app.secretText), `${app.displayName}'s secret not stored`);
  }
  // Loading again adds nothing twice (same tenant + application).
  await page.getByRole('button', { name: 'Load the demo tenant\'s service accounts' }).click();
  await page.getByRole('status').filter({ hasText: 'Added the demo tenant\'s 5 service accounts' }).waitFor();
  assert.equal(await page.locator('#accounts-list > li').count(), 5);
  assert.deepEqual(record.pageErrors, []);
});
