// A line chart of many series on canvas (uPlot in its faceted mode: each series keeps its own x values, so
// 100 runs sampled at different steps are never joined into one huge table). Drag to zoom: onZoom(x0, x1)
// lets the page re-fetch that range at full resolution; double-click resets. Hover shows each series'
// nearest value. The drawn data is kept on the element (el.__chartData) for tests to read back.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../lib/html.js';
import { fmtNum, fmtTime, fmtDuration } from '../lib/format.js';

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354',
  '#756bb1', '#636363'];

const linearPath = uPlot.paths.linear();
const dotsPath = uPlot.paths.points();
function lineAndDots(u, i, i0, i1) {
  const line = linearPath(u, i, i0, i1);
  const dots = dotsPath(u, i, i0, i1);
  return { ...line, fill: dots.fill };
}

// Index of the x nearest to v in ascending xs.
export function nearest(xs, v) {
  let lo = 0;
  let hi = xs.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1; else hi = mid;
  }
  if (lo > 0 && Math.abs(xs[lo - 1] - v) <= Math.abs(xs[lo] - v)) return lo - 1;
  return lo;
}

function fmtX(axis, v) {
  if (axis === 'time') return fmtTime(v);
  if (axis === 'relative') return fmtDuration(v);
  return fmtNum(v);
}

export function Chart({ title, series, xAxis = 'step', logY = false, height = 260, onZoom, onReset, testId }) {
  const box = useRef(null);
  const legend = useRef(null);
  const plot = useRef(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const shown = series.filter((s) => s.x.length > 0);
    el.__chartData = { series: [] };
    if (shown.length === 0) return undefined; // uPlot's faceted mode needs at least one series
    const data = [null, ...shown.map((s) => [s.x, logY ? s.y.map((v) => (v > 0 ? v : null)) : s.y])];
    const opts = {
      mode: 2,
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: {
        // A single x (or y) value would give uPlot an empty range: widen it.
        x: { time: false, auto: true, range: (u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
        y: logY
          ? { distr: 3, auto: true, range: (u, min, max) => (min === max ? [min / 2, max * 2] : uPlot.rangeLog(min, max, 10, true)) }
          : { auto: true, range: (u, min, max) => {
            if (min === max) { const d = Math.abs(min) * 0.1 || 1; return [min - d, max + d]; }
            const pad = (max - min) * 0.05;
            return [min - pad, max + pad];
          } },
      },
      axes: [
        // Wall-clock labels are long: fewer ticks, so they never overlap.
        { values: (u, vals) => vals.map((v) => fmtX(xAxis, v)), size: 40, space: xAxis === 'time' ? 170 : xAxis === 'relative' ? 90 : 50 },
        { values: (u, vals) => vals.map((v) => fmtNum(v)), size: 60 },
      ],
      series: [{}, ...shown.map((s, i) => ({
        label: s.label,
        stroke: s.color || PALETTE[i % PALETTE.length],
        width: s.width || 1.5,
        // Dots on short series (a single point has no line). uPlot's own points do not draw in faceted mode,
        // so the line's path carries them as its fill.
        points: { show: false, size: 6, width: 0 },
        fill: s.x.length < 60 ? (s.color || PALETTE[i % PALETTE.length]) : undefined,
        facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
        paths: s.x.length < 60 ? lineAndDots : linearPath,
      }))],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const x0 = u.posToVal(u.select.left, 'x');
          const x1 = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          if (onZoom) onZoom(x0, x1); else u.setScale('x', { min: x0, max: x1 });
        }],
        setCursor: [(u) => {
          const lg = legend.current;
          if (!lg) return;
          const left = u.cursor.left;
          if (left === undefined || left < 0) { lg.textContent = ''; return; }
          const xv = u.posToVal(left, 'x');
          const rows = [];
          shown.forEach((s, i) => {
            const k = nearest(s.x, xv);
            if (k >= 0) rows.push([s.label, s.x[k], s.y[k], s.color || PALETTE[i % PALETTE.length]]);
          });
          lg.replaceChildren(...rows.slice(0, 12).map(([label, x, y, color]) => {
            const d = document.createElement('div');
            d.innerHTML = '<i></i><span></span>';
            d.firstChild.style.background = color;
            d.lastChild.textContent = `${label}: ${fmtNum(y)} @ ${fmtX(xAxis, x)}`;
            return d;
          }));
        }],
      },
    };
    const t0 = performance.now();
    const u = new uPlot(opts, data, el);
    plot.current = u;
    el.__chartData = { series: shown.map((s) => ({ label: s.label, x: s.x, y: s.y })), drawMs: performance.now() - t0 };
    el.dataset.points = String(shown.reduce((n, s) => n + s.x.length, 0));
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, [series, xAxis, logY, height]);

  return html`<div class="chart" data-testid=${testId}>
    ${title ? html`<div class="chart-title">${title}</div>` : null}
    <div class="chart-plot" ref=${box} onDblClick=${() => onReset && onReset()}></div>
    <div class="chart-legend" ref=${legend}></div>
  </div>`;
}

// A tiny line (run page metric list): drawn straight on a canvas, no axes.
export function Sparkline({ x, y, width = 120, height = 28 }) {
  const c = useRef(null);
  useEffect(() => {
    const el = c.current;
    if (!el || !y || y.length === 0) return;
    const dpr = window.devicePixelRatio || 1;
    el.width = width * dpr;
    el.height = height * dpr;
    const g = el.getContext('2d');
    g.scale(dpr, dpr);
    const xs = x;
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const v of y) { if (v < y0) y0 = v; if (v > y1) y1 = v; }
    const sx = (v) => (x1 === x0 ? width / 2 : ((v - x0) / (x1 - x0)) * (width - 2) + 1);
    const sy = (v) => (y1 === y0 ? height / 2 : height - 2 - ((v - y0) / (y1 - y0)) * (height - 4));
    g.strokeStyle = '#1f77b4';
    g.lineWidth = 1.2;
    g.beginPath();
    for (let i = 0; i < y.length; i++) {
      if (i === 0) g.moveTo(sx(xs[i]), sy(y[i])); else g.lineTo(sx(xs[i]), sy(y[i]));
    }
    g.stroke();
  }, [x, y, width, height]);
  return html`<canvas class="spark" ref=${c} style=${`width:${width}px;height:${height}px`}></canvas>`;
}
