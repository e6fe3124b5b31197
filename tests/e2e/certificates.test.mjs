// Certificates → Generate and Inspect, as an admin uses them: the files the
// page writes are checked with OpenSSL, the messages for bad input are each
// their own, and nothing is sent anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { launch, openPage, BASE_URL } from './lib/browser.mjs';
import { generate, cardFacts } from './lib/certificates.mjs';

const PYCA = new URL('../../../shared/testdata/pkcs12/pyca/', import.meta.url).pathname;
const work = mkdtempSync(join(process.env.E2E_TMP ?? tmpdir(), 'certs-'));
let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

const openssl = (...args) => execFileSync('openssl', args, { encoding: 'utf8' });
/** `openssl pkcs12 -info` writes the structure to stderr: keep both streams. */
function opensslInfo(...args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout + r.stderr;
}
const sha1 = (bytes) => createHash('sha1').update(bytes).digest('hex').toUpperCase();

/** Clicks `name` and saves the download; returns its path and suggested name. */
async function download(page, name) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
  const path = join(work, `${Date.now()}-${d.suggestedFilename()}`);
  await d.saveAs(path);
  return { path, file: d.suggestedFilename() };
}

/** The page's crypto worker: its own files, loaded from the page's origin on first use. */
const WORKER_FILES = ['/crypto-worker_loader.js', '/crypto-worker.js', '/crypto-worker_bg.wasm'];

/** Requests made after the page finished loading. */
function afterLoad(record, from) {
  return record.requests.slice(from);
}

test('the crypto worker is not part of the first load: it loads when a certificate is first made', async () => {
  const { page, record } = await openPage(context, '/#/certificates');
  await page.getByRole('heading', { name: 'Generate a self-signed certificate' }).waitFor();
  const worker = () => record.shell.filter((p) => WORKER_FILES.includes(p));
  assert.deepEqual(worker(), [], 'no worker file in the first load');
  await generate(page, { cn: 'First use', months: 3, password: 'First-Use-Passw0rd' });
  assert.deepEqual(worker().sort(), [...WORKER_FILES].sort(), 'each worker file once');
  assert.deepEqual(record.pageErrors, []);
});

for (const bits of [2048, 3072, 4096]) {
  for (const format of bits === 2048 ? ['compatible', 'modern'] : ['compatible']) {
    test(`generate RSA-${bits} (${format}): the PFX opens in OpenSSL and matches the card`, async () => {
      const { page, record } = await openPage(context, '/#/certificates');
      const loaded = record.requests.length;
      const password = 'Pässwörd-€-42';
      const facts = await generate(page, { bits, format, cn: 'Backup Azure SA', org: 'Contoso', months: 24, password });
      assert.equal(facts['Subject'], 'CN=Backup Azure SA,O=Contoso');
      assert.equal(facts['Key'], `RSA ${bits} bits`);
      assert.equal(facts['Signature'], 'sha256WithRSAEncryption');
      assert.match(facts.badges.join(' '), /valid, 7\d\d days left/);

      const pfx = await download(page, 'Download .pfx');
      assert.equal(pfx.file, 'Backup-Azure-SA.pfx');
      // OpenSSL 3 without -legacy: the compatible format must not need it.
      const pem = openssl('pkcs12', '-in', pfx.path, '-passin', `pass:${password}`, '-nodes');
      assert.match(pem, /BEGIN CERTIFICATE/);
      assert.match(pem, /BEGIN PRIVATE KEY/);
      writeFileSync(join(work, 'out.pem'), pem);
      const fp = openssl('x509', '-in', join(work, 'out.pem'), '-noout', '-fingerprint', '-sha1');
      assert.equal(fp.trim().split('=')[1].replaceAll(':', ''), facts['SHA-1 thumbprint']);
      assert.match(openssl('pkey', '-in', join(work, 'out.pem'), '-noout', '-text'), new RegExp(`Private-Key: \\(${bits} bit`));
      const info = opensslInfo('pkcs12', '-in', pfx.path, '-passin', `pass:${password}`, '-info', '-noout');
      assert.match(info, format === 'modern' ? /PBES2, PBKDF2, AES-256-CBC/ : /pbeWithSHA1And3-KeyTripleDES-CBC/);
      assert.match(info, format === 'modern' ? /MAC: sha256/ : /MAC: sha1/);

      const cer = await download(page, 'Download .cer');
      assert.equal(sha1(readFileSync(cer.path)), facts['SHA-1 thumbprint']);
      const pemFile = await download(page, 'Download .pem');
      assert.match(readFileSync(pemFile.path, 'utf8'), /^-----BEGIN CERTIFICATE-----\n/);

      assert.deepEqual(afterLoad(record, loaded), [], 'generate makes no request');
      assert.deepEqual(record.pageErrors, []);
    });
  }
}

/** Drops `buffer` as `name` on the Inspect file picker. */
async function pick(page, name, buffer) {
  await page.getByLabel('Choose a certificate file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

const inspectError = (page) => page.locator('#inspect-error');

test('inspect: a password-protected EC PFX asks for its password, refuses a wrong one, then shows the chain', async () => {
  const { page, record } = await openPage(context, '/#/certificates');
  const loaded = record.requests.length;
  await pick(page, 'name-2-3-pwd.p12', readFileSync(PYCA + 'name-2-3-pwd.p12'));
  const pw = page.getByLabel('Password for this file');
  await pw.waitFor();
  await pw.fill('not-it');
  await page.getByRole('button', { name: 'Open' }).click();
  await assert.doesNotReject(inspectError(page).filter({ hasText: /password is wrong|wrong password|incorrect/i }).waitFor());
  await pw.fill('password');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('#inspect-result dl.facts').waitFor();
  const facts = await cardFacts(page, '#inspect-result');
  assert.equal(facts['SHA-1 thumbprint'], '2534F63C8F948CE54827F670D924D5FC81FAA12C');
  assert.equal(facts['Private key'], 'EC-P-256');
  assert.ok(facts.badges.includes('not RSA — Entra refuses it'));
  assert.match(facts['Friendly names'], /name2/);
  const chain = await page.locator('#inspect-result ul.chain li').allTextContents();
  assert.ok(chain.some((c) => c.includes('973CEBA25EF865F9D802B0E727555B9C4FC65188')));
  // The EC key cannot be used with Entra: the page says so and offers no conversion.
  assert.match(await page.locator('#inspect-result').textContent(), /Entra accepts only RSA/);
  assert.equal(await page.getByRole('button', { name: 'Download converted .pfx' }).count(), 0);
  assert.deepEqual(afterLoad(record, loaded), [], 'inspect makes no request');
});

test('inspect: a PFX with no password opens at once', async () => {
  const { page } = await openPage(context, '/#/certificates');
  await pick(page, 'no-password.p12', readFileSync(PYCA + 'no-password.p12'));
  await page.locator('#inspect-result dl.facts').waitFor();
  assert.equal(await page.getByLabel('Password for this file').count(), 0);
});

test('inspect: bad input gets its own message', async () => {
  const { page } = await openPage(context, '/#/certificates');
  const good = readFileSync(PYCA + 'name-all-no-pwd.p12');
  const messages = new Map();
  const cases = [
    ['truncated.pfx', good.subarray(0, Math.floor(good.length / 2))],
    ['renamed.pfx', Buffer.from(openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'renamed.key'), '-subj', '/CN=renamed', '-days', '1'))],
    ['random.pfx', Buffer.from('this is not a certificate at all, just text\n')],
  ];
  let previous = '';
  for (const [name, bytes] of cases) {
    await pick(page, name, bytes);
    // Wait for this file's message, not the one the previous file left.
    await page.waitForFunction((prev) => {
      const text = document.querySelector('#inspect-error')?.textContent.trim() ?? '';
      return text !== '' && text !== prev;
    }, previous);
    previous = (await inspectError(page).textContent()).trim();
    messages.set(name, previous);
  }
  assert.match(messages.get('truncated.pfx'), /truncated|incomplete|cut short/i);
  assert.match(messages.get('renamed.pfx'), /PEM certificate/i);
  assert.equal(new Set(messages.values()).size, cases.length, `each message differs: ${[...messages.values()]}`);
});

test('convert: a generated PFX re-exported in the modern format opens with the new password', async () => {
  const { page } = await openPage(context, '/#/certificates');
  const facts = await generate(page, { cn: 'convert me', password: 'First-Password-1' });
  const pfx = await download(page, 'Download .pfx');
  await pick(page, 'convert-me.pfx', readFileSync(pfx.path));
  await page.getByLabel('Password for this file').fill('First-Password-1');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByLabel('New password', { exact: true }).fill('Second-Password-2');
  await page.getByLabel('Confirm new password').fill('Second-Password-2');
  const converted = await download(page, 'Download converted .pfx');
  assert.equal(converted.file, 'convert-me-modern.pfx');
  const info = opensslInfo('pkcs12', '-in', converted.path, '-passin', 'pass:Second-Password-2', '-info', '-nodes');
  assert.match(info, /PBES2, PBKDF2, AES-256-CBC/);
  writeFileSync(join(work, 'conv.pem'), info);
  const fp = openssl('x509', '-in', join(work, 'conv.pem'), '-noout', '-fingerprint', '-sha1');
  assert.equal(fp.trim().split('=')[1].replaceAll(':', ''), facts['SHA-1 thumbprint']);
});

test('generate works from the keyboard alone', async () => {
  const { page } = await openPage(context, '/#/certificates');
  await page.getByLabel('Common name (CN)').focus();
  await page.keyboard.type('keyboard only');
  await page.keyboard.press('Tab'); // organization
  await page.keyboard.press('Tab'); // validity
  await page.keyboard.press('Control+A');
  await page.keyboard.type('6');
  await page.keyboard.press('Tab'); // key size
  await page.keyboard.press('Tab'); // password
  await page.keyboard.type('Keyboard-Only-9');
  await page.keyboard.press('Tab'); // confirmation
  await page.keyboard.type('Keyboard-Only-9');
  await page.keyboard.press('Enter'); // submits the form
  await page.locator('#gen-result dl.facts').waitFor({ timeout: 60_000 });
  const facts = await cardFacts(page, '#gen-result');
  assert.equal(facts['Subject'], 'CN=keyboard only');
  // The focus ring is visible on whatever has focus.
  await page.getByRole('button', { name: 'Download .pfx' }).focus();
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  assert.ok(new URL(page.url()).origin === new URL(BASE_URL).origin);
});

test('a mismatched confirmation is refused before any key is made', async () => {
  const { page } = await openPage(context, '/#/certificates');
  await page.getByLabel('Common name (CN)').fill('x');
  await page.getByLabel('PFX password').fill('One-Password-1');
  await page.getByLabel('Confirm password').fill('Another-Password-2');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('alert').filter({ hasText: 'The two passwords differ' }).waitFor();
  assert.equal(await page.locator('#gen-result dl.facts').count(), 0);
});

test('at 360 px wide nothing scrolls sideways, even with a chain of long thumbprints', async () => {
  const { page } = await openPage(context, '/#/certificates');
  await page.setViewportSize({ width: 360, height: 780 });
  await pick(page, 'name-2-3-pwd.p12', readFileSync(PYCA + 'name-2-3-pwd.p12'));
  await page.getByLabel('Password for this file').fill('password');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('#inspect-result ul.chain').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 360);
});

test('inspect: a heavy PFX opens in the crypto worker with its progress, the page stays responsive, and Cancel stops it', async () => {
  // Legacy 3DES bags and a SHA-1 MAC, 1,000,000 iterations each: PKCS#12 KDF
  // runs that WebCrypto cannot do, so the worker derives them in Rust for
  // a second or more.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'heavy.key'), '-out', join(work, 'heavy.crt'),
    '-subj', '/CN=Heavy PFX', '-days', '30');
  openssl('pkcs12', '-export', '-inkey', join(work, 'heavy.key'), '-in', join(work, 'heavy.crt'), '-out', join(work, 'heavy.pfx'),
    '-passout', 'pass:Heavy-Passw0rd', '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-iter', '1000000');
  const { page, record } = await openPage(context, '/#/certificates');
  await pick(page, 'heavy.pfx', readFileSync(join(work, 'heavy.pfx')));
  const pw = page.getByLabel('Password for this file');
  await pw.waitFor({ timeout: 60_000 });
  await pw.fill('Heavy-Passw0rd');
  await page.getByRole('button', { name: 'Open' }).click();

  // Visible progress, and a page that answers meanwhile.
  const progress = page.locator('#inspect-progress');
  await progress.locator('progress').waitFor();
  assert.match(await progress.textContent(), /password|Decrypting/);
  const lag = await page.evaluate(() => new Promise((resolve) => {
    const t0 = performance.now();
    setTimeout(() => resolve(performance.now() - t0), 0);
  }));
  assert.ok(lag < 250, `the page's thread answered after ${lag} ms`);

  await page.getByRole('button', { name: 'Cancel' }).click();
  await inspectError(page).filter({ hasText: 'Stopped: nothing was opened or made.' }).waitFor();
  assert.equal(await progress.locator('progress').count(), 0);
  assert.equal(await page.locator('#inspect-result dl.facts').count(), 0);

  // The file is still loaded: Open again runs to the end in a fresh worker.
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('#inspect-result dl.facts').waitFor({ timeout: 60_000 });
  const facts = await cardFacts(page, '#inspect-result');
  assert.equal(facts['Subject'], 'CN=Heavy PFX');
  assert.deepEqual(record.pageErrors, []);
});
