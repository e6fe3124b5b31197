// Driving Certificates → Generate and Inspect as an admin would: labels,
// not CSS selectors.

/** Fills the Generate form and submits it; resolves with the new card's facts. */
export async function generate(page, { cn = 'Backup Azure SA', org = '', months = 12, bits = 2048, format = 'compatible', password = 'Correct-Horse-42' } = {}) {
  const previous = await currentThumbprint(page);
  await page.getByLabel('Common name (CN)').fill(cn);
  await page.getByLabel('Organization (optional)').fill(org);
  await page.getByLabel('Validity (months)').fill(String(months));
  await page.getByLabel('Key size').selectOption(String(bits));
  await page.getByRole('radio', { name: format === 'modern' ? /Modern \(AES-256, SHA-256\): current/ : /Compatible \(3DES, SHA-1 MAC\): Windows/ }).check();
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.waitForFunction(
    (prev) => {
      const dd = [...document.querySelectorAll('#gen-result dt')].find((dt) => dt.textContent === 'SHA-1 thumbprint')?.nextElementSibling;
      return dd && dd.textContent !== prev;
    },
    previous,
    { timeout: 120_000 },
  );
  return cardFacts(page, '#gen-result');
}

async function currentThumbprint(page) {
  return page.evaluate(() => {
    const dt = [...document.querySelectorAll('#gen-result dt')].find((d) => d.textContent === 'SHA-1 thumbprint');
    return dt?.nextElementSibling?.textContent ?? null;
  });
}

/** The card's definition list as an object: { 'SHA-1 thumbprint': '…', … }. */
export async function cardFacts(page, scope) {
  return page.evaluate((scope) => {
    const out = {};
    for (const dt of document.querySelectorAll(`${scope} dl.facts dt`)) out[dt.textContent] = dt.nextElementSibling.textContent;
    out.badges = [...document.querySelectorAll(`${scope} .badge`)].map((b) => b.textContent);
    return out;
  }, scope);
}
