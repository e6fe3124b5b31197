// `cargo xtask bench` drives this: times what an admin waits for in headless
// Chromium and prints one JSON line (BENCH_JSON …) for xtask to tabulate.
import { readFileSync } from 'node:fs';
import { launch, openPage, BASE_URL } from '../lib/browser.mjs';
import { generate, cardFacts } from '../lib/certificates.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const PFX_600K = process.env.BENCH_PFX_600K;
const PFX_600K_PASSWORD = process.env.BENCH_PFX_600K_PASSWORD;

const context = await launch();
const results = {};
try {
  // Navigation until the page is interactive (the navigation is rendered by wasm).
  const load = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(new URL('/#/certificates', BASE_URL).href);
    await page.getByRole('button', { name: 'Generate' }).waitFor();
    load.push(performance.now() - t0);
    await page.close();
  }
  results['load until interactive'] = load;

  const { page } = await openPage(context, '/#/certificates');
  for (const bits of [2048, 3072, 4096]) {
    for (const format of ['compatible', 'modern']) {
      const times = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await generate(page, { bits, format, cn: `bench ${bits}` });
        times.push(performance.now() - t0);
      }
      results[`generate RSA-${bits} ${format}`] = times;
    }
  }

  if (PFX_600K) {
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const { page: p } = await openPage(context, '/#/certificates');
      await p.getByLabel('Choose a certificate file').setInputFiles({ name: 'slow.pfx', mimeType: 'application/x-pkcs12', buffer: readFileSync(PFX_600K) });
      await p.getByLabel('Password for this file').waitFor();
      const t0 = performance.now();
      await p.getByLabel('Password for this file').fill(PFX_600K_PASSWORD);
      await p.getByRole('button', { name: 'Open' }).click();
      await p.locator('#inspect-result dl.facts').waitFor({ timeout: 300_000 });
      times.push(performance.now() - t0);
      await cardFacts(p, '#inspect-result');
      await p.close();
    }
    results['inspect 600,000-iteration PFX'] = times;
  }
} finally {
  await context.close();
}
console.log('BENCH_JSON ' + JSON.stringify(results));
