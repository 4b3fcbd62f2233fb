// Data (docs/data.md): datasets (#/data?q=) with the retraining triggers, and one dataset
// (#/data/<name>?tab=versions|files|diff|uses|triggers&version=N): versions with tags and metadata, a version's
// files (by folder prefix, a page at a time), the diff between two versions, the runs and model versions that
// used a version (lineage), and the triggers that follow the dataset with their firings.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, tamga } from '../lib/api.js';
import { href, setQuery } from '../lib/route.js';
import { fmtBytes, fmtTime, shortId } from '../lib/format.js';
import { ErrorBox, Loading, Tabs, useAsync } from '../components/common.js';

export function DataPage({ route }) {
  const q = route.query.q || '';
  const [text, setText] = useState(q);
  const list = useAsync(() => api(tamga('datasets/search'), { query: { prefix: q || undefined, max_results: 1000 } }), [q]);
  const triggers = useAsync(() => api(tamga('triggers')), []);
  const datasets = list.data?.datasets || [];
  return html`<div class="page">
    <div class="page-head"><h1>Data</h1>
      <form class="search" onSubmit=${(e) => { e.preventDefault(); setQuery({ q: text }); }}>
        <input type="search" placeholder="Datasets starting with…" value=${text} onInput=${(e) => setText(e.target.value)} aria-label="Search datasets" />
        <button>Search</button></form></div>
    <${ErrorBox} error=${list.error} />
    <table class="grid" data-testid="datasets"><thead><tr><th>Dataset</th><th>Latest</th><th>Updated</th><th>Created by</th><th>Description</th></tr></thead>
      <tbody>${datasets.map((d) => html`<tr key=${d.name}>
        <td><a href=${href(['data', d.name])}>${d.name}</a></td>
        <td>${d.latest_version ? 'v' + d.latest_version : '—'}</td>
        <td>${fmtTime(d.last_updated_timestamp)}</td><td>${d.created_by || ''}</td>
        <td class="ellipsis">${d.description || ''}</td></tr>`)}</tbody></table>
    ${!list.loading && datasets.length === 0 ? html`<div class="empty">No datasets${q ? ' match' : ''}. Version one with <code>tamga data add DIR</code> and <code>tamga data push</code>.</div>` : null}
    <h2>Retraining triggers</h2>
    <${ErrorBox} error=${triggers.error} />
    <${TriggerTable} triggers=${triggers.data?.triggers || []} />
  </div>`;
}

function TriggerTable({ triggers }) {
  if (triggers.length === 0) return html`<div class="empty">No triggers. An admin makes one with <code>tamga triggers create</code>.</div>`;
  return html`<table class="grid" data-testid="triggers"><thead><tr><th>Trigger</th><th>Fires on</th><th>Queue</th><th>Registers</th><th>Created</th></tr></thead>
    <tbody>${triggers.map((t) => html`<tr key=${t.name}>
      <td>${t.name}</td>
      <td>${t.kind === 'schedule' ? html`<code>${t.schedule}</code> <span class="muted">next ${fmtTime(t.next_fire_timestamp)}</span>` : html`<a href=${href(['data', t.on_dataset.split('@')[0]], { tab: 'triggers' })}>${t.on_dataset}</a>`}</td>
      <td>${t.job?.queue || ''}</td><td>${t.register_model || ''}</td><td>${fmtTime(t.creation_timestamp)}</td></tr>`)}</tbody></table>`;
}

export function DatasetPage({ route, name }) {
  const tab = route.query.tab || 'versions';
  const dataset = useAsync(() => api(tamga('datasets/get'), { query: { name } }), [name]);
  const versions = useAsync(() => api(tamga('datasets/versions/search'), { query: { name, max_results: 1000 } }), [name]);
  if (dataset.error) return html`<div class="page"><${ErrorBox} error=${dataset.error} /></div>`;
  if (!dataset.data) return html`<div class="page"><${Loading} /></div>`;
  const d = dataset.data.dataset;
  const list = versions.data?.versions || [];
  const version = route.query.version || (list[0] ? String(list[0].version) : '');
  return html`<div class="page">
    <div class="crumbs"><a href="#/data">Data</a> ›</div>
    <div class="page-head"><h1 data-testid="dataset-name">${d.name}</h1>
      ${(dataset.data.tags || []).map((t) => html`<span class="chip alias">@${t.tag} → v${t.version}</span>`)}</div>
    ${d.description ? html`<p>${d.description}</p>` : null}
    <${ErrorBox} error=${versions.error} />
    <${Tabs} tabs=${[['versions', `Versions (${list.length})`], ['files', 'Files'], ['diff', 'Diff'], ['uses', 'Used by'], ['triggers', 'Triggers']]}
      active=${tab} onSelect=${(t) => setQuery({ tab: t === 'versions' ? '' : t })} />
    ${tab !== 'versions' && tab !== 'triggers' ? html`<label class="inline">Version <select value=${version} aria-label="Version"
      onChange=${(e) => setQuery({ version: e.target.value, prefix: '' })}>${list.map((v) => html`<option value=${String(v.version)}>v${v.version}${v.tags.length ? ' (' + v.tags.join(', ') + ')' : ''}</option>`)}</select></label>` : null}
    ${tab === 'versions' ? html`<${Versions} name=${name} list=${list} />` : null}
    ${tab === 'files' && version ? html`<${Files} name=${name} version=${version} route=${route} />` : null}
    ${tab === 'diff' && version ? html`<${Diff} name=${name} list=${list} to=${version} from=${route.query.from} />` : null}
    ${tab === 'uses' && version ? html`<${Uses} name=${name} version=${version} />` : null}
    ${tab === 'triggers' ? html`<${DatasetTriggers} name=${name} />` : null}
  </div>`;
}

function Versions({ name, list }) {
  if (list.length === 0) return html`<div class="empty">No versions yet: <code>tamga data push</code> records one.</div>`;
  return html`<table class="grid" data-testid="dataset-versions"><thead><tr><th>Version</th><th>Tags</th><th>Files</th><th>Size</th><th>Created</th><th>By</th><th>Message</th><th>Manifest</th><th>Metadata</th></tr></thead>
    <tbody>${list.map((v) => html`<tr key=${v.version}>
      <td><a href=${href(['data', name], { tab: 'files', version: String(v.version) })}>v${v.version}</a></td>
      <td>${v.tags.map((t) => html`<span class="chip alias">@${t}</span>`)}</td>
      <td>${v.file_count}</td><td>${fmtBytes(v.total_size)}</td><td>${fmtTime(v.creation_timestamp)}</td>
      <td>${v.created_by || ''}</td><td class="ellipsis">${v.message || ''}</td>
      <td><code title=${v.manifest}>${v.manifest.slice(0, 12)}</code></td>
      <td class="ellipsis"><code>${Object.keys(v.metadata || {}).length ? JSON.stringify(v.metadata).slice(0, 120) : ''}</code></td></tr>`)}</tbody></table>`;
}

function Files({ name, version, route }) {
  const prefix = route.query.prefix || '';
  const [pages, setPages] = useState(['']);
  const token = pages[pages.length - 1];
  const files = useAsync(() => api(tamga('datasets/versions/files'), { query: { name, version, prefix: prefix || undefined, page_token: token || undefined, max_results: 500 } }), [name, version, prefix, token]);
  const rows = files.data?.files || [];
  return html`<div>
    <form class="search" onSubmit=${(e) => { e.preventDefault(); setPages(['']); setQuery({ prefix: e.target.elements.prefix.value }); }}>
      <input name="prefix" placeholder="Folder or path prefix" value=${prefix} aria-label="Path prefix" /><button>Filter</button></form>
    <${ErrorBox} error=${files.error} />
    <table class="grid" data-testid="dataset-files"><thead><tr><th>Path</th><th>Size</th><th>SHA-256</th></tr></thead>
      <tbody>${rows.map((f) => html`<tr key=${f.path}>
        <td><a href=${'/api/2.0/tamga/datasets/objects/get?name=' + encodeURIComponent(name) + '&digest=' + f.digest} download=${f.path.split('/').pop()}>${f.path}</a></td>
        <td>${fmtBytes(f.size)}</td><td><code title=${f.digest}>${f.digest.slice(0, 16)}</code></td></tr>`)}</tbody></table>
    <div class="pager">
      <button disabled=${pages.length < 2} onClick=${() => setPages(pages.slice(0, -1))}>‹ Previous</button>
      <button disabled=${!files.data?.next_page_token} onClick=${() => setPages([...pages, files.data.next_page_token])}>Next ›</button>
    </div>
  </div>`;
}

function Diff({ name, list, to, from }) {
  const older = list.find((v) => v.version < Number(to));
  const base = from || (older ? String(older.version) : to);
  const diff = useAsync(() => api(tamga('datasets/versions/diff'), { query: { name, from: base, to, max_results: 1000 } }), [name, base, to]);
  const d = diff.data;
  return html`<div>
    <label class="inline">compared with <select value=${base} aria-label="Compare with" onChange=${(e) => setQuery({ from: e.target.value })}>
      ${list.map((v) => html`<option value=${String(v.version)}>v${v.version}</option>`)}</select></label>
    <${ErrorBox} error=${diff.error} />
    ${d ? html`<p data-testid="diff-summary">v${d.from_version} → v${d.to_version}: ${d.added_count} added, ${d.removed_count} removed, ${d.modified_count} modified, ${d.unchanged_count} unchanged</p>
      <table class="grid" data-testid="dataset-diff"><thead><tr><th>Change</th><th>Path</th><th>Size</th></tr></thead><tbody>
        ${d.added.map((e) => html`<tr class="added"><td>added</td><td>${e.path}</td><td>${fmtBytes(e.size)}</td></tr>`)}
        ${d.removed.map((e) => html`<tr class="removed"><td>removed</td><td>${e.path}</td><td>${fmtBytes(e.size)}</td></tr>`)}
        ${d.modified.map((e) => html`<tr class="modified"><td>modified</td><td>${e.path}</td><td>${fmtBytes(e.from_size)} → ${fmtBytes(e.to_size)}</td></tr>`)}
      </tbody></table>` : html`<${Loading} />`}
  </div>`;
}

function Uses({ name, version }) {
  const lin = useAsync(() => api(tamga('lineage'), { query: { uri: `${name}@v${version}` } }), [name, version]);
  if (lin.error) return html`<${ErrorBox} error=${lin.error} />`;
  if (!lin.data) return html`<${Loading} />`;
  const { runs, model_versions: models } = lin.data;
  return html`<div>
    <h3>Runs that used v${version}</h3>
    ${runs.length ? html`<table class="grid" data-testid="dataset-runs"><thead><tr><th>Run</th><th>Context</th><th>When</th></tr></thead><tbody>
      ${runs.map((r) => html`<tr key=${r.run_id}><td><a href=${href(['runs', r.run_id])}>${shortId(r.run_id)}</a></td><td>${r.context || ''}</td><td>${fmtTime(r.timestamp)}</td></tr>`)}</tbody></table>`
      : html`<div class="empty">No run has used this version yet (jobs' <code>--data</code>, or <code>mlflow.log_input</code> with a <code>tamga-data://</code> source).</div>`}
    <h3>Model versions registered from them</h3>
    ${models.length ? html`<table class="grid" data-testid="dataset-models"><thead><tr><th>Model</th><th>Version</th><th>Run</th></tr></thead><tbody>
      ${models.map((m) => html`<tr key=${m.name + m.version}><td><a href=${href(['models', m.name])}>${m.name}</a></td><td>v${m.version}</td><td>${m.run_id ? shortId(m.run_id) : ''}</td></tr>`)}</tbody></table>`
      : html`<div class="empty">None.</div>`}
  </div>`;
}

function DatasetTriggers({ name }) {
  const all = useAsync(() => api(tamga('triggers')), []);
  const mine = (all.data?.triggers || []).filter((t) => t.kind === 'dataset_tag' && t.on_dataset.split('@')[0] === name);
  return html`<div><${ErrorBox} error=${all.error} /><${TriggerTable} triggers=${mine} />
    ${mine.map((t) => html`<${Firings} key=${t.name} name=${t.name} />`)}</div>`;
}

function Firings({ name }) {
  const t = useAsync(() => api(tamga('triggers/' + encodeURIComponent(name))), [name]);
  const firings = t.data?.firings || [];
  return html`<div><h3>Firings of ${name}</h3><${ErrorBox} error=${t.error} />
    ${firings.length ? html`<table class="grid" data-testid="trigger-firings"><thead><tr><th>When</th><th>Event</th><th>State</th><th>Job</th><th>Model version</th><th>Reason</th></tr></thead><tbody>
      ${firings.map((f) => html`<tr key=${f.id}><td>${fmtTime(f.creation_timestamp)}</td><td>${f.event}</td><td>${f.state}</td>
        <td>${f.job_id ? html`<a href=${href(['jobs', f.job_id])}>${shortId(f.job_id)}</a>` : ''}</td><td>${f.model_version || ''}</td><td>${f.reason || ''}</td></tr>`)}</tbody></table>`
      : html`<div class="empty">Not fired yet.</div>`}</div>`;
}
