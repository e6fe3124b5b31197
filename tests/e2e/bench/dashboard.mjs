// `cargo xtask bench` drives this next to a fresh emulator: the dashboard
// over a large tenant (`large:N`, throttling off) — requests sent against
// the fewest Graph allows (one per 999 applications), time to the first row
// and to the complete table, and display frames dropped while the whole
// table is scrolled. Prints one JSON line (BENCH_DASHBOARD …).
import { launch, openPage, BASE_URL } from '../lib/browser.mjs';
import { faults, registerRedirectUri } from '../lib/emulator.mjs';
import { droppedFrames, expectedCounts, listRequests, scrollFrames, seedTenant, timeLoad } from '../lib/dashboard.mjs';

const N = Number(process.env.BENCH_DASHBOARD_APPS ?? 10000);
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 3);

const runs = [];
try {
  await seedTenant(`large:${N}`);
  await faults({ spec: 'throttle=off' });
  await registerRedirectUri(`${new URL(BASE_URL).origin}/`);
  const { apps, counts } = await expectedCounts();
  for (let i = 0; i < RUNS; i++) {
    // A fresh browser profile each run: a first visit, signed out.
    const context = await launch();
    const { page, record } = await openPage(context, '/#/dashboard');
    const { firstRow, complete } = await timeLoad(page);
    const frames = await scrollFrames(page);
    runs.push({
      firstRow,
      complete,
      requests: listRequests(record).length,
      frames: frames.length,
      dropped: droppedFrames(frames),
    });
    await context.close();
  }
  const credentials = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log('BENCH_DASHBOARD ' + JSON.stringify({ apps, credentials, minimum: Math.ceil(apps / 999), runs }));
} finally {
  await faults({ spec: 'throttle=1.0' });
  await seedTenant('demo');
}
