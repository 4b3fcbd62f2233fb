// One run (#/runs/<id>?tab=overview|metrics|artifacts|environment|job): overview with editable markdown
// description, params, tags, dataset inputs, child runs and registered versions made from it; metrics with
// last/min/max and sparklines; the artifact browser; the captured environment; the job's live log.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow, tamga } from '../lib/api.js';
import { href, navigate, setQuery } from '../lib/route.js';
import { fmtDuration, fmtNum, fmtTime } from '../lib/format.js';
import { Markdown } from '../lib/markdown.js';
import { ErrorBox, KV, Loading, Status, Tabs, useAsync } from '../components/common.js';
import { Sparkline } from '../components/chart.js';
import { ArtifactBrowser } from './artifacts.js';
import { MetricChartPanel } from './charts.js';
import { JobLog } from './jobs.js';

const NOTE = 'mlflow.note.content';

export function RunPage({ route, runId }) {
  const tab = route.query.tab || 'overview';
  const run = useAsync(() => api(mlflow('runs/get'), { query: { run_id: runId } }).then((r) => r.run), [runId]);
  const exp = useAsync(() => (run.data ? api(mlflow('experiments/get'), { query: { experiment_id: run.data.info.experiment_id } }) : null),
    [run.data?.info.experiment_id]);
  if (run.error) return html`<div class="page"><${ErrorBox} error=${run.error} /></div>`;
  if (!run.data) return html`<div class="page"><${Loading} /></div>`;
  const r = run.data;
  const tags = Object.fromEntries((r.data.tags || []).map((t) => [t.key, t.value]));
  const jobId = tags['tamga.job.id'];
  const tabs = [['overview', 'Overview'], ['metrics', `Metrics (${(r.data.metrics || []).length})`],
    ['artifacts', 'Artifacts'], ['environment', 'Environment'], ...(jobId ? [['job', 'Job log']] : [])];
  return html`<div class="page">
    <div class="crumbs"><a href=${href(['experiments', r.info.experiment_id, 'runs'])}>${exp.data?.experiment?.name || 'Experiment ' + r.info.experiment_id}</a> ›</div>
    <div class="page-head">
      <h1 data-testid="run-name">${r.info.run_name || r.info.run_id}</h1><${Status} value=${r.info.status} />
      ${r.info.lifecycle_stage === 'deleted' ? html`<span class="badge st-deleted">deleted</span>` : null}
      <span class="spacer"></span>
      <button onClick=${() => navigate(['charts'], { runs: runId, keys: (r.data.metrics || []).slice(0, 6).map((m) => m.key).join(',') })}>Open charts</button>
    </div>
    <${Tabs} tabs=${tabs} active=${tab} onSelect=${(t) => setQuery({ tab: t === 'overview' ? '' : t, path: '' })} />
    ${tab === 'overview' ? html`<${Overview} run=${r} tags=${tags} reload=${run.reload} />` : null}
    ${tab === 'metrics' ? html`<${Metrics} run=${r} route=${route} />` : null}
    ${tab === 'artifacts' ? html`<${ArtifactBrowser} runId=${runId} path=${route.query.path || ''} />` : null}
    ${tab === 'environment' ? html`<${Environment} run=${r} tags=${tags} />` : null}
    ${tab === 'job' && jobId ? html`<${JobLog} jobId=${jobId} />` : null}
  </div>`;
}

function Overview({ run, tags, reload }) {
  const i = run.info;
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(tags[NOTE] || '');
  const [error, setError] = useState(null);
  const children = useAsync(() => api(mlflow('runs/search'), { method: 'POST', body: {
    experiment_ids: [i.experiment_id], filter: `tags.mlflow.parentRunId = '${i.run_id}'`, max_results: 200 } }), [i.run_id]);
  const versions = useAsync(() => api(mlflow('model-versions/search'), { query: { filter: `run_id = '${i.run_id}'`, max_results: 200 } }), [i.run_id]);
  const saveNote = async () => {
    setError(null);
    try {
      await api(mlflow('runs/set-tag'), { method: 'POST', body: { run_id: i.run_id, key: NOTE, value: draft } });
      setEditing(false);
      reload();
    } catch (e) { setError(e); }
  };
  const userTags = (run.data.tags || []).filter((t) => !t.key.startsWith('mlflow.') && !t.key.startsWith('tamga.env.'));
  const commit = tags['mlflow.source.git.commit'];
  return html`<div class="cols">
    <section>
      <h2>Overview</h2>
      <${KV} rows=${[
        ['Run ID', html`<span class="mono">${i.run_id}</span>`],
        ['Status', html`<${Status} value=${i.status} />`],
        ['Started', fmtTime(i.start_time)],
        ['Ended', fmtTime(i.end_time)],
        ['Duration', fmtDuration((i.end_time || Date.now()) - i.start_time)],
        ['User', i.user_id],
        tags['mlflow.source.name'] && ['Source', html`<span class="mono">${tags['mlflow.source.name']}</span>`],
        commit && ['Git commit', html`<span class="mono">${commit.slice(0, 12)}</span>${tags['mlflow.source.git.repoURL'] ? ' ' + tags['mlflow.source.git.repoURL'] : ''}`],
        tags['mlflow.parentRunId'] && ['Parent run', html`<a href=${href(['runs', tags['mlflow.parentRunId']])}>${tags['mlflow.parentRunId']}</a>`],
        tags['tamga.job.id'] && ['Job', html`<a href=${href(['jobs', tags['tamga.job.id']])}>${tags['tamga.job.id']}</a>`],
        ['Artifacts', html`<span class="mono">${i.artifact_uri}</span>`],
      ]} />
      <h2>Description <button class="link" onClick=${() => setEditing(!editing)} data-action="edit-description">${editing ? 'Preview' : 'Edit'}</button></h2>
      ${editing ? html`<div>
          <textarea rows="8" class="note" value=${draft} onInput=${(e) => setDraft(e.target.value)} aria-label="Description (Markdown)"></textarea>
          <${ErrorBox} error=${error} />
          <button class="primary" onClick=${saveNote} data-action="save-description">Save</button> <button onClick=${() => setEditing(false)}>Cancel</button>
        </div>`
        : (tags[NOTE] ? html`<${Markdown} source=${tags[NOTE]} />` : html`<p class="muted">No description.</p>`)}
      <h2>Parameters (${(run.data.params || []).length})</h2>
      <table class="grid compact" data-testid="params"><tbody>${(run.data.params || []).map((p) => html`<tr><th>${p.key}</th><td class="mono">${p.value}</td></tr>`)}</tbody></table>
    </section>
    <section>
      <h2>Tags (${userTags.length})</h2>
      <table class="grid compact"><tbody>${userTags.map((t) => html`<tr><th>${t.key}</th><td>${t.value}</td></tr>`)}</tbody></table>
      <h2>Dataset inputs</h2>
      ${(run.inputs?.dataset_inputs || []).length === 0 ? html`<p class="muted">None logged.</p>` : html`<table class="grid compact">
        <thead><tr><th>Name</th><th>Digest</th><th>Source</th><th>Context</th></tr></thead>
        <tbody>${run.inputs.dataset_inputs.map((d) => html`<tr><td>${d.dataset.name}</td><td class="mono">${d.dataset.digest}</td>
          <td>${d.dataset.source_type}</td><td>${(d.tags || []).find((t) => t.key === 'mlflow.data.context')?.value || ''}</td></tr>`)}</tbody></table>`}
      <h2>Registered versions from this run</h2>
      ${(versions.data?.model_versions || []).length === 0 ? html`<p class="muted">None.</p>`
        : html`<ul>${versions.data.model_versions.map((v) => html`<li><a href=${href(['models', v.name], { version: v.version })}>${v.name} v${v.version}</a>
          ${v.current_stage && v.current_stage !== 'None' ? html` <span class="chip">${v.current_stage}</span>` : null}
          ${(v.aliases || []).map((a) => html` <span class="chip alias">@${a}</span>`)}</li>`)}</ul>`}
      <h2>Child runs</h2>
      ${(children.data?.runs || []).length === 0 ? html`<p class="muted">None.</p>`
        : html`<ul>${children.data.runs.map((c) => html`<li><a href=${href(['runs', c.info.run_id])}>${c.info.run_name || c.info.run_id}</a> <${Status} value=${c.info.status} /></li>`)}</ul>`}
    </section>
  </div>`;
}

function Metrics({ run, route }) {
  const metrics = run.data.metrics || [];
  const keys = metrics.map((m) => m.key);
  const table = useAsync(() => api(tamga('runs/table'), { method: 'POST', body: {
    experiment_ids: [run.info.experiment_id], filter: `attributes.run_id = '${run.info.run_id}'`, run_view_type: 'ALL',
    columns: keys.flatMap((key) => ['last', 'min', 'max'].map((agg) => ({ kind: 'metric', key, agg }))), max_results: 1, count: false,
  } }), [run.info.run_id]);
  const sparks = useAsync(() => (keys.length ? api(tamga('metrics/sampled'), { query: { run_id: run.info.run_id, key: keys.slice(0, 200), points: 100 } }) : { series: [] }), [run.info.run_id]);
  const values = table.data?.rows?.[0]?.values || [];
  const chosen = route.query.key || keys[0];
  return html`<div>
    <${ErrorBox} error=${table.error || sparks.error} />
    <table class="grid" data-testid="metrics">
      <thead><tr><th>Metric</th><th>Last</th><th>Min</th><th>Max</th><th>Step</th><th>History</th></tr></thead>
      <tbody>${metrics.map((m, i) => {
        const s = (sparks.data?.series || []).find((x) => x.key === m.key);
        return html`<tr class=${m.key === chosen ? 'selected' : ''} onClick=${() => setQuery({ key: m.key })}>
          <th><a href=${href(['runs', run.info.run_id], { tab: 'metrics', key: m.key })}>${m.key}</a></th>
          <td class="num">${fmtNum(values[i * 3] ?? m.value)}</td><td class="num">${fmtNum(values[i * 3 + 1])}</td>
          <td class="num">${fmtNum(values[i * 3 + 2])}</td><td class="num">${m.step}</td>
          <td>${s ? html`<${Sparkline} x=${s.x} y=${s.y} />` : null}</td></tr>`;
      })}</tbody>
    </table>
    ${chosen ? html`<${MetricChartPanel} runs=${[{ run_id: run.info.run_id, label: run.info.run_name || run.info.run_id, start_time: run.info.start_time, status: run.info.status }]}
      keys=${[chosen]} query=${route.query} />` : null}
  </div>`;
}

function Environment({ run, tags }) {
  const env = Object.entries(tags).filter(([k]) => k.startsWith('tamga.env.') || k.startsWith('tamga.job.'))
    .sort(([a], [b]) => a.localeCompare(b));
  return html`<div>
    ${env.length === 0 ? html`<p class="muted">No environment was captured (runs started by <code>tamga jobs submit</code> record it).</p>` : html`
    <${KV} rows=${env.map(([k, v]) => [k.replace(/^tamga\./, ''), html`<span class="mono">${v}</span>`])} />
    <h2>Captured files</h2>
    <${ArtifactBrowser} runId=${run.info.run_id} path="tamga" embedded=${true} />`}
  </div>`;
}
