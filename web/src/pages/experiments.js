// Experiments: a paged, searchable list (name, or MLflow's filter grammar over name and tags), with create,
// rename, delete and restore; tick several to see their runs together. State in the URL:
// #/experiments?q=...&view=active|deleted|all&page=<token>
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow } from '../lib/api.js';
import { href, navigate, setQuery } from '../lib/route.js';
import { fmtTime } from '../lib/format.js';
import { ErrorBox, Modal, useAsync } from '../components/common.js';

const VIEW = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };

// A bare word searches names (case-insensitive, anywhere); text with an operator is used as a filter.
export function experimentFilter(q) {
  const s = (q || '').trim();
  if (!s) return '';
  if (/(=|<|>|\bLIKE\b|\bILIKE\b)/i.test(s)) return s;
  return `name ILIKE '%${s.replaceAll("'", "''")}%'`;
}

export function ExperimentsPage({ route }) {
  const q = route.query.q || '';
  const view = route.query.view || 'active';
  const pageToken = route.query.page || '';
  const [text, setText] = useState(q);
  const [selected, setSelected] = useState(new Set());
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [prevTokens, setPrevTokens] = useState([]);

  const list = useAsync(() => api(mlflow('experiments/search'), {
    method: 'POST',
    body: { max_results: 100, filter: experimentFilter(q), view_type: VIEW[view] || 'ACTIVE_ONLY',
      order_by: ['last_update_time DESC'], page_token: pageToken || undefined },
  }), [q, view, pageToken]);

  const act = async (fn) => {
    setActionError(null);
    try { await fn(); list.reload(); } catch (e) { setActionError(e); }
  };
  const toggle = (id) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id); else s.add(id);
    setSelected(s);
  };
  const experiments = list.data?.experiments || [];
  return html`<div class="page">
    <div class="page-head">
      <h1>Experiments</h1>
      <form class="search" onSubmit=${(e) => { e.preventDefault(); setPrevTokens([]); setQuery({ q: text, page: '' }); }}>
        <input type="search" placeholder="Search by name, or e.g. tags.team = 'vision'" value=${text}
          onInput=${(e) => setText(e.target.value)} aria-label="Search experiments" name="q" />
        <button type="submit">Search</button>
      </form>
      <select value=${view} onChange=${(e) => setQuery({ view: e.target.value, page: '' })} aria-label="Lifecycle">
        <option value="active">Active</option><option value="deleted">Deleted</option><option value="all">All</option>
      </select>
      <button class="primary" onClick=${() => setCreating(true)}>New experiment</button>
      <button disabled=${selected.size === 0} data-action="compare-experiments"
        onClick=${() => navigate(['experiments', [...selected].join(','), 'runs'])}>
        Runs of ${selected.size || ''} selected</button>
    </div>
    <${ErrorBox} error=${list.error || actionError} />
    <table class="grid" data-testid="experiments">
      <thead><tr><th></th><th>Name</th><th>ID</th><th>Created</th><th>Updated</th><th>Tags</th><th></th></tr></thead>
      <tbody>${experiments.map((e) => html`<tr key=${e.experiment_id} class=${e.lifecycle_stage === 'deleted' ? 'deleted' : ''}>
        <td><input type="checkbox" checked=${selected.has(e.experiment_id)} onChange=${() => toggle(e.experiment_id)}
          aria-label=${'Select ' + e.name} /></td>
        <td><a href=${href(['experiments', e.experiment_id, 'runs'])}>${e.name}</a></td>
        <td class="mono">${e.experiment_id}</td>
        <td>${fmtTime(e.creation_time)}</td><td>${fmtTime(e.last_update_time)}</td>
        <td class="tags">${(e.tags || []).filter((t) => !t.key.startsWith('mlflow.') && !t.key.startsWith('tamga.'))
          .slice(0, 4).map((t) => html`<span class="chip">${t.key}=${t.value}</span>`)}</td>
        <td class="actions">
          ${e.lifecycle_stage === 'deleted'
            ? html`<button onClick=${() => act(() => api(mlflow('experiments/restore'), { method: 'POST', body: { experiment_id: e.experiment_id } }))}>Restore</button>`
            : html`<button onClick=${() => setRenaming(e)}>Rename</button>
              <button class="danger" onClick=${() => confirm(`Delete experiment "${e.name}"? Its runs are deleted too (they can be restored).`) &&
                act(() => api(mlflow('experiments/delete'), { method: 'POST', body: { experiment_id: e.experiment_id } }))}>Delete</button>`}
        </td>
      </tr>`)}</tbody>
    </table>
    ${!list.loading && experiments.length === 0 ? html`<div class="empty">No experiments${q ? ' match' : ''}.</div>` : null}
    <div class="pager">
      <button disabled=${prevTokens.length === 0} onClick=${() => {
        const p = prevTokens.slice(0, -1);
        setQuery({ page: prevTokens[prevTokens.length - 1] || '' });
        setPrevTokens(p);
      }}>‹ Previous</button>
      <button disabled=${!list.data?.next_page_token} onClick=${() => {
        setPrevTokens([...prevTokens, pageToken]);
        setQuery({ page: list.data.next_page_token });
      }}>Next ›</button>
    </div>
    ${creating ? html`<${NameDialog} title="New experiment" onClose=${() => setCreating(false)} onSave=${async (name) => {
      const r = await api(mlflow('experiments/create'), { method: 'POST', body: { name } });
      setCreating(false);
      navigate(['experiments', r.experiment_id, 'runs']);
    }} />` : null}
    ${renaming ? html`<${NameDialog} title=${'Rename ' + renaming.name} initial=${renaming.name} onClose=${() => setRenaming(null)}
      onSave=${async (name) => {
        await api(mlflow('experiments/update'), { method: 'POST', body: { experiment_id: renaming.experiment_id, new_name: name } });
        setRenaming(null);
        list.reload();
      }} />` : null}
  </div>`;
}

export function NameDialog({ title, initial = '', onClose, onSave, label = 'Name' }) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState(null);
  return html`<${Modal} title=${title} onClose=${onClose}>
    <form onSubmit=${async (e) => {
      e.preventDefault();
      try { await onSave(name.trim()); } catch (err) { setError(err); }
    }}>
      <label>${label} <input autofocus value=${name} onInput=${(e) => setName(e.target.value)} name="name" /></label>
      <${ErrorBox} error=${error} />
      <div class="modal-actions"><button type="button" onClick=${onClose}>Cancel</button>
        <button class="primary" type="submit" disabled=${!name.trim()}>Save</button></div>
    </form>
  <//>`;
}
