// The credential dashboard as the e2e tests and `cargo xtask bench` drive
// it: the emulator's own counts per status, the page's, and a large tenant
// read and scrolled through with what the admin waits for measured.
import { EMULATOR_URL, signIn, state } from './emulator.mjs';

export const BANDS = ['expired', 'd7', 'd30', 'd90', 'fine'];
const DAY = 86_400_000;

/** The dashboard's band of a credential ending at `end` (ISO), seen now. */
export function band(end, now) {
  if (!end) return 'fine';
  const t = Date.parse(end);
  if (t <= now) return 'expired';
  const days = Math.floor((t - now) / DAY);
  return days <= 7 ? 'd7' : days <= 30 ? 'd30' : days <= 90 ? 'd90' : 'fine';
}

/** Counts per band of every application credential in the emulator's state. */
export async function expectedCounts() {
  const s = await state();
  const now = Date.now();
  const counts = Object.fromEntries(BANDS.map((b) => [b, 0]));
  let apps = 0;
  for (const { body } of Object.values(s.applications)) {
    apps += 1;
    for (const c of [...(body.keyCredentials ?? []), ...(body.passwordCredentials ?? [])]) {
      counts[band(c.endDateTime, now)] += 1;
    }
  }
  return { counts, apps };
}

export async function shownCounts(page) {
  const out = {};
  for (const b of BANDS) out[b] = Number(await page.locator(`#count-${b} .n`).textContent());
  return out;
}

/** Replaces the emulator's state with a fresh `name` seed (a reset keeps the last one POSTed). */
export async function seedTenant(name) {
  const r = await fetch(`${EMULATOR_URL}/_emulator/seed`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seed: name }),
  });
  if (!r.ok) throw new Error(`seed ${name}: ${r.status} ${await r.text()}`);
}

/** Waits until the dashboard has read the whole tenant; returns the summary. */
export async function loaded(page) {
  await page.waitForFunction(() => /read in \d+ requests/.test(document.querySelector('#dashboard-progress')?.textContent ?? ''), null, { timeout: 60_000 });
  return page.locator('#dashboard-progress').textContent();
}

/** The page's requests that listed applications. */
export const listRequests = (record) => record.requests.filter((r) => new URL(r.url).pathname.endsWith('/graph/v1.0/applications'));

/**
 * Signs in on `#/dashboard` (already open in `page`) and reads the tenant:
 * milliseconds to the first row and to the complete table, and whether the
 * progress still said "Reading…" when the first row appeared.
 */
export async function timeLoad(page) {
  await signIn(page);
  const t0 = Date.now();
  await page.locator('.vt-body .vt-row').first().waitFor({ timeout: 60_000 });
  const firstRow = Date.now() - t0;
  const readingAtFirstRow = /Reading…/.test(await page.locator('#dashboard-progress').textContent());
  const summary = await loaded(page);
  return { firstRow, complete: Date.now() - t0, readingAtFirstRow, summary };
}

/**
 * Scrolls the whole table in `steps` steps, one per animation frame, and
 * returns each frame's duration (ms), as requestAnimationFrame saw them.
 */
export async function scrollFrames(page, steps = 300) {
  return page.locator('.vt-body').evaluate(async (body, steps) => {
    const out = [];
    let last = performance.now();
    for (let i = 1; i <= steps; i++) {
      body.scrollTop = Math.round((body.scrollHeight * i) / steps);
      await new Promise((r) => requestAnimationFrame(() => r()));
      const now = performance.now();
      out.push(now - last);
      last = now;
    }
    return out;
  }, steps);
}

/**
 * Frames the display missed while `frames` (durations, ms) ran: a frame
 * that took k refresh intervals hid k − 1 of them. The interval is the
 * median frame (16.7 ms at 60 Hz).
 */
export function droppedFrames(frames) {
  const sorted = [...frames].sort((a, b) => a - b);
  const interval = sorted[Math.floor(sorted.length / 2)];
  return frames.reduce((n, f) => n + Math.max(0, Math.round(f / interval) - 1), 0);
}
