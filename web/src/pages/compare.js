// Compare runs (#/compare?runs=a,b,...&keys=...&px=&py=&axes=): params side by side with differing rows
// highlighted, latest metrics, overlaid metric charts, parallel coordinates and a scatter of any two columns.
// Built for 100+ runs: tables are plain rows, charts are canvas.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../lib/html.js';
import { decodeList, encodeList, href, setQuery } from '../lib/route.js';
import { fmtNum } from '../lib/format.js';
import { PALETTE } from '../components/chart.js';
import { ErrorBox, Loading } from '../components/common.js';
import { MetricChartPanel, useRuns } from './charts.js';
import { axisScale, compareColumns, differs } from '../lib/compare.js';

export function ComparePage({ route }) {
  const runIds = decodeList(route.query.runs);
  const runs = useRuns(runIds);
  if (runIds.length < 2) return html`<div class="page"><h1>Compare runs</h1><p>Select two or more runs in a runs table and press Compare.</p></div>`;
  if (runs.error) return html`<div class="page"><${ErrorBox} error=${runs.error} /></div>`;
  if (!runs.data) return html`<div class="page"><${Loading} /></div>`;
  const list = runs.data;
  const { params, metrics, paramRows, metricRows } = compareColumns(list);
  const onlyDiff = route.query.all !== '1';
  const shownParams = params.filter((k) => !onlyDiff || differs(paramRows[k]));
  const keys = route.query.keys ? decodeList(route.query.keys) : metrics.slice(0, 4);
  const numericCols = [...params.map((k) => ({ id: 'p:' + k, label: k, values: paramRows[k] })),
    ...metrics.map((k) => ({ id: 'm:' + k, label: k, values: metricRows[k] }))];
  const axes = route.query.axes ? decodeList(route.query.axes)
    : [...shownParams.slice(0, 5).map((k) => 'p:' + k), ...metrics.slice(0, 2).map((k) => 'm:' + k)];
  const px = route.query.px || axes[0];
  const py = route.query.py || ('m:' + (metrics[0] || '')) ;
  const labels = list.map((r) => r.info.run_name || r.info.run_id.slice(0, 8));
  const colors = list.map((_, i) => PALETTE[i % PALETTE.length]);
  const head = html`<tr><th></th>${list.map((r, i) => html`<th class="run-col"><i class="dot" style=${`background:${colors[i]}`}></i>
    <a href=${href(['runs', r.info.run_id])}>${labels[i]}</a></th>`)}</tr>`;
  return html`<div class="page">
    <div class="page-head"><h1>Compare ${list.length} runs</h1>
      <a href=${href(['charts'], { runs: runIds.join(',') })}>Charts only</a></div>
    <h2>Parameters <label class="check small"><input type="checkbox" checked=${onlyDiff} onChange=${(e) => setQuery({ all: e.target.checked ? '' : '1' })} />
      only those that differ (${shownParams.length} of ${params.length})</label></h2>
    <div class="wide"><table class="grid compact compare" data-testid="param-diff"><thead>${head}</thead>
      <tbody>${shownParams.map((k) => html`<tr class=${differs(paramRows[k]) ? 'diff' : ''} data-key=${k}><th>${k}</th>
        ${paramRows[k].map((v) => html`<td class=${v === undefined ? 'missing' : ''}>${v ?? '—'}</td>`)}</tr>`)}</tbody></table></div>
    <h2>Metrics (latest)</h2>
    <div class="wide"><table class="grid compact compare" data-testid="metric-diff"><thead>${head}</thead>
      <tbody>${metrics.map((k) => html`<tr><th><label class="check"><input type="checkbox" checked=${keys.includes(k)}
        onChange=${() => setQuery({ keys: encodeList(keys.includes(k) ? keys.filter((x) => x !== k) : [...keys, k]) })} />${k}</label></th>
        ${metricRows[k].map((v) => html`<td class="num">${v === undefined ? '—' : fmtNum(v)}</td>`)}</tr>`)}</tbody></table></div>
    <h2>Charts</h2>
    <${MetricChartPanel} runs=${list.map((r, i) => ({ run_id: r.info.run_id, label: labels[i], status: r.info.status }))}
      keys=${keys} query=${route.query} compact=${true} />
    <h2>Parallel coordinates</h2>
    <div class="axis-picker">${numericCols.map((c) => html`<label class="chip-check"><input type="checkbox" checked=${axes.includes(c.id)}
      onChange=${() => setQuery({ axes: encodeList(axes.includes(c.id) ? axes.filter((a) => a !== c.id) : [...axes, c.id]) })} />${c.label}</label>`)}</div>
    <${ParallelCoords} cols=${axes.map((id) => numericCols.find((c) => c.id === id)).filter(Boolean)} colors=${colors} labels=${labels} />
    <h2>Scatter</h2>
    <div class="chart-controls">
      <label>X <select value=${px} onChange=${(e) => setQuery({ px: e.target.value })} aria-label="Scatter X">${numericCols.map((c) => html`<option value=${c.id}>${c.label}</option>`)}</select></label>
      <label>Y <select value=${py} onChange=${(e) => setQuery({ py: e.target.value })} aria-label="Scatter Y">${numericCols.map((c) => html`<option value=${c.id}>${c.label}</option>`)}</select></label>
    </div>
    <${Scatter} x=${numericCols.find((c) => c.id === px)} y=${numericCols.find((c) => c.id === py)} colors=${colors} labels=${labels} />
  </div>`;
}

function useCanvas(draw, deps, height) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const w = el.parentElement.clientWidth || 800;
    const dpr = window.devicePixelRatio || 1;
    el.width = w * dpr;
    el.height = height * dpr;
    el.style.width = w + 'px';
    el.style.height = height + 'px';
    const g = el.getContext('2d');
    g.scale(dpr, dpr);
    g.font = '11px system-ui, sans-serif';
    draw(g, w, height);
  }, deps);
  return ref;
}

function ParallelCoords({ cols, colors, labels }) {
  const height = 320;
  const ref = useCanvas((g, w, h) => {
    if (cols.length < 2) { g.fillText('Pick two or more columns.', 10, 20); return; }
    const top = 24;
    const bottom = h - 28;
    const left = 60;
    const step = (w - left - 60) / (cols.length - 1);
    const scales = cols.map((c) => axisScale(c.values));
    for (let r = 0; r < labels.length; r++) {
      g.strokeStyle = colors[r] + 'aa';
      g.lineWidth = 1.2;
      g.beginPath();
      let started = false;
      cols.forEach((c, a) => {
        const t = scales[a].pos(c.values[r]);
        if (t === null) { started = false; return; }
        const x = left + a * step;
        const y = bottom - t * (bottom - top);
        if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
      });
      g.stroke();
    }
    g.fillStyle = '#222';
    g.strokeStyle = '#555';
    cols.forEach((c, a) => {
      const x = left + a * step;
      g.beginPath(); g.moveTo(x, top); g.lineTo(x, bottom); g.stroke();
      g.textAlign = 'center';
      g.fillText(c.label.slice(0, 24), x, h - 10);
      g.fillText(scales[a].label(1), x, top - 8);
      g.fillText(scales[a].label(0), x, bottom + 12);
    });
  }, [cols, colors], height);
  return html`<div class="canvas-box"><canvas ref=${ref} data-testid="parallel-coords"></canvas></div>`;
}

function Scatter({ x, y, colors, labels }) {
  const height = 320;
  const ref = useCanvas((g, w, h) => {
    if (!x || !y) return;
    const sx = axisScale(x.values);
    const sy = axisScale(y.values);
    const l = 70;
    const b = h - 30;
    g.strokeStyle = '#999';
    g.strokeRect(l, 10, w - l - 20, b - 10);
    g.fillStyle = '#222';
    g.fillText(sx.label(0), l, h - 12);
    g.textAlign = 'right';
    g.fillText(sx.label(1), w - 20, h - 12);
    g.fillText(sy.label(1), l - 6, 20);
    g.fillText(sy.label(0), l - 6, b);
    g.textAlign = 'center';
    g.fillText(`${x.label} →`, (w + l) / 2, h - 12);
    for (let r = 0; r < labels.length; r++) {
      const tx = sx.pos(x.values[r]);
      const ty = sy.pos(y.values[r]);
      if (tx === null || ty === null) continue;
      g.fillStyle = colors[r];
      g.beginPath();
      g.arc(l + 6 + tx * (w - l - 32), b - 6 - ty * (b - 22), 4, 0, Math.PI * 2);
      g.fill();
    }
  }, [x, y, colors], height);
  return html`<div class="canvas-box"><canvas ref=${ref} data-testid="scatter"></canvas></div>`;
}
