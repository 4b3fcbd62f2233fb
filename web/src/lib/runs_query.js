// The runs table's query: URL state <-> the body of POST /api/2.0/tamga/runs/table, default columns, and the
// mapping between table rows and expanded child runs. Pure functions (unit-tested in web/test/).
import { decodeList, encodeList } from './route.js';
import { formatColumn, parseColumn } from './filter.js';

export const ATTRIBUTE_SORTS = new Set(['start_time', 'end_time', 'run_name', 'status', 'user_id']);
export const TOP_LEVEL_FILTER = 'tags.mlflow.parentRunId IS NULL';

export function runsStateFromQuery(query) {
  const cols = decodeList(query.cols).map(parseColumn).filter(Boolean);
  const sort = query.sort ? parseColumn(query.sort) : null;
  return {
    filter: query.filter || '',
    view: query.view || 'active',
    cols,
    colsSet: query.cols !== undefined,
    sort: sort || { kind: 'attribute', key: 'start_time' },
    desc: query.sort ? query.desc === '1' : true,
    nested: query.nested === '1',
  };
}

export function runsStateToQuery(s) {
  const defaultSort = s.sort.kind === 'attribute' && s.sort.key === 'start_time' && s.desc;
  return {
    filter: s.filter || '',
    view: s.view === 'active' ? '' : s.view,
    cols: s.colsSet ? encodeList(s.cols.map(formatColumn)) : '',
    sort: defaultSort ? '' : formatColumn(s.sort),
    desc: defaultSort ? '' : (s.desc ? '1' : ''),
    nested: s.nested ? '1' : '',
  };
}

const VIEW = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };

export function tableRequest(experimentIds, s, offset, limit) {
  let filter = s.filter.trim();
  if (s.nested) filter = filter ? `${filter} AND ${TOP_LEVEL_FILTER}` : TOP_LEVEL_FILTER;
  return {
    experiment_ids: experimentIds,
    filter,
    run_view_type: VIEW[s.view] || 'ACTIVE_ONLY',
    order_by: [{ kind: s.sort.kind, key: s.sort.key, agg: s.sort.agg || 'last', desc: !!s.desc }],
    columns: s.cols.map((c) => ({ kind: c.kind, key: c.key, agg: c.agg || 'last' })),
    offset,
    max_results: limit,
    count: offset === 0,
  };
}

// Up to 6 metrics (last) and 6 params when the URL names no columns.
export function defaultColumns(keys) {
  return [
    ...(keys.metrics || []).slice(0, 6).map((key) => ({ kind: 'metric', key, agg: 'last' })),
    ...(keys.params || []).slice(0, 6).map((key) => ({ kind: 'param', key })),
  ];
}

// Child rows shown under expanded parents: expansions = [{index, rows}] sorted by index (the parent's row
// index in the server's order). Maps a display index to {row index} or {parent index, child k}.
export function displayCount(total, expansions) {
  return total + expansions.reduce((n, e) => n + e.rows.length, 0);
}

export function locate(d, expansions) {
  let shift = 0;
  for (const e of expansions) {
    const parentDisplay = e.index + shift;
    if (d <= parentDisplay) return { index: d - shift };
    if (d <= parentDisplay + e.rows.length) return { child: e.rows[d - parentDisplay - 1], parent: e.index };
    shift += e.rows.length;
  }
  return { index: d - shift };
}

// CSV with a header; values quoted when they hold a comma, quote or newline.
export function toCsv(header, rows) {
  const q = (v) => {
    if (v === null || v === undefined) return '';
    let s = String(v);
    // A text cell starting like a formula is neutralised (a spreadsheet would run it): "'=cmd|…".
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !Number.isFinite(Number(s))) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n';
}
