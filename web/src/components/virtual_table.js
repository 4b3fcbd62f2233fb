// A table that renders only the rows and columns in view: 100k runs or 10k metric columns cost the same as
// a screenful. Rows have one fixed height; the first `pinned` columns stay in place when scrolling sideways.
// Data arrives through getRow(i) (undefined while a window is loading); onRange(first, last) asks for more.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';

const OVERSCAN_ROWS = 8;
const OVERSCAN_PX = 300;

export function visibleRange(scrollTop, viewHeight, rowHeight, rowCount) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN_ROWS);
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewHeight) / rowHeight) + OVERSCAN_ROWS);
  return [first, last];
}

// Column indexes whose span meets [left, right] (offsets: each column's x, ascending).
export function visibleColumns(offsets, widths, left, right, pinned) {
  const out = [];
  for (let i = pinned; i < offsets.length; i++) {
    if (offsets[i] + widths[i] < left) continue;
    if (offsets[i] > right) break;
    out.push(i);
  }
  return out;
}

export function VirtualTable({
  rowCount, rowHeight = 30, columns, getRow, onRange, sort, onSort, pinned = 1, rowClass, empty, testId,
}) {
  const box = useRef(null);
  const [view, setView] = useState({ top: 0, left: 0, width: 1200, height: 600 });
  const frame = useRef(0);

  const widths = columns.map((c) => c.width || 140);
  const offsets = [];
  let total = 0;
  for (const w of widths) { offsets.push(total); total += w; }
  const pinnedWidth = offsets[pinned] ?? total;

  const measure = () => {
    const el = box.current;
    if (!el) return;
    setView({ top: el.scrollTop, left: el.scrollLeft, width: el.clientWidth, height: el.clientHeight });
  };
  useLayoutEffect(() => {
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(box.current);
    return () => ro.disconnect();
  }, []);
  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => { frame.current = 0; measure(); });
  };

  const [first, last] = visibleRange(view.top, view.height - rowHeight, rowHeight, rowCount);
  useEffect(() => { if (rowCount > 0 && onRange) onRange(first, last); }, [first, last, rowCount, onRange]);

  const cols = [...Array(Math.min(pinned, columns.length)).keys(),
    ...visibleColumns(offsets, widths, view.left + pinnedWidth - OVERSCAN_PX, view.left + view.width + OVERSCAN_PX, pinned)];

  const cell = (ci, content, cls = '') => {
    const pin = ci < pinned;
    const style = pin
      ? `left:${offsets[ci]}px;width:${widths[ci]}px;position:sticky;z-index:1`
      : `left:${offsets[ci]}px;width:${widths[ci]}px;position:absolute`;
    return html`<div class=${`vt-cell ${pin ? 'pin' : ''} ${cls} ${columns[ci].className || ''}`} style=${style}
      key=${columns[ci].id}>${content}</div>`;
  };

  const header = html`<div class="vt-head" style=${`width:${total}px;height:${rowHeight}px`}>
    ${cols.map((ci) => {
      const c = columns[ci];
      const sorted = sort && sort.id === c.id;
      const arrow = sorted ? (sort.desc ? ' ▼' : ' ▲') : '';
      const click = c.sortable && onSort ? () => onSort(c) : undefined;
      return cell(ci, html`<span class=${click ? 'sortable' : ''} title=${c.tip || c.title} onClick=${click}
        data-col=${c.id}>${c.head ?? c.title}${arrow}</span>`, 'vt-th');
    })}
  </div>`;

  const rows = [];
  for (let i = first; i <= last; i++) {
    const row = getRow(i);
    const cls = row ? (rowClass ? rowClass(row, i) : '') : 'loading';
    rows.push(html`<div class=${`vt-row ${cls}`} key=${i} data-row=${i}
      style=${`top:${i * rowHeight}px;height:${rowHeight}px;width:${total}px`}>
      ${cols.map((ci) => cell(ci, row ? columns[ci].render(row, i) : (ci === 0 ? '…' : '')))}
    </div>`);
  }
  return html`<div class="vt" ref=${box} onScroll=${onScroll} data-testid=${testId}>
    ${header}
    <div class="vt-body" style=${`height:${rowCount * rowHeight}px;width:${total}px`}>${rows}</div>
    ${rowCount === 0 && empty ? html`<div class="vt-empty">${empty}</div>` : null}
  </div>`;
}

// Keeps windows of rows fetched from the server, by page of `pageSize`, for one query (`key`): a new key
// drops what was loaded. fetchPage(offset, limit) resolves to {rows, total}.
export class RowWindowCache {
  constructor(fetchPage, onChange, pageSize = 100) {
    this.fetchPage = fetchPage;
    this.onChange = onChange;
    this.pageSize = pageSize;
    this.reset();
  }

  reset() {
    this.generation = (this.generation || 0) + 1;
    this.pages = new Map();
    this.loading = new Set();
    this.total = null;
    this.error = null;
  }

  row(i) {
    const p = this.pages.get(Math.floor(i / this.pageSize));
    return p ? p[i % this.pageSize] : undefined;
  }

  async ensure(first, last) {
    const gen = this.generation;
    const from = Math.floor(first / this.pageSize);
    const to = Math.floor(last / this.pageSize);
    const jobs = [];
    for (let p = from; p <= to; p++) {
      if (this.pages.has(p) || this.loading.has(p)) continue;
      this.loading.add(p);
      jobs.push(this.fetchPage(p * this.pageSize, this.pageSize).then((res) => {
        if (gen !== this.generation) return;
        this.pages.set(p, res.rows);
        if (res.total !== undefined && res.total !== null) this.total = res.total;
        this.loading.delete(p);
        this.onChange();
      }, (e) => {
        if (gen !== this.generation) return;
        this.loading.delete(p);
        this.error = e;
        this.onChange();
      }));
    }
    await Promise.all(jobs);
  }
}
