// Web UI benchmark in real headless Chromium (docs/performance.md, "Web UI"): against a server on a store
// seeded by tamga_seed_store (100k runs, 50 param/metric columns, one 1M-point metric). Prints each figure
// beside its target. Run through bench/ui.sh.
//   node bench/ui_bench.mjs --url=http://127.0.0.1:PORT --exp=ID --history-run=RUN_ID --bundle-dir=build/web
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(join(process.cwd(), 'web/package.json'));
const { chromium } = require('playwright-core');
const arg = (n, d) => (process.argv.find((a) => a.startsWith(`--${n}=`)) || `--${n}=${d ?? ''}`).split('=').slice(1).join('=');
const url = arg('url');
const exp = arg('exp');
const historyRun = arg('history-run');
const bundleDir = arg('bundle-dir', 'build/web');
const REPEAT = Number(arg('repeat', 5));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const rows = [];
const report = (name, ms, target, mlflow) => {
  rows.push({ name, ms, target, mlflow });
  console.log(`${name.padEnd(58)} ${typeof ms === 'number' ? ms.toFixed(0).padStart(6) + ' ms' : String(ms).padStart(9)}   target ${target}`);
};

const browser = await chromium.launch({ executablePath: arg('chromium', '/usr/bin/chromium'), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  // Bundle size (what a cold load transfers).
  let gz = 0;
  for (const f of readdirSync(bundleDir)) if (f.endsWith('.gz')) gz += statSync(join(bundleDir, f)).size;
  report('bundle, gzipped (all assets)', `${(gz / 1024).toFixed(1)} KiB`, '<= 250 KiB');

  // Cold page load: a fresh browser context (empty cache) to the experiments list painted.
  const cold = [];
  for (let i = 0; i < REPEAT; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const t = Date.now();
    await page.goto(url + '/#/experiments');
    await page.waitForSelector('[data-testid=experiments] tbody a');
    cold.push(Date.now() - t);
    await ctx.close();
  }
  report('cold page load to the experiments list (median)', median(cold), '<= 500 ms');

  const cols = ['m:last:m1', 'm:min:k00', 'm:max:k00', ...Array.from({ length: 10 }, (_, k) => `m:last:k${String(k).padStart(2, '0')}`),
    ...Array.from({ length: 10 }, (_, k) => `p:p${String(k).padStart(2, '0')}`)].map(encodeURIComponent).join(',');
  const runsUrl = `${url}/#/experiments/${exp}/runs?cols=${encodeURIComponent(cols)}`;
  const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await ctx.newPage();
  const first = [];
  const sorts = [];
  const sortsMin = [];
  const scrolls = [];
  for (let i = 0; i < REPEAT; i++) {
    await page.goto('about:blank');
    const t = Date.now();
    await page.goto(runsUrl);
    await page.waitForSelector('.vt-row[data-row="0"] .run-link');
    first.push(Date.now() - t);
    const name0 = await page.textContent('.vt-row[data-row="0"] .run-link');
    let t2 = Date.now();
    await page.click('[data-col="m:last:m1"]');
    await page.waitForFunction((n) => { const a = document.querySelector('.vt-row[data-row="0"] .run-link'); return a && a.textContent !== n; }, name0);
    sorts.push(Date.now() - t2);
    const name1 = await page.textContent('.vt-row[data-row="0"] .run-link');
    t2 = Date.now();
    await page.click('[data-col="m:min:k00"]');
    await page.waitForFunction((n) => { const a = document.querySelector('.vt-row[data-row="0"] .run-link'); return a && a.textContent !== n; }, name1);
    sortsMin.push(Date.now() - t2);
    // jump to the middle of the table: rows painted there
    t2 = Date.now();
    await page.evaluate(() => { const v = document.querySelector('.vt'); v.scrollTop = v.scrollHeight / 2; });
    await page.waitForFunction(() => {
      const v = document.querySelector('.vt');
      const want = Math.floor(v.scrollTop / 30) + 5;
      const r = document.querySelector(`.vt-row[data-row="${want}"] .run-link`);
      return !!r;
    });
    scrolls.push(Date.now() - t2);
  }
  report('runs table, 100k runs x 23 columns: first rows painted (median)', median(first), '<= 1000 ms');
  report('sort 100k runs by a metric (last), rows repainted (median)', median(sorts), '<= 300 ms');
  report('sort 100k runs by a metric (min), rows repainted (median)', median(sortsMin), '<= 300 ms');
  report('jump to the middle of 100k rows, rows painted (median)', median(scrolls), '-');

  // The 1M-point metric: first draw, then a zoom that re-fetches.
  const draws = [];
  const zooms = [];
  for (let i = 0; i < REPEAT; i++) {
    await page.goto('about:blank');
    const t = Date.now();
    await page.goto(`${url}/#/charts?runs=${historyRun}&keys=loss`);
    await page.waitForFunction(() => document.querySelector('[data-testid="chart-loss"] .chart-plot')?.__chartData?.series?.length > 0);
    draws.push(Date.now() - t);
    const t2 = Date.now();
    await page.evaluate(() => { location.hash = location.hash + '&x0=400000&x1=410000'; });
    await page.waitForFunction(() => { const d = document.querySelector('[data-testid="chart-loss"] .chart-plot')?.__chartData; return d && d.series.length && d.series[0].x[0] >= 400000; });
    zooms.push(Date.now() - t2);
  }
  report('chart of the 1M-point metric: first draw (median)', median(draws), '<= 300 ms');
  report('zoom: re-fetch 10k-step range at full detail and redraw (median)', median(zooms), '<= 200 ms');

  // Compare 100 runs x 20 metrics: the longest main-thread task.
  const ids = await page.evaluate(async (e) => {
    const r = await fetch('/api/2.0/tamga/runs/table', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ experiment_ids: [e], max_results: 100, columns: [] }) });
    return (await r.json()).rows.map((x) => x.run_id);
  }, exp);
  const keys = Array.from({ length: 20 }, (_, k) => `k${String(k).padStart(2, '0')}`).join(',');
  await page.goto('about:blank');
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  });
  const t = Date.now();
  await page.goto(`${url}/#/compare?runs=${ids.join(',')}&keys=${keys}`);
  await page.waitForFunction(() => document.querySelectorAll('.chart-plot canvas').length >= 20, null, { timeout: 60000 });
  const compareMs = Date.now() - t;
  await page.waitForTimeout(300);
  const longest = await page.evaluate(() => Math.max(0, ...window.__long));
  report('compare 100 runs x 20 metrics: all charts drawn', compareMs, '-');
  report('compare 100 runs x 20 metrics: longest main-thread task', longest, '<= 200 ms');
  await ctx.close();
} finally {
  await browser.close();
}
