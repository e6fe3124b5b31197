// Driving Certificates → Generate and Inspect as an admin would: labels,
// not CSS selectors.

/** Fills the Generate form and submits it; resolves with the new card's facts. */
export async function generate(page, options = {}) {
  const previous = await currentThumbprint(page);
  await fillGenerate(page, options);
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

/**
 * Clicks an already filled form's `button` inside the page and resolves with
 * the milliseconds until `selector` shows new text: what the admin waits
 * for, without the test driver's round trips.
 */
export async function timeInPage(page, button, selector) {
  return page.evaluate(async ({ button, selector }) => {
    const text = () => document.querySelector(selector)?.textContent ?? null;
    const before = text();
    const t0 = performance.now();
    await new Promise((resolve) => {
      const seen = new MutationObserver(() => {
        if (text() !== null && text() !== before) { seen.disconnect(); resolve(); }
      });
      seen.observe(document.body, { subtree: true, childList: true, characterData: true });
      [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === button).click();
    });
    return performance.now() - t0;
  }, { button, selector });
}

export async function fillGenerate(page, { cn = 'Backup Azure SA', org = '', months = 12, bits = 2048, format = 'compatible', password = 'Correct-Horse-42' } = {}) {
  await page.getByLabel('Common name (CN)').fill(cn);
  await page.getByLabel('Organization (optional)').fill(org);
  await page.getByLabel('Validity (months)').fill(String(months));
  await page.getByLabel('Key size').selectOption(String(bits));
  await page.getByRole('radio', { name: format === 'modern' ? /Modern \(AES-256, SHA-256\): current/ : /Compatible \(3DES, SHA-1 MAC\): Windows/ }).check();
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
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
