// The runs table of one or several experiments (#/experiments/1,2/runs?filter=&sort=&desc=&cols=&view=):
// virtualized rows fetched 100 at a time from POST /api/2.0/tamga/runs/table, any param/tag/metric column
// with a metric's last, min or max, sort on any column (server-side), MLflow filter text plus right-click
// filters, saved views (experiment tags tamga.view.<name>), bulk tag/delete/restore, CSV export, child runs
// under their parents.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow, tamga } from '../lib/api.js';
import { href, navigate, setQuery } from '../lib/route.js';
import { fmtDuration, fmtNum, fmtTime, shortId } from '../lib/format.js';
import { addClause, clause, columnId, columnTitle, removeClause, splitClauses } from '../lib/filter.js';
import {
  defaultColumns, displayCount, locate, runsStateFromQuery, runsStateToQuery, tableRequest, toCsv,
} from '../lib/runs_query.js';
import { RowWindowCache, VirtualTable } from '../components/virtual_table.js';
import { ErrorBox, Modal, Status, useAsync } from '../components/common.js';
import { ColumnChooser } from './column_chooser.js';

export function RunsPage({ route }) {
  const experimentIds = route.parts[1].split(',').filter(Boolean);
  const state = runsStateFromQuery(route.query);
  const update = (patch) => setQuery(runsStateToQuery({ ...state, ...patch, colsSet: patch.cols ? true : state.colsSet }));

  const exps = useAsync(() => Promise.all(experimentIds.map((id) => api(mlflow('experiments/get'), { query: { experiment_id: id } })
    .then((r) => r.experiment))), [experimentIds.join(',')]);
  const keys = useAsync(() => api(tamga('runs/columns'), { query: { experiment_ids: experimentIds } }), [experimentIds.join(',')]);

  const cols = state.colsSet ? state.cols : (keys.data ? defaultColumns(keys.data) : []);
  const effective = { ...state, cols };
  const queryKey = JSON.stringify(tableRequest(experimentIds, effective, 0, 0));

  const [, bump] = useState(0);
  const rerender = useCallback(() => bump((n) => n + 1), []);
  const cache = useMemo(() => new RowWindowCache(
    (offset, limit) => api(tamga('runs/table'), { method: 'POST', body: tableRequest(experimentIds, effective, offset, limit) }),
    rerender, 100), [queryKey]);
  const [expansions, setExpansions] = useState([]);
  const [selected, setSelected] = useState(new Set());
  const [menu, setMenu] = useState(null);
  const [choosing, setChoosing] = useState(false);
  const [tagging, setTagging] = useState(false);
  const [actionError, setActionError] = useState(null);
  const [note, setNote] = useState(null);
  const [filterText, setFilterText] = useState(state.filter);
  const firstPaint = useRef(performance.now());

  useEffect(() => { setFilterText(state.filter); }, [state.filter]);
  useEffect(() => {
    setExpansions([]);
    firstPaint.current = performance.now();
    if (keys.data || state.colsSet) cache.ensure(0, 60);
  }, [cache, !!keys.data]);

  const total = cache.total ?? 0;
  const count = displayCount(total, expansions);
  const rowAt = (d) => {
    const loc = locate(d, expansions);
    if (loc.child) return { ...loc.child, _child: true };
    return cache.row(loc.index);
  };
  const onRange = useCallback((first, last) => {
    // display indexes are at least the row indexes they show: fetching up to `last` covers them
    cache.ensure(Math.max(0, first - expansions.reduce((n, e) => n + e.rows.length, 0)), last);
  }, [cache, expansions]);

  const toggleExpand = async (row, d) => {
    const loc = locate(d, expansions);
    if (loc.child) return;
    const at = expansions.findIndex((e) => e.index === loc.index);
    if (at >= 0) { setExpansions(expansions.filter((_, i) => i !== at)); return; }
    const res = await api(tamga('runs/table'), { method: 'POST', body: {
      ...tableRequest(experimentIds, { ...effective, nested: false, filter: `tags.mlflow.parentRunId = '${row.run_id}'` }, 0, 1000),
    } });
    if (res.rows.length === 0) { setNote(`${row.run_name || shortId(row.run_id)} has no child runs.`); return; }
    setNote(null);
    setExpansions([...expansions, { index: loc.index, rows: res.rows }].sort((a, b) => a.index - b.index));
  };

  const sortBy = (c) => {
    const s = c.sortSpec;
    const same = columnId(s) === columnId(state.sort);
    update({ sort: s, desc: same ? !state.desc : s.kind !== 'attribute' || s.key === 'start_time' });
  };
  const addFilter = (col, op, value) => {
    try {
      update({ filter: addClause(state.filter, clause(col, op, value)) });
    } catch (e) { setActionError(e); }
    setMenu(null);
  };

  const toggle = (id) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id); else s.add(id);
    setSelected(s);
  };
  const multi = experimentIds.length > 1;
  const columns = [
    { id: 'name', title: 'Run', width: 260, sortable: true, sortSpec: { kind: 'attribute', key: 'run_name' },
      render: (r, d) => html`<span class=${r._child ? 'child' : ''}>
        <input type="checkbox" checked=${selected.has(r.run_id)} onClick=${(e) => { e.stopPropagation(); toggle(r.run_id); }}
          aria-label=${'Select ' + (r.run_name || r.run_id)} />
        ${state.nested && !r._child ? html`<button class="caret" title="Show child runs"
          onClick=${() => toggleExpand(r, d)}>${expansions.some((e) => e.index === locate(d, expansions).index) ? '▾' : '▸'}</button>` : null}
        <a href=${href(['runs', r.run_id])} class="run-link">${r.run_name || shortId(r.run_id)}</a></span>` },
    { id: 'status', title: 'Status', width: 96, sortable: true, sortSpec: { kind: 'attribute', key: 'status' },
      render: (r) => html`<${Status} value=${r.status} />` },
    { id: 'start', title: 'Started', width: 168, sortable: true, sortSpec: { kind: 'attribute', key: 'start_time' },
      render: (r) => fmtTime(r.start_time) },
    { id: 'duration', title: 'Duration', width: 92,
      render: (r) => fmtDuration((r.end_time || (r.status === 'RUNNING' ? Date.now() : r.start_time)) - r.start_time) },
    { id: 'user', title: 'User', width: 110, sortable: true, sortSpec: { kind: 'attribute', key: 'user_id' }, render: (r) => r.user_id },
    ...(multi ? [{ id: 'exp', title: 'Experiment', width: 130,
      render: (r) => (exps.data || []).find((e) => e?.experiment_id === r.experiment_id)?.name || r.experiment_id }] : []),
    ...(state.nested ? [] : [{ id: 'parent', title: 'Parent', width: 90,
      render: (r) => (r.parent_run_id ? html`<a href=${href(['runs', r.parent_run_id])}>${shortId(r.parent_run_id)}</a>` : '') }]),
    ...cols.map((c, i) => ({
      id: columnId(c), title: columnTitle(c), width: c.kind === 'metric' ? 110 : 130, sortable: true, sortSpec: c,
      tip: `${c.kind} ${c.key}${c.agg && c.agg !== 'last' ? ' (' + c.agg + ')' : ''} — right-click a value to filter`,
      head: html`<span class=${'kind-' + c.kind}>${columnTitle(c)}</span>`,
      className: c.kind === 'metric' ? 'num' : '',
      render: (r) => {
        const v = r.values ? r.values[i] : null;
        // The filter grammar compares a metric's latest value: min/max cells offer no filter menu.
        const filterable = c.kind !== 'metric' || (c.agg || 'last') === 'last';
        return html`<span onContextMenu=${filterable ? (e) => { e.preventDefault(); setMenu({ x: e.clientX, y: e.clientY, col: c, value: v }); } : undefined}
          title=${v === null || v === undefined ? '' : String(v)}>${c.kind === 'metric' ? fmtNum(v) : (v ?? '')}</span>`;
      },
    })),
  ];

  const selectedIds = [...selected];
  const bulk = async (fn) => {
    setActionError(null);
    try {
      for (const id of selectedIds) await fn(id);
      cache.reset();
      setSelected(new Set());
      cache.ensure(0, 60);
    } catch (e) { setActionError(e); }
  };
  const exportCsv = async () => {
    setActionError(null);
    try {
      const rows = [];
      const n = Math.min(total, 100000);
      for (let off = 0; off < n; off += 2000) {
        const res = await api(tamga('runs/table'), { method: 'POST', body: tableRequest(experimentIds, effective, off, 2000) });
        for (const r of res.rows) {
          rows.push([r.run_id, r.run_name, r.experiment_id, r.status, fmtTime(r.start_time), fmtTime(r.end_time), r.user_id,
            r.parent_run_id || '', ...r.values]);
        }
      }
      const csv = toCsv(['run_id', 'run_name', 'experiment_id', 'status', 'start_time', 'end_time', 'user_id', 'parent_run_id',
        ...cols.map((c) => `${c.kind}.${c.key}${c.kind === 'metric' && c.agg !== 'last' ? '.' + c.agg : ''}`)], rows);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      a.download = `runs-${experimentIds.join('_')}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) { setActionError(e); }
  };

  const title = (exps.data || []).filter(Boolean).map((e) => e.name).join(', ') || experimentIds.join(', ');
  const clauses = splitClauses(state.filter);
  if (cache.total !== null && !firstPaint.reported) {
    firstPaint.reported = true;
    window.__tamgaTiming = { ...(window.__tamgaTiming || {}), runsFirstRowsMs: performance.now() - firstPaint.current };
  }
  return html`<div class="page page-full">
    <div class="page-head">
      <h1 title=${title}>${title}</h1>
      <span class="muted" data-testid="run-count">${cache.total === null ? '' : `${total.toLocaleString()} run${total === 1 ? '' : 's'}`}</span>
      <${SavedViews} experiment=${experimentIds.length === 1 ? exps.data?.[0] : null} state=${effective}
        onApply=${(q) => navigate(route.parts, q)} onSaved=${exps.reload} />
    </div>
    <form class="filter-bar" onSubmit=${(e) => { e.preventDefault(); update({ filter: filterText.trim() }); }}>
      <input type="search" class="filter-input" value=${filterText} onInput=${(e) => setFilterText(e.target.value)}
        placeholder="metrics.loss < 0.5 AND params.optimizer = 'adam' AND attributes.status = 'FINISHED'"
        aria-label="Filter runs" name="filter" />
      <button type="submit">Filter</button>
      <select value=${state.view} onChange=${(e) => update({ view: e.target.value })} aria-label="Lifecycle">
        <option value="active">Active</option><option value="deleted">Deleted</option><option value="all">All</option>
      </select>
      <label class="check"><input type="checkbox" checked=${state.nested} onChange=${(e) => update({ nested: e.target.checked })} />
        Group child runs</label>
      <button type="button" onClick=${() => setChoosing(true)} data-action="columns">Columns (${cols.length})</button>
    </form>
    ${clauses.length > 1 || (clauses.length === 1 && state.filter) ? html`<div class="chips">${clauses.map((c) => html`
      <span class="chip">${c}<button aria-label=${'Remove ' + c} onClick=${() => update({ filter: removeClause(state.filter, c) })}>×</button></span>`)}</div>` : null}
    <div class="bulk">
      <span>${selected.size} selected</span>
      <button disabled=${selected.size < 1} data-action="chart"
        onClick=${() => navigate(['charts'], { runs: selectedIds.join(','), keys: cols.filter((c) => c.kind === 'metric').slice(0, 4).map((c) => c.key).join(',') })}>Chart</button>
      <button disabled=${selected.size < 2} data-action="compare" onClick=${() => navigate(['compare'], { runs: selectedIds.join(',') })}>Compare</button>
      <button disabled=${selected.size < 1} onClick=${() => setTagging(true)}>Add tag</button>
      ${state.view === 'deleted'
        ? html`<button disabled=${selected.size < 1} onClick=${() => bulk((id) => api(mlflow('runs/restore'), { method: 'POST', body: { run_id: id } }))}>Restore</button>`
        : html`<button class="danger" disabled=${selected.size < 1} onClick=${() => confirm(`Delete ${selected.size} run(s)? They can be restored.`) &&
          bulk((id) => api(mlflow('runs/delete'), { method: 'POST', body: { run_id: id } }))}>Delete</button>`}
      <button onClick=${exportCsv} disabled=${!total}>Export CSV</button>
      ${selected.size ? html`<button onClick=${() => setSelected(new Set())}>Clear selection</button>` : null}
      ${note ? html`<span class="muted">${note}</span>` : null}
    </div>
    <${ErrorBox} error=${exps.error || keys.error || cache.error || actionError} />
    <${VirtualTable} rowCount=${count} columns=${columns} getRow=${rowAt} onRange=${onRange} testId="runs-table"
      sort=${{ id: state.sort.kind === 'attribute' ? { start_time: 'start', run_name: 'name', status: 'status', user_id: 'user' }[state.sort.key] : columnId(state.sort), desc: state.desc }}
      onSort=${sortBy} pinned=${1} rowClass=${(r) => (r._child ? 'child-row' : '') + (r.lifecycle_stage === 'deleted' ? ' deleted' : '')}
      empty=${cache.total === 0 ? 'No runs match.' : null} />
    ${menu ? html`<${FilterMenu} menu=${menu} onPick=${addFilter} onClose=${() => setMenu(null)} />` : null}
    ${choosing ? html`<${ColumnChooser} keys=${keys.data} columns=${cols} onClose=${() => setChoosing(false)}
      onApply=${(c) => { setChoosing(false); update({ cols: c }); }} />` : null}
    ${tagging ? html`<${TagDialog} count=${selected.size} onClose=${() => setTagging(false)} onSave=${async (key, value) => {
      await bulk((id) => api(mlflow('runs/set-tag'), { method: 'POST', body: { run_id: id, key, value } }));
      setTagging(false);
    }} />` : null}
  </div>`;
}

function FilterMenu({ menu, onPick, onClose }) {
  const { col, value } = menu;
  if (value === null || value === undefined) { onClose(); return null; }
  const ops = col.kind === 'metric' ? ['=', '!=', '<', '<=', '>', '>='] : ['=', '!='];
  const shown = col.kind === 'metric' ? fmtNum(value) : String(value);
  return html`<div class="menu-bg" onClick=${onClose}>
    <div class="menu" style=${`left:${menu.x}px;top:${menu.y}px`} role="menu">
      ${ops.map((op) => html`<button role="menuitem" onClick=${() => onPick({ ...col, agg: 'last' }, op, value)}>
        ${col.key} ${op} ${shown}</button>`)}
    </div></div>`;
}

function TagDialog({ count, onClose, onSave }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  return html`<${Modal} title=${`Tag ${count} run(s)`} onClose=${onClose}>
    <form onSubmit=${async (e) => { e.preventDefault(); try { await onSave(key.trim(), value); } catch (err) { setError(err); } }}>
      <label>Key <input value=${key} onInput=${(e) => setKey(e.target.value)} name="key" /></label>
      <label>Value <input value=${value} onInput=${(e) => setValue(e.target.value)} name="value" /></label>
      <${ErrorBox} error=${error} />
      <div class="modal-actions"><button type="button" onClick=${onClose}>Cancel</button>
        <button class="primary" disabled=${!key.trim()}>Set tag</button></div>
    </form><//>`;
}

// Views are experiment tags "tamga.view.<name>" holding the table's URL query, so the whole team sees them.
function SavedViews({ experiment, state, onApply, onSaved }) {
  const [error, setError] = useState(null);
  if (!experiment) return null;
  const views = (experiment.tags || []).filter((t) => t.key.startsWith('tamga.view.'));
  const save = async () => {
    const name = prompt('Save this view as');
    if (!name) return;
    setError(null);
    try {
      const q = new URLSearchParams(Object.entries(runsStateToQuery({ ...state, colsSet: true })).filter(([, v]) => v)).toString();
      await api(mlflow('experiments/set-experiment-tag'), { method: 'POST',
        body: { experiment_id: experiment.experiment_id, key: 'tamga.view.' + name, value: q } });
      onSaved();
    } catch (e) { setError(e); }
  };
  return html`<span class="views">
    <select aria-label="Saved views" onChange=${(e) => {
      const t = views.find((v) => v.key === e.target.value);
      if (t) onApply(Object.fromEntries(new URLSearchParams(t.value)));
      e.target.value = '';
    }}>
      <option value="">Saved views (${views.length})</option>
      ${views.map((v) => html`<option value=${v.key}>${v.key.slice('tamga.view.'.length)}</option>`)}
    </select>
    <button onClick=${save}>Save view</button>
    ${error ? html`<span class="error-inline">${error.message}</span>` : null}
  </span>`;
}
