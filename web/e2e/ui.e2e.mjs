// End-to-end: the web UI in Debian's Chromium against a real server seeded through the REST API.
//   node web/e2e/ui.e2e.mjs --tamga=build/tamga [--out=DIR for screenshots] [--chromium=/usr/bin/chromium]
// Checks values read back from the page (table cells, the chart's data), not screenshots; the screenshots
// are saved for docs/ui.md.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { arg, check, client, eventually, launchBrowser, startServer } from './harness.mjs';
import { HISTORY_STEPS, SPIKE, SPIKE_STEP, seed } from './seed.mjs';

const bin = arg('tamga');
const out = arg('out', '');
const fakeNvml = arg('fake-nvml', '');  // the fake libnvidia-ml (tests/fakes): an agent with two GPUs
if (!bin) throw new Error('--tamga=PATH is required');
if (out) mkdirSync(out, { recursive: true });

const server = await startServer(bin);
const browser = await launchBrowser();
let failed = false;
let page = null;
try {
  const c = client(server.url);
  const s = await seed(c);
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
  page.on('dialog', (d) => d.accept());
  const shot = async (name) => { if (out) await page.screenshot({ path: join(out, `${name}.png`) }); };
  const step = async (name, fn) => {
    const t = Date.now();
    await fn();
    console.log(`ok - ${name} (${Date.now() - t} ms)`);
  };

  await step('experiments list, search', async () => {
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid=experiments] a');
    const names = await page.$$eval('[data-testid=experiments] tbody a', (as) => as.map((a) => a.textContent));
    check(names.includes('e2e-vision') && names.includes('e2e-other'), `experiments listed: ${names}`);
    await page.fill('input[name=q]', 'vision');
    await page.press('input[name=q]', 'Enter');
    await eventually(async () => (await page.$$eval('[data-testid=experiments] tbody a', (as) => as.map((a) => a.textContent))).join() === 'e2e-vision', 'search by name');
    check(page.url().includes('q=vision'), 'search kept in the URL');
    await shot('experiments');
  });

  const runsUrl = `${server.url}/#/experiments/${s.exp}/runs`;
  await step('runs table: count, default columns, sort by a metric', async () => {
    await page.goto(runsUrl);
    await page.waitForSelector('[data-testid=run-count]:has-text("runs")');
    const count = await page.textContent('[data-testid=run-count]');
    check(count.startsWith('33 runs'), `run count: ${count}`);
    await page.waitForSelector('.vt-row[data-row="0"] .run-link');
    // sort by loss (last) ascending: run-00 has the lowest loss (0.81)
    await page.click('[data-col="m:last:loss"]');
    await eventually(async () => (await page.textContent('.vt-row[data-row="0"] .run-link')) === 'run-29', 'desc sort first click');
    await page.click('[data-col="m:last:loss"]');
    await eventually(async () => (await page.textContent('.vt-row[data-row="0"] .run-link')) === 'run-00', 'asc sort second click');
    check(page.url().includes('sort=m%3Alast%3Aloss'), 'sort in the URL: ' + page.url());
    await shot('runs');
  });

  await step('runs table: filter text, column chooser with min/max', async () => {
    await page.fill('input[name=filter]', "params.optimizer = 'sgd'");
    await page.press('input[name=filter]', 'Enter');
    await eventually(async () => (await page.textContent('[data-testid=run-count]')).startsWith('10 runs'), 'filtered count');
    await page.click('[data-action=columns]');
    await page.check('input[data-col="metric:max:loss"]');
    await page.click('[data-action=apply-columns]');
    await page.waitForSelector('[data-col="m:max:loss"]');
    // sort by max(loss) descending: run-27 (sgd, i=27) has max 1 + 2.7 = 3.7
    await page.click('[data-col="m:max:loss"]');
    await eventually(async () => (await page.textContent('.vt-row[data-row="0"] .run-link')) === 'run-27', 'max sort');
    const cells = await page.$$eval('.vt-row[data-row="0"] .vt-cell', (cs) => cs.map((x) => x.textContent.trim()));
    check(cells.includes('3.7'), 'max(loss) of run-27 is 3.7: ' + cells);
    // deep link: reload keeps filter, columns and sort
    await page.reload();
    await eventually(async () => (await page.textContent('.vt-row[data-row="0"] .run-link')) === 'run-27', 'state after reload');
    check((await page.inputValue('input[name=filter]')) === "params.optimizer = 'sgd'", 'filter restored');
    // CSV export of what the table shows (filter and columns)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:text-is("Export CSV")')]);
    const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
    const lines = csv.trim().split('\n');
    check(lines.length === 11 && lines[0].endsWith('metric.loss.max'), 'CSV: header + 10 rows: ' + lines[0]);
  });

  await step('nested runs: group and expand', async () => {
    await page.goto(runsUrl + '?nested=1');
    await eventually(async () => (await page.textContent('[data-testid=run-count]')).startsWith('31 runs'), 'top-level count');
    const idx = await eventually(async () => {
      const rows = await page.$$eval('.vt-row .run-link', (as) => as.map((a) => a.textContent));
      return rows.indexOf('sweep-parent') >= 0 ? String(rows.indexOf('sweep-parent')) : null;
    }, 'parent row shown');
    await page.click(`.vt-row:has(.run-link:text-is("sweep-parent")) button.caret`);
    await eventually(async () => (await page.$$eval('.child-row .run-link', (as) => as.map((a) => a.textContent))).length === 2, 'children shown');
    check(idx !== null, 'parent index');
  });

  await step('run page: overview, params, description', async () => {
    await page.goto(`${server.url}/#/runs/${s.long.run_id}`);
    await page.waitForSelector('[data-testid=run-name]');
    check((await page.textContent('[data-testid=run-name]')) === 'run-00', 'run name');
    const params = await page.$$eval('[data-testid=params] tr', (rs) => rs.map((r) => r.textContent));
    check(params.some((p) => p.includes('lr') && p.includes('0.001')), 'params shown: ' + params);
    await page.waitForSelector('td:text-is("mnist-train")');
    await page.waitForSelector('td:text-is("training")');
    await page.click('[data-action=edit-description]');
    await page.fill('textarea.note', 'Baseline **run**');
    await page.click('[data-action=save-description]');
    await page.waitForSelector('.md strong:text-is("run")');
    await shot('run');
  });

  await step('chart: the 5000-point history with its spike, server-downsampled', async () => {
    await page.goto(`${server.url}/#/runs/${s.long.run_id}?tab=metrics&key=val_loss`);
    await page.waitForSelector('[data-testid="chart-val_loss"] canvas');
    const d = await eventually(() => page.evaluate(() => document.querySelector('[data-testid="chart-val_loss"] .chart-plot').__chartData), 'chart data');
    const ys = d.series[0].y;
    const xs = d.series[0].x;
    check(Math.max(...ys) === SPIKE && xs[ys.indexOf(SPIKE)] === SPIKE_STEP, 'spike kept exactly');
    check(xs.length <= 2000 && xs.length >= 500, `downsampled to ${xs.length} points`);
    check(xs[0] === 0 && xs[xs.length - 1] === HISTORY_STEPS - 1, 'first and last points kept');
    check(Math.min(...ys) === 1 / (1 + (HISTORY_STEPS - 1) / 100), 'minimum kept exactly');
    const metricsRows = await page.$$eval('[data-testid=metrics] tbody tr', (rs) => rs.map((r) => r.textContent));
    check(metricsRows.some((r) => r.startsWith('val_loss') && r.includes('42')), 'max column shows the spike');
    await shot('run-metrics');
    // zoom: the range is re-fetched at full detail
    const box = await page.$('[data-testid="chart-val_loss"] .u-over');
    const b = await box.boundingBox();
    await page.mouse.move(b.x + b.width * 0.45, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.55, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await eventually(() => page.url().includes('x0='), 'zoom range in the URL');
    const z = await eventually(async () => {
      const v = await page.evaluate(() => document.querySelector('[data-testid="chart-val_loss"] .chart-plot')?.__chartData);
      return v && v.series[0].x[0] > 0 ? v : null;
    }, 'zoomed data');
    const zx = z.series[0].x;
    check(zx.every((x, i) => i === 0 || x === zx[i - 1] + 1), 'zoomed range is at full resolution (every step)');
  });

  await step('live chart: new points of a running run appear without reloading', async () => {
    const ml = '/api/2.0/mlflow';
    const r = (await c.post(`${ml}/runs/create`, { experiment_id: s.exp, run_name: 'live-run', start_time: Date.now() })).run.info;
    await c.post(`${ml}/runs/log-batch`, { run_id: r.run_id, metrics: Array.from({ length: 10 }, (_, k) => ({ key: 'live', value: k, timestamp: Date.now(), step: k })) });
    await page.goto(`${server.url}/#/charts?runs=${r.run_id}&keys=live`);
    await page.waitForSelector('.badge.st-running:text-is("live")');
    await eventually(() => page.evaluate(() => document.querySelector('[data-testid="chart-live"] .chart-plot')?.__chartData?.series?.[0]?.x.length === 10), 'first 10 points');
    await page.waitForTimeout(300);  // the long-poll is waiting now
    await c.post(`${ml}/runs/log-metric`, { run_id: r.run_id, key: 'live', value: 99, timestamp: Date.now(), step: 10 });
    // Drawn well before the waiting request's own 25 s timeout would have refreshed the chart: the write woke it.
    await eventually(() => page.evaluate(() => Math.max(...(document.querySelector('[data-testid="chart-live"] .chart-plot')?.__chartData?.series?.[0]?.y || [0])) === 99), 'new point drawn (woken by the write)', 15000);
    await c.post(`${ml}/runs/update`, { run_id: r.run_id, status: 'FINISHED', end_time: Date.now() });
    await page.waitForSelector('.badge.st-running:text-is("live")', { state: 'detached' });
  });

  await step('artifacts: CSV table, JSON, MLmodel signature, big text by range', async () => {
    await page.goto(`${server.url}/#/runs/${s.long.run_id}?tab=artifacts`);
    await page.click('.tree-row:has-text("data")');
    await page.click('[data-path="data/sample.csv"]');
    await page.waitForSelector('[data-testid=csv-preview] tbody tr');
    const head = await page.$$eval('[data-testid=csv-preview] th', (t) => t.map((x) => x.textContent));
    check(head.join() === 'id,feature,label', 'csv header ' + head);
    const first = await page.$$eval('[data-testid=csv-preview] tbody tr:first-child td', (t) => t.map((x) => x.textContent));
    check(first.join('|') === '0|v,0|0', 'quoted csv cell: ' + first);
    await shot('artifacts-csv');
    await page.click('.tree-row:has-text("model")');
    await page.click('[data-path="model/MLmodel"]');
    await page.waitForSelector('[data-testid=mlmodel] td:text-is("income")');
    await page.click('[data-path="big.txt"]');
    const len = await eventually(() => page.$eval('[data-testid=text-preview]', (p) => p.textContent.length), 'big text preview');
    check(len === 1 << 20, `only the first MiB of a 3 MiB file is fetched (${len})`);
    await page.click('[data-path="notes.json"]');
    await page.waitForSelector('[data-testid=text-preview]:has-text("\\"note\\": \\"hello\\"")');
  });

  await step('compare two runs: differing params highlighted', async () => {
    await page.goto(`${server.url}/#/compare?runs=${s.runs[1].run_id},${s.runs[2].run_id}`);
    await page.waitForSelector('[data-testid=param-diff] tr.diff');
    const diff = await page.$$eval('[data-testid=param-diff] tr.diff', (rs) => rs.map((r) => r.dataset.key));
    check(diff.includes('lr') && diff.includes('batch size') && !diff.includes('optimizer'), 'diff rows ' + diff);
    await page.waitForSelector('[data-testid="chart-loss"] canvas');
    await shot('compare');
  });

  await step('registry: move an alias, see it in the history', async () => {
    await page.goto(`${server.url}/#/models/fraud?tab=aliases`);
    await page.waitForSelector('[data-testid=aliases]');
    await page.fill('input[name=alias]', 'production');
    await page.selectOption('select[aria-label=Version]', '2');
    await page.click('[data-action=set-alias]');
    await page.waitForSelector('[data-testid=aliases] td:text-is("v2")');
    await eventually(async () => {
      const rows = await page.$$eval('[data-testid=alias-history] tbody tr', (rs) => rs.map((r) => r.textContent));
      return rows.filter((r) => r.includes('@production')).length >= 2 && rows[0].includes('v2');
    }, 'alias history shows both moves');
    await shot('model-aliases');
    await page.goto(`${server.url}/#/models/fraud?tab=webhooks`);
    await page.click('[data-action=deliveries]');
    await eventually(async () => {
      if ((await page.$$('[data-testid=deliveries] tbody tr')).length >= 1) return true;
      await page.click('[data-action=deliveries]');  // closed, and opened again: read once more
      await page.click('[data-action=deliveries]');
      await page.waitForTimeout(300);
      return false;
    }, 'the webhook delivery log lists the alias events', 15000);
    await shot('model-webhooks');
    await page.goto(`${server.url}/#/models`);
    await page.waitForSelector('[data-testid=models] a:text-is("fraud")');
    await shot('models');
  });

  await step('jobs: queue depth, abort a job', async () => {
    await page.goto(`${server.url}/#/jobs?tab=queues`);
    await page.waitForSelector('[data-testid=queues] a:text-is("cpu")');
    await shot('jobs-queues');
    await page.goto(`${server.url}/#/jobs/${s.job.id}`);
    await page.waitForSelector('[data-action=abort]');
    await page.click('[data-action=abort]');
    await page.waitForSelector('.page-head .badge:text-is("ABORTED")');
    const j = await c.get(`/api/2.0/tamga/jobs/${s.job.id}`);
    check(j.job.state === 'aborted', 'job aborted on the server: ' + j.job.state);
    await shot('job');
    await page.click('[data-action=requeue]');
    await eventually(async () => (await page.textContent('[data-testid=job-id]')) !== s.job.id, 'a new job page');
    const again = (await c.get(`/api/2.0/tamga/jobs/${await page.textContent('[data-testid=job-id]')}`)).job;
    check(again.state === 'queued' && JSON.stringify(again.spec.command) === JSON.stringify(['sleep', '60']), 're-enqueued with the same command');
    await c.post(`/api/2.0/tamga/jobs/${again.id}/abort`, {});
    await page.goto(`${server.url}/#/jobs`);
    await page.click('button:text-is("Submit job")');
    await page.selectOption('select[name=queue]', 'cpu');
    await page.fill('input[name=command]', `python3 -c "print('from the UI')"`);
    await page.click('.modal button.primary');
    await page.waitForSelector('[data-testid=job-id]');
    const submitted = await page.textContent('[data-testid=job-id]');
    const sj = (await c.get(`/api/2.0/tamga/jobs/${submitted}`)).job;
    check(JSON.stringify(sj.spec.command) === JSON.stringify(['python3', '-c', "print('from the UI')"]), 'argv from the UI: ' + JSON.stringify(sj.spec.command));
    await page.goto(`${server.url}/#/jobs`);
    await page.waitForSelector('[data-testid=jobs] td a');
    await shot('jobs');
  });

  if (fakeNvml) {
    await step('agents with GPUs: which job holds which GPU, the live log, abort while running', async () => {
      const GIB = 1024 ** 3;
      const cfg = join(server.dir, 'nvml.json');
      writeFileSync(cfg, JSON.stringify({ driver: '550.54.15', cuda: 12040, gpus: [
        { uuid: 'GPU-11111111-aaaa', name: 'Fake A100', total: 40 * GIB, used: 12 * GIB, util: 87, temp: 64, power_mw: 250000, ecc_uncorrected: 0 },
        { uuid: 'GPU-22222222-bbbb', name: 'Fake A100', total: 40 * GIB, used: 0, util: 0, temp: 41, power_mw: 61000, ecc_uncorrected: 0 }] }));
      await c.post('/api/2.0/tamga/queues', { name: 'gpu' });
      const agent = spawn(bin, ['agent', '--server', server.url, '--queue', 'gpu', '--gpus', 'all', '--name', 'gpu-box-1',
        '--work-dir', join(server.dir, 'agent'), '--heartbeat-ms', '300'],
      { env: { ...process.env, TAMGA_NVML_LIBRARY: fakeNvml, FAKE_NVML_CONFIG: cfg }, stdio: 'ignore' });
      try {
        const job = (await c.post('/api/2.0/tamga/jobs', { queue: 'gpu', command: ['sh', '-c', 'echo hello-from-job; sleep 60'],
          resources: { gpus: 1 } })).job;
        await page.goto(`${server.url}/#/jobs/${job.id}`);
        await eventually(async () => (await page.textContent('[data-testid=job-log]')).includes('hello-from-job'), 'live log line', 30000);
        await page.goto(`${server.url}/#/jobs?tab=agents`);
        await page.waitForSelector('[data-testid=agents] td:text-is("Fake A100")', { timeout: 15000 });
        await eventually(async () => (await page.$$eval(`[data-testid=agents] a`, (as) => as.map((a) => a.textContent))).includes(job.id), 'GPU row names the job', 15000);
        await shot('jobs-agents');
        await page.goto(`${server.url}/#/jobs/${job.id}`);
        await page.click('[data-action=abort]');
        await eventually(async () => (await c.get(`/api/2.0/tamga/jobs/${job.id}`)).job.state === 'aborted', 'running job aborted', 20000);
      } finally {
        agent.kill('SIGTERM');
      }
    });
  }

  await step('serving: the deployment, its manifests and GitOps commits (both alias moves)', async () => {
    await page.goto(`${server.url}/#/serving`);
    await page.waitForSelector('[data-testid=deployments] a:text-is("fraud-api")');
    await page.click('[data-testid=deployments] a:text-is("fraud-api")');
    const commits = await eventually(async () => {
      await page.reload();
      await page.waitForSelector('[data-testid=gitops-commits] tbody tr', { timeout: 3000 });
      const rows = await page.$$eval('[data-testid=gitops-commits] tbody tr', (rs) => rs.map((r) => r.textContent));
      return rows.length >= 2 ? rows : null;
    }, 'two render commits (v1, then v2 after the alias move)', 20000);
    check(commits[0].includes('2'), 'newest commit is for version 2: ' + commits[0]);
    const manifests = await page.$$eval('[data-testid=manifest]', (ps) => ps.map((p) => p.textContent).join('\n'));
    check(/kind:\s*"?Deployment/.test(manifests), 'rendered Deployment manifest shown: ' + manifests.slice(0, 300));
    await shot('deployment');
  });

  await step('serving: an in-process deployment of a real TorchScript model, its version, readiness, QPS and latency', async () => {
    // tests/serving/make_models.py makes the serving tests' models with Debian's python3-torch.
    const dir = mkdtempSync(join(tmpdir(), 'tamga-ui-models-'));
    const script = fileURLToPath(new URL('../../tests/serving/make_models.py', import.meta.url));
    await new Promise((resolve, reject) => spawn('/usr/bin/python3', [script, dir], { stdio: 'ignore' })
      .on('exit', (code) => (code === 0 ? resolve() : reject(new Error('make_models.py exited ' + code)))));
    const ml = '/api/2.0/mlflow';
    const run = (await c.post(`${ml}/runs/create`, { experiment_id: '0' })).run.info;
    const walk = (d, rel = '') => readdirSync(join(d, rel), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(d, join(rel, e.name)) : [join(rel, e.name)]));
    for (const f of walk(join(dir, 'mlp'))) {
      await c.put(`/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts/mlp/${f}`, readFileSync(join(dir, 'mlp', f)));
    }
    rmSync(dir, { recursive: true, force: true });
    await c.post(`${ml}/registered-models/create`, { name: 'scorer' });
    await c.post(`${ml}/model-versions/create`, { name: 'scorer', source: `runs:/${run.run_id}/mlp` });
    await c.post(`${ml}/registered-models/alias`, { name: 'scorer', alias: 'production', version: '1' });
    await c.post('/api/2.0/tamga/deployments', { name: 'scorer-local', model_name: 'scorer', target: 'local' });
    await eventually(async () => (await fetch(`${server.url}/v2/models/scorer-local/ready`)).status === 200, 'deployment ready', 60000);
    const infer = () => fetch(`${server.url}/v2/models/scorer-local/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [2, 16], data: Array(32).fill(0.5) }] }) });
    for (let i = 0; i < 20; i++) check((await infer()).status === 200, 'inference answers');
    await page.goto(`${server.url}/#/serving`);
    const row = await eventually(async () => {
      const cells = await page.$$eval('[data-testid=deployments] tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      const r = cells.find((c) => c[0] === 'scorer-local');
      return r && r[5].includes('ready') && r[7].endsWith('ms') ? r : null;
    }, 'the local deployment row with readiness and latency', 15000);
    check(row[4] === 'v1', 'answering version v1: ' + row);
    check(row[9] === '0', 'no errors: ' + row);
    // QPS comes from two readings of /metrics 5 s apart, with traffic in between.
    const t = setInterval(() => { infer().catch(() => {}); }, 100);
    try {
      await eventually(async () => {
        const cells = await page.$$eval('[data-testid=deployments] tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
        const r = cells.find((c) => c[0] === 'scorer-local');
        return r && Number(r[6]) > 0;
      }, 'a request rate', 30000);
    } finally { clearInterval(t); }
    await shot('serving');
  });

  await step('serving: a progressive rollout on the deployment page — variants, stage, decisions, promote by hand', async () => {
    const ml = '/api/2.0/mlflow';
    const v1 = (await c.get(`${ml}/model-versions/get?name=scorer&version=1`)).model_version;
    await c.post(`${ml}/model-versions/create`, { name: 'scorer', source: v1.source });
    await c.post(`${ml}/registered-models/alias`, { name: 'scorer', alias: 'ro', version: '1' });
    await c.post('/api/2.0/tamga/deployments', { name: 'scorer-ro', model_name: 'scorer', alias: 'ro', target: 'local',
      rollout: { steps: [{ weight: 20, min_seconds: 3600, min_requests: 1 }] } });
    await eventually(async () => (await fetch(`${server.url}/v2/models/scorer-ro/ready`)).status === 200, 'rollout deployment ready', 60000);
    await c.post(`${ml}/registered-models/alias`, { name: 'scorer', alias: 'ro', version: '2' });
    await page.goto(`${server.url}/#/serving/scorer-ro`);
    await eventually(async () => (await page.textContent('[data-testid=rollout-state]').catch(() => '')) === 'rolling_out', 'rolling out', 30000);
    const shares = await eventually(async () => {
      const rows = await page.$$eval('[data-testid=variants] tbody tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      return rows.length === 2 && rows.every((r) => r[3] === 'available') ? rows : null;
    }, 'both versions serving', 30000);
    check(JSON.stringify(shares.map((r) => [r[1], r[2]])) === JSON.stringify([['v1', '80%'], ['v2', '20%']]), 'shares: ' + JSON.stringify(shares));
    check((await page.textContent('[data-testid=rollout]')).includes('v2: step 1 of 1 (20%)'), 'stage shown');
    await shot('rollout');
    await page.click('[data-testid=rollout] button[data-action=promote]');
    await eventually(async () => (await page.textContent('[data-testid=rollout-state]')) === 'stable', 'promoted', 15000);
    check((await page.textContent('[data-testid=rollout-history]')).includes('promoted v2'), 'decision listed');
    check((await page.textContent('[data-testid=rollout]')).includes('v2'), 'stable v2');
    // The decision is on the version, in the registry's versions table.
    await page.goto(`${server.url}/#/models/scorer`);
    const cell = await eventually(async () => {
      const cells = await page.$$eval('[data-testid=versions] tbody tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      const r = cells.find((c) => c[0] === 'v2');
      return r && r[5].includes('promoted') ? r[5] : null;
    }, 'rollout status on version 2', 15000);
    check(cell.includes('promoted by hand'), 'the reason shown: ' + cell);
  });

  await step('serving: outliers and drift on the deployment page; a snoozed deployment in the list', async () => {
    // Reference statistics come with a reference-score test: 2,000 rows of N(0, 1), expected scores from the model.
    let seed = 7;
    const gauss = () => { // Box-Muller on a small LCG: the same rows every run
      const u = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed + 1) / 2147483649; };
      return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    };
    const rows = (n, shift) => Array.from({ length: n }, () => Array.from({ length: 16 }, (_, j) => gauss() + (j === 3 ? shift : 0)));
    const ref = rows(2000, 0);
    const score = async (xs) => (await (await fetch(`${server.url}/v2/models/scorer-local/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [xs.length, 16], data: xs.flat() }] }) })).json()).outputs[0].data;
    const y = await score(ref);
    const header = Array.from({ length: 16 }, (_, j) => 'f' + j).join(',');
    const inputs = [header, ...ref.map((r) => r.join(','))].join('\n') + '\n';
    const expected = ['y0,y1,y2,y3', ...ref.map((_, i) => y.slice(4 * i, 4 * i + 4).join(','))].join('\n') + '\n';
    const t = await c.post('/api/2.0/tamga/model-versions/reference-test', { name: 'scorer', version: '1', inputs, expected, atol: 1e-4, rtol: 1e-3 });
    check(t.status === 'passed', 'reference test passed: ' + JSON.stringify(t).slice(0, 300));
    await c.post(`/api/2.0/mlflow/registered-models/alias`, { name: 'scorer', alias: 'mon', version: '1' });
    await c.post('/api/2.0/tamga/deployments', { name: 'scorer-mon', model_name: 'scorer', alias: 'mon', target: 'local',
      monitoring: { drift: { window_rows: 1000 } } });
    await eventually(async () => (await fetch(`${server.url}/v2/models/scorer-mon/ready`)).status === 200, 'monitored deployment ready', 60000);
    // 1,000 rows with feature f3 shifted by 1.5 standard deviations: one drifted window, in f3.
    const shifted = rows(1000, 1.5);
    const r = await fetch(`${server.url}/v2/models/scorer-mon/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1000, 16], data: shifted.flat() }] }) });
    check(r.status === 200 && r.headers.get('tamga-outliers') !== null, 'outlier header on a monitored answer');
    await page.goto(`${server.url}/#/serving/scorer-mon`);
    await eventually(async () => (await page.textContent('[data-testid=drift-windows]').catch(() => '')) === '1 drifted of 1', 'a drifted window shown', 30000);
    const drifted = await page.$$eval('[data-testid=drift-features] tr.drifted td:first-child', (tds) => tds.map((td) => td.textContent));
    check(JSON.stringify(drifted) === '["f3"]', 'the drifted feature: ' + JSON.stringify(drifted));
    await shot('monitoring');
    // A deployment idle for a second sleeps; the list says so (not "not ready").
    await c.post('/api/2.0/tamga/deployments', { name: 'scorer-sleepy', model_name: 'scorer', target: 'local', snooze: { idle_seconds: 1 } });
    await eventually(async () => {
      const j = await (await fetch(`${server.url}/v2/health/ready`)).json();
      return (j.models || []).some((m) => m.name === 'scorer-sleepy' && m.state === 'snoozed');
    }, 'snoozed', 60000);
    await page.goto(`${server.url}/#/serving`);
    await eventually(async () => {
      const cells = await page.$$eval('[data-testid=deployments] tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      const row = cells.find((x) => x[0] === 'scorer-sleepy');
      return row && row[5] === 'snoozed';
    }, 'the snoozed badge', 15000);
  });

  await step('data: datasets, versions with tags, a version\'s files, the diff, the runs that used it', async () => {
    await page.goto(server.url + '/#/data');
    await page.waitForSelector('[data-testid=datasets] a');
    check((await page.$$eval('[data-testid=datasets] tbody a', (as) => as.map((a) => a.textContent))).includes('e2e-data'), 'dataset listed');
    await page.click('[data-testid=datasets] a:has-text("e2e-data")');
    await page.waitForSelector('[data-testid=dataset-versions] tbody tr');
    const rows = await page.$$eval('[data-testid=dataset-versions] tbody tr', (trs) => trs.map((tr) => tr.textContent));
    check(rows.length === 2 && rows[0].includes('v2') && rows[1].includes('@gold') && rows[1].includes('"rows":20'), `versions: ${rows}`);
    await shot('dataset');
    await page.click('[data-tab=files]');
    await page.waitForSelector('[data-testid=dataset-files] tbody tr');
    const files = await page.$$eval('[data-testid=dataset-files] tbody a', (as) => as.map((a) => a.textContent));
    check(files.join() === 'test/c.csv,train/a.csv,train/b.csv', `files of v2: ${files}`);
    await page.click('[data-tab=diff]');
    await page.waitForSelector('[data-testid=diff-summary]');
    const summary = await page.textContent('[data-testid=diff-summary]');
    check(summary.includes('v1 → v2') && summary.includes('1 added') && summary.includes('1 modified') && summary.includes('1 unchanged'), summary);
    await page.click('[data-tab=uses]');
    await page.selectOption('select[aria-label=Version]', '1');
    await page.waitForSelector('[data-testid=dataset-runs] tbody tr');
    check((await page.textContent('[data-testid=dataset-runs]')).includes('training'), 'the run that used v1');
    await shot('dataset-uses');
  });

  await step('charts page renders', async () => {
    await page.goto(`${server.url}/#/charts?runs=${s.runs.slice(0, 8).map((r) => r.run_id).join(',')}&keys=loss,acc`);
    await page.waitForSelector('[data-testid="chart-acc"] canvas');
    await shot('charts');
  });

  check(errors.length === 0, 'no page errors: ' + errors.join(' | '));
} catch (e) {
  failed = true;
  console.error('FAIL:', e.stack || e.message);
  if (page && out) await page.screenshot({ path: join(out, 'FAILED.png') }).catch(() => {});
  if (page) console.error('page text:', (await page.textContent('body').catch(() => '')).slice(0, 1500));
  console.error('server log tail:', server.stderr().slice(-3000));
} finally {
  await browser.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
