// Charts (#/charts?runs=a,b&keys=loss,acc&x=step|relative|time&smooth=0.6&log=1&x0=&x1=): many runs and
// metrics overlaid, histories downsampled on the server (M4: every extreme exact), zoom by dragging (the
// range is re-fetched at full detail and kept in the URL), double-click to reset, live runs refreshed.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow, tamga } from '../lib/api.js';
import { decodeList, encodeList, href, setQuery } from '../lib/route.js';
import { smooth } from '../lib/downsample.js';
import { Chart, PALETTE } from '../components/chart.js';
import { ErrorBox, Loading, useAsync } from '../components/common.js';

const LIVE_POLL_MS = 3000; // retry delay after a failed wait
const POINT_BUDGET = 200000; // per request, over all series

// Points per series so one request stays within the budget: 2000 for a few series, fewer for many.
export function pointsPerSeries(seriesCount, width = 2000) {
  return Math.max(100, Math.min(width, Math.floor(POINT_BUDGET / Math.max(1, seriesCount))));
}

export async function fetchSampled(runIds, keys, opts) {
  const perRequest = Math.max(1, Math.floor(2000 / Math.max(1, keys.length)));
  const points = pointsPerSeries(runIds.length * keys.length);
  const out = [];
  let seq = 0;
  for (let i = 0; i < runIds.length; i += perRequest) {
    const res = await api(tamga('metrics/sampled'), { query: {
      run_id: runIds.slice(i, i + perRequest), key: keys, points, x: opts.x || 'step', x_min: opts.x0, x_max: opts.x1 } });
    out.push(...res.series);
    seq = Math.max(seq, res.change_seq || 0);
  }
  out.changeSeq = seq;
  return out;
}

// Waits (long-poll, up to 25 s) until one of the running runs logs metrics or changes status after `seq`.
export async function waitForChange(runIds, key, seq, signal) {
  const res = await api(tamga('metrics/sampled'), { query: { run_id: runIds, key, points: 4, after: seq, wait_ms: 25000 }, signal });
  return res;
}

// Loads runs (name, start, status, metric keys, params) by id, in parallel.
export function useRuns(runIds) {
  return useAsync(() => Promise.all(runIds.map((id) => api(mlflow('runs/get'), { query: { run_id: id } }).then((r) => r.run))), [runIds.join(',')]);
}

export function MetricChartPanel({ runs, keys, query, compact = false }) {
  const x = query.x || 'step';
  const weight = Number(query.smooth || 0);
  const logY = query.log === '1';
  const x0 = query.x0 !== undefined && query.x0 !== '' ? Number(query.x0) : undefined;
  const x1 = query.x1 !== undefined && query.x1 !== '' ? Number(query.x1) : undefined;
  const runIds = runs.map((r) => r.run_id);
  const [tick, setTick] = useState(0);
  const data = useAsync(() => fetchSampled(runIds, keys, { x, x0, x1 }), [runIds.join(','), keys.join(','), x, x0, x1, tick]);
  // Live runs: a long-poll that the server answers when one of them logs (docs/ui.md, "Live charts"); each
  // answer re-reads the charts. The status the answers carry ends the loop when every run has finished.
  const seriesStatus = new Map((data.data || []).map((s) => [s.run_id, s.run_status]));
  const running = runs.filter((r) => (seriesStatus.get(r.run_id) || r.status) === 'RUNNING').map((r) => r.run_id);
  const live = running.length > 0;
  const changeSeq = data.data?.changeSeq;
  useEffect(() => {
    if (!live || changeSeq === undefined || keys.length === 0) return undefined;
    const ctl = new AbortController();
    waitForChange(running, keys[0], changeSeq, ctl.signal).then(
      () => setTick((n) => n + 1),
      (e) => { if (e.name !== 'AbortError') setTimeout(() => setTick((n) => n + 1), LIVE_POLL_MS); });
    return () => ctl.abort();
  }, [live, changeSeq, running.join(','), keys[0]]);

  const byKey = useMemo(() => {
    const m = new Map(keys.map((k) => [k, []]));
    const color = new Map(runs.map((r, i) => [r.run_id, PALETTE[i % PALETTE.length]]));
    const label = new Map(runs.map((r) => [r.run_id, r.label]));
    for (const s of data.data || []) {
      const list = m.get(s.key);
      if (!list) continue;
      const c = color.get(s.run_id);
      const base = { label: label.get(s.run_id) || s.run_id, x: s.x, color: c, run_id: s.run_id, total: s.total_points, sampled: s.sampled };
      if (weight > 0) {
        list.push({ ...base, label: base.label + ' (raw)', y: s.y, color: c + '44', width: 1 });
        list.push({ ...base, y: smooth(s.y, weight), width: 2 });
      } else list.push({ ...base, y: s.y });
    }
    return m;
  }, [data.data, weight, runs]);

  return html`<div class="chart-panel">
    <div class="chart-controls">
      <label>X axis <select value=${x} onChange=${(e) => setQuery({ x: e.target.value === 'step' ? '' : e.target.value, x0: '', x1: '' })} aria-label="X axis">
        <option value="step">Step</option><option value="relative">Relative time</option><option value="time">Wall time</option></select></label>
      <label>Smoothing <input type="range" min="0" max="0.99" step="0.01" value=${weight}
        onInput=${(e) => setQuery({ smooth: Number(e.target.value) > 0 ? e.target.value : '' }, { replace: true })} aria-label="Smoothing" /> ${weight.toFixed(2)}</label>
      <label class="check"><input type="checkbox" checked=${logY} onChange=${(e) => setQuery({ log: e.target.checked ? '1' : '' })} /> Log scale</label>
      ${x0 !== undefined ? html`<button onClick=${() => setQuery({ x0: '', x1: '' })} data-action="reset-zoom">Reset zoom</button>` : null}
      ${live ? html`<span class="badge st-running">live</span>` : null}
      <span class="muted">Drag to zoom; double-click to reset.</span>
    </div>
    <${ErrorBox} error=${data.error} />
    ${!data.data && data.loading ? html`<${Loading} />` : null}
    <div class=${compact ? 'chart-grid' : 'chart-list'}>
      ${keys.map((k) => {
        const series = byKey.get(k) || [];
        const total = series.reduce((n, s) => n + (s.label.endsWith('(raw)') ? 0 : s.total || 0), 0);
        const shown = series.reduce((n, s) => n + (s.label.endsWith('(raw)') ? 0 : s.x.length), 0);
        return html`<${Chart} key=${k + x + logY} testId=${'chart-' + k} xAxis=${x} logY=${logY} series=${series}
          height=${compact ? 220 : 300}
          title=${html`${k} <span class="muted">${shown < total ? `${shown.toLocaleString()} of ${total.toLocaleString()} points (min/max kept)` : `${total.toLocaleString()} points`}</span>`}
          onZoom=${(a, b) => setQuery({ x0: String(Math.floor(a)), x1: String(Math.ceil(b)) }, { replace: false })}
          onReset=${() => setQuery({ x0: '', x1: '' })} />`;
      })}
    </div>
  </div>`;
}

export function ChartsPage({ route }) {
  const runIds = decodeList(route.query.runs);
  const runs = useRuns(runIds);
  const allKeys = [...new Set((runs.data || []).flatMap((r) => (r.data.metrics || []).map((m) => m.key)))].sort();
  const keys = route.query.keys ? decodeList(route.query.keys) : allKeys.slice(0, 6);
  if (runIds.length === 0) {
    return html`<div class="page"><h1>Charts</h1><p>Select runs in an <a href="#/experiments">experiment's runs table</a> and press Chart.</p></div>`;
  }
  const flip = (k) => setQuery({ keys: encodeList(keys.includes(k) ? keys.filter((x) => x !== k) : [...keys, k]) });
  return html`<div class="page">
    <div class="page-head"><h1>Charts</h1><span class="muted">${runIds.length} run(s)</span>
      ${runIds.length > 1 ? html`<a href=${href(['compare'], { runs: runIds.join(',') })}>Compare these runs</a>` : null}</div>
    <${ErrorBox} error=${runs.error} />
    <div class="key-picker">${allKeys.map((k) => html`<label class="chip-check"><input type="checkbox" checked=${keys.includes(k)} onChange=${() => flip(k)} />${k}</label>`)}</div>
    <div class="run-legend">${(runs.data || []).map((r, i) => html`<a href=${href(['runs', r.info.run_id])}>
      <i style=${`background:${PALETTE[i % PALETTE.length]}`}></i>${r.info.run_name || r.info.run_id.slice(0, 8)}</a>`)}</div>
    ${runs.error ? null : runs.data ? html`<${MetricChartPanel} runs=${runs.data.map((r) => ({ run_id: r.info.run_id, label: r.info.run_name || r.info.run_id.slice(0, 8), status: r.info.status }))}
      keys=${keys} query=${route.query} compact=${keys.length > 2} />` : html`<${Loading} />`}
  </div>`;
}
