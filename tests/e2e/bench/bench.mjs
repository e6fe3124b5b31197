// `cargo xtask bench` drives this: times what an admin waits for in headless
// Chromium and prints one JSON line (BENCH_JSON …) for xtask to tabulate.
import { readFileSync } from 'node:fs';
import { launch, openPage, BASE_URL } from '../lib/browser.mjs';
import { fillGenerate, timeInPage } from '../lib/certificates.mjs';

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
        await fillGenerate(page, { bits, format, cn: `bench ${bits}` });
        times.push(await timeInPage(page, 'Generate', '#gen-result dl.facts dd:nth-of-type(5)'));
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
      await p.getByLabel('Password for this file').fill(PFX_600K_PASSWORD);
      times.push(await timeInPage(p, 'Open', '#inspect-result dl.facts'));
      await p.close();
    }
    results['inspect 600,000-iteration PFX'] = times;
  }
} finally {
  await context.close();
}
console.log('BENCH_JSON ' + JSON.stringify(results));
