// Registry: models list and search (#/models?q=), and one model (#/models/<name>?tab=versions|aliases|
// webhooks|deployments): versions with stages, aliases and source runs; moving an alias; the alias history
// from the registry's events outbox; description and tags; model-scoped webhooks with their delivery log;
// deployments that follow the model with their rendered manifests.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow, tamga } from '../lib/api.js';
import { href, setQuery } from '../lib/route.js';
import { fmtTime, shortId } from '../lib/format.js';
import { Markdown } from '../lib/markdown.js';
import { ErrorBox, Loading, Tabs, useAsync } from '../components/common.js';

export function ModelsPage({ route }) {
  const q = route.query.q || '';
  const [text, setText] = useState(q);
  const [tokens, setTokens] = useState(['']);
  const token = route.query.page || '';
  const list = useAsync(() => api(mlflow('registered-models/search'), { query: {
    filter: q ? `name ILIKE '%${q.replaceAll("'", "''")}%'` : undefined, max_results: 100, order_by: 'last_updated_timestamp DESC', page_token: token || undefined } }), [q, token]);
  const models = list.data?.registered_models || [];
  return html`<div class="page">
    <div class="page-head"><h1>Models</h1>
      <form class="search" onSubmit=${(e) => { e.preventDefault(); setTokens(['']); setQuery({ q: text, page: '' }); }}>
        <input type="search" placeholder="Search models by name" value=${text} onInput=${(e) => setText(e.target.value)} aria-label="Search models" />
        <button>Search</button></form></div>
    <${ErrorBox} error=${list.error} />
    <table class="grid" data-testid="models"><thead><tr><th>Name</th><th>Latest versions</th><th>Aliases</th><th>Updated</th><th>Description</th></tr></thead>
      <tbody>${models.map((m) => html`<tr key=${m.name}>
        <td><a href=${href(['models', m.name])}>${m.name}</a></td>
        <td>${(m.latest_versions || []).map((v) => html`<span class="chip">v${v.version}${v.current_stage && v.current_stage !== 'None' ? ' ' + v.current_stage : ''}</span>`)}</td>
        <td>${(m.aliases || []).map((a) => html`<span class="chip alias">@${a.alias} → v${a.version}</span>`)}</td>
        <td>${fmtTime(m.last_updated_timestamp)}</td><td class="ellipsis">${(m.description || '').slice(0, 120)}</td></tr>`)}</tbody></table>
    ${!list.loading && models.length === 0 ? html`<div class="empty">No registered models${q ? ' match' : ''}. Register one with <code>mlflow.register_model</code>.</div>` : null}
    <div class="pager">
      <button disabled=${tokens.length < 2} onClick=${() => { const t = tokens.slice(0, -1); setTokens(t); setQuery({ page: t[t.length - 1] }); }}>‹ Previous</button>
      <button disabled=${!list.data?.next_page_token} onClick=${() => { setTokens([...tokens, list.data.next_page_token]); setQuery({ page: list.data.next_page_token }); }}>Next ›</button>
    </div>
  </div>`;
}

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

export function ModelPage({ route, name }) {
  const tab = route.query.tab || 'versions';
  const model = useAsync(() => api(mlflow('registered-models/get'), { query: { name } }).then((r) => r.registered_model), [name]);
  const versions = useAsync(() => api(mlflow('model-versions/search'), { query: { filter: `name = '${name.replaceAll("'", "''")}'`, max_results: 1000, order_by: 'version_number DESC' } }), [name]);
  const [error, setError] = useState(null);
  const act = async (fn) => {
    setError(null);
    try { await fn(); model.reload(); versions.reload(); } catch (e) { setError(e); }
  };
  if (model.error) return html`<div class="page"><${ErrorBox} error=${model.error} /></div>`;
  if (!model.data) return html`<div class="page"><${Loading} /></div>`;
  const m = model.data;
  const list = versions.data?.model_versions || [];
  return html`<div class="page">
    <div class="crumbs"><a href="#/models">Models</a> ›</div>
    <div class="page-head"><h1 data-testid="model-name">${m.name}</h1>
      ${(m.aliases || []).map((a) => html`<span class="chip alias">@${a.alias} → v${a.version}</span>`)}</div>
    <${ErrorBox} error=${error || versions.error} />
    <${Tabs} tabs=${[['versions', `Versions (${list.length})`], ['aliases', 'Aliases & history'], ['about', 'Description & tags'],
      ['webhooks', 'Webhooks'], ['deployments', 'Deployments']]} active=${tab} onSelect=${(t) => setQuery({ tab: t === 'versions' ? '' : t })} />
    ${tab === 'versions' ? html`<table class="grid" data-testid="versions"><thead><tr><th>Version</th><th>Stage</th><th>Aliases</th><th>Status</th><th>Reference test</th><th>Rollout</th><th>Created</th><th>Source run</th><th>Description</th></tr></thead>
      <tbody>${list.map((v) => html`<tr key=${v.version} class=${route.query.version === v.version ? 'selected' : ''}>
        <td>v${v.version}</td>
        <td><select value=${v.current_stage || 'None'} aria-label=${'Stage of version ' + v.version}
          onChange=${(e) => act(() => api(mlflow('model-versions/transition-stage'), { method: 'POST', body: { name, version: v.version, stage: e.target.value, archive_existing_versions: false } }))}>
          ${STAGES.map((s) => html`<option value=${s}>${s}</option>`)}</select></td>
        <td>${(v.aliases || []).map((a) => html`<span class="chip alias">@${a}</span>`)}</td>
        <td>${v.status}</td>
        <td>${tagOf(v, 'tamga.reference_test.status') ? html`<span class="badge ${tagOf(v, 'tamga.reference_test.status') === 'passed' ? 'st-finished' : 'st-failed'}"
          title=${`${tagOf(v, 'tamga.reference_test.rows')} rows, ${tagOf(v, 'tamga.reference_test.mismatched_rows')} differ, max |delta| ${tagOf(v, 'tamga.reference_test.max_abs_delta')} (${tagOf(v, 'tamga.reference_test.tolerance')})`}>${tagOf(v, 'tamga.reference_test.status')}</span>` : ''}</td>
        <td data-testid="rollout-status">${tagOf(v, 'tamga.rollout.status') ? html`<span class="badge ${tagOf(v, 'tamga.rollout.status') === 'promoted' ? 'st-finished' : tagOf(v, 'tamga.rollout.status') === 'rolled_back' ? 'st-failed' : 'st-running'}"
          title=${tagOf(v, 'tamga.rollout.history') || ''}>${tagOf(v, 'tamga.rollout.status').replace('_', ' ')}</span> <span class="muted">${tagOf(v, 'tamga.rollout.reason') || ''}</span>` : ''}</td>
        <td>${fmtTime(v.creation_timestamp)}</td>
        <td>${v.run_id ? html`<a href=${href(['runs', v.run_id])}>${shortId(v.run_id)}</a>` : ''}</td>
        <td class="ellipsis">${v.description || ''}</td></tr>`)}</tbody></table>` : null}
    ${tab === 'aliases' ? html`<${Aliases} model=${m} versions=${list} act=${act} />` : null}
    ${tab === 'about' ? html`<${About} model=${m} act=${act} />` : null}
    ${tab === 'webhooks' ? html`<${Webhooks} name=${name} />` : null}
    ${tab === 'deployments' ? html`<${Deployments} name=${name} />` : null}
  </div>`;
}

// A version tag's value (the server's reference-test and rollout results live there).
const tagOf = (v, key) => (v.tags || []).find((t) => t.key === key)?.value;

function Aliases({ model, versions, act }) {
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState(versions[0]?.version || '');
  const history = useAsync(() => api(tamga('events'), { query: { model_name: model.name, max_results: 200 } }), [model.name, (model.aliases || []).map((a) => a.alias + a.version).join()]);
  const events = (history.data?.events || []);
  return html`<div class="cols">
    <section>
      <h2>Aliases</h2>
      <table class="grid compact" data-testid="aliases"><tbody>${(model.aliases || []).map((a) => html`<tr><th>@${a.alias}</th><td>v${a.version}</td>
        <td><button class="danger" onClick=${() => confirm(`Remove alias @${a.alias}?`) && act(() => api(mlflow('registered-models/alias'), { method: 'DELETE', query: { name: model.name, alias: a.alias } }))}>Remove</button></td></tr>`)}</tbody></table>
      <h3>Move an alias</h3>
      <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); act(() => api(mlflow('registered-models/alias'), { method: 'POST', body: { name: model.name, alias: alias.trim().replace(/^@/, ''), version } })); }}>
        <input placeholder="alias (e.g. production)" value=${alias} onInput=${(e) => setAlias(e.target.value)} aria-label="Alias" name="alias" />
        <select value=${version} onChange=${(e) => setVersion(e.target.value)} aria-label="Version">${versions.map((v) => html`<option value=${v.version}>v${v.version}</option>`)}</select>
        <button class="primary" disabled=${!alias.trim() || !version} data-action="set-alias">Set alias</button>
      </form>
    </section>
    <section>
      <h2>History</h2>
      <${ErrorBox} error=${history.error} />
      <table class="grid compact" data-testid="alias-history"><thead><tr><th>When</th><th>Event</th><th>Version</th><th>Alias</th></tr></thead>
        <tbody>${events.map((e) => html`<tr><td>${fmtTime(e.timestamp)}</td><td>${e.type}</td><td>${e.version ? 'v' + e.version : ''}</td><td>${e.alias ? '@' + e.alias : ''}</td></tr>`)}</tbody></table>
    </section>
  </div>`;
}

function About({ model, act }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(model.description || '');
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  return html`<div class="cols"><section>
    <h2>Description <button class="link" onClick=${() => setEditing(!editing)}>${editing ? 'Preview' : 'Edit'}</button></h2>
    ${editing ? html`<div><textarea rows="8" class="note" value=${draft} onInput=${(e) => setDraft(e.target.value)} aria-label="Model description"></textarea>
      <button class="primary" onClick=${() => act(async () => { await api(mlflow('registered-models/update'), { method: 'PATCH', body: { name: model.name, description: draft } }); setEditing(false); })}>Save</button></div>`
      : (model.description ? html`<${Markdown} source=${model.description} />` : html`<p class="muted">No description.</p>`)}
  </section><section>
    <h2>Tags</h2>
    <table class="grid compact"><tbody>${(model.tags || []).map((t) => html`<tr><th>${t.key}</th><td>${t.value}</td>
      <td><button onClick=${() => act(() => api(mlflow('registered-models/delete-tag'), { method: 'DELETE', query: { name: model.name, key: t.key } }))}>Remove</button></td></tr>`)}</tbody></table>
    <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); act(() => api(mlflow('registered-models/set-tag'), { method: 'POST', body: { name: model.name, key, value } })); }}>
      <input placeholder="key" value=${key} onInput=${(e) => setKey(e.target.value)} aria-label="Tag key" />
      <input placeholder="value" value=${value} onInput=${(e) => setValue(e.target.value)} aria-label="Tag value" />
      <button disabled=${!key}>Set tag</button></form>
  </section></div>`;
}

function Webhooks({ name }) {
  const hooks = useAsync(() => api(mlflow('webhooks'), { query: { max_results: 1000 } }), [name]);
  const mine = (hooks.data?.webhooks || []).filter((w) => w.model_name === name || !w.model_name);
  const [open, setOpen] = useState(null);
  const deliveries = useAsync(() => (open ? api(tamga(`webhooks/${encodeURIComponent(open)}/deliveries`), { query: { max_results: 50 } }) : null), [open]);
  return html`<div>
    <${ErrorBox} error=${hooks.error} />
    ${mine.length === 0 ? html`<p class="muted">No webhooks fire for this model.</p>` : null}
    <table class="grid"><thead><tr><th>Name</th><th>URL</th><th>Events</th><th>Scope</th><th>Status</th><th></th></tr></thead>
      <tbody>${mine.map((w) => html`<tr><td>${w.name}</td><td class="mono ellipsis">${w.url}</td>
        <td>${(w.events || []).map((e) => html`<span class="chip">${String(e.entity).toLowerCase()}.${String(e.action).toLowerCase()}</span>`)}</td>
        <td>${w.model_name ? 'this model' : 'all models'}</td><td>${w.status}</td>
        <td><button onClick=${() => setOpen(open === w.webhook_id ? null : w.webhook_id)} data-action="deliveries">Deliveries</button></td></tr>`)}</tbody></table>
    ${open ? html`<h3>Delivery log</h3><${ErrorBox} error=${deliveries.error} />
      <table class="grid compact" data-testid="deliveries"><thead><tr><th>When</th><th>Event</th><th>State</th><th>Attempts</th><th>Last answer</th></tr></thead>
      <tbody>${(deliveries.data?.deliveries || []).map((d) => html`<tr><td>${fmtTime(d.created_at)}</td><td>${d.event} <span class="muted">#${d.event_seq}</span></td>
        <td>${d.state}</td><td>${d.attempts}</td><td class="mono ellipsis">${d.last_status ?? ''} ${d.last_error || ''}</td></tr>`)}</tbody></table>` : null}
  </div>`;
}

function Deployments({ name }) {
  const list = useAsync(() => api(tamga('deployments')), [name]);
  const mine = (list.data?.deployments || []).filter((d) => d.model_name === name);
  const [shown, setShown] = useState(null);
  const files = useAsync(() => (shown ? api(tamga(`deployments/${encodeURIComponent(shown)}/files`)) : null), [shown]);
  return html`<div>
    <${ErrorBox} error=${list.error} />
    ${mine.length === 0 ? html`<p class="muted">No deployment follows this model.</p>` : null}
    <table class="grid"><thead><tr><th>Deployment</th><th>Follows</th><th>Target</th><th>Rendered version</th><th>Updated</th><th></th></tr></thead>
      <tbody>${mine.map((d) => html`<tr><td><a href=${href(['serving', d.name])}>${d.name}</a></td>
        <td>${d.spec.alias ? '@' + d.spec.alias : d.spec.version ? 'v' + d.spec.version : ''}</td><td>${d.spec.target || 'kubernetes'}</td>
        <td>${d.rendered_version ? 'v' + d.rendered_version : html`<span class="muted">not rendered</span>`}</td><td>${fmtTime(d.last_updated_timestamp)}</td>
        <td><button onClick=${() => setShown(shown === d.name ? null : d.name)}>Manifests</button></td></tr>`)}</tbody></table>
    ${shown ? html`<${ErrorBox} error=${files.error} />
      ${(files.data?.commits || []).slice(0, 10).map((c) => html`<div class="mono small">${fmtTime(c.timestamp)} ${c.commit.slice(0, 12)} ${c.message}</div>`)}
      ${(files.data?.files || []).map((f) => html`<h3 class="mono">${f.path}</h3><pre class="text">${f.content}</pre>`)}` : null}
  </div>`;
}
