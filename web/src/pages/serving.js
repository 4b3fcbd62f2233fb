// Serving (#/serving, #/serving/<deployment>): deployments, and for those served in-process which version
// answers, readiness, requests per second, p50/p99 latency and errors — read from the server's own
// /metrics every 5 s (rates and quantiles over the last window).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, tamga } from '../lib/api.js';
import { href } from '../lib/route.js';
import { fmtNum, fmtTime } from '../lib/format.js';
import { buckets, parseProm, quantile, sum } from '../lib/prom.js';
import { ErrorBox, KV, Loading, useAsync } from '../components/common.js';

const POLL_MS = 5000;

function useServingStats() {
  const [stats, setStats] = useState({});
  const prev = useRef(null);
  useEffect(() => {
    let live = true;
    const read = async () => {
      try {
        const res = await api('/metrics', { raw: true });
        const samples = parseProm(await res.text());
        const now = performance.now();
        const models = new Set(samples.filter((s) => s.name === 'tamga_serving_requests_total').map((s) => s.labels.model));
        const next = {};
        for (const m of models) {
          const total = sum(samples, 'tamga_serving_requests_total', { model: m });
          // outcomes: success, failure, error, rejected (overload) and invalid_input (the caller's mistake)
          const ok = sum(samples, 'tamga_serving_requests_total', { model: m, outcome: 'success' });
          const invalid = sum(samples, 'tamga_serving_requests_total', { model: m, outcome: 'invalid_input' });
          const b = buckets(samples, 'tamga_serving_latency_seconds', { model: m, phase: 'total' });
          const p = prev.current?.models[m];
          const dt = prev.current ? (now - prev.current.at) / 1000 : 0;
          next[m] = {
            total, errors: total - ok - invalid, invalid, buckets: b,
            qps: p && dt > 0 ? (total - p.total) / dt : null,
            p50: quantile(0.5, b, p?.buckets), p99: quantile(0.99, b, p?.buckets),
          };
        }
        prev.current = { at: now, models: next };
        if (live) setStats(next);
      } catch { /* metrics may be closed to this user: the table shows what the API gives */ }
    };
    read();
    const t = setInterval(read, POLL_MS);
    return () => { live = false; clearInterval(t); };
  }, []);
  return stats;
}

// The states of the served models (/v2/health/ready), or null.
const health = () => api('/v2/health/ready', { raw: true }).then((r) => r.json()).catch(() => null);

async function readiness(name, states) {
  // Asleep on purpose (snooze, docs/rollouts.md §8) is not a failure: the next request wakes it, and asking
  // for its metadata would not.
  if ((states?.models || []).some((m) => m.name === name && m.state === 'snoozed')) return { ready: false, snoozed: true };
  try {
    const meta = await api(`/v2/models/${encodeURIComponent(name)}`);
    const ready = await api(`/v2/models/${encodeURIComponent(name)}/ready`, { raw: true }).then((r) => r.ok, () => false);
    return { ready, versions: meta.versions || [] };
  } catch (e) {
    return { ready: false, error: e.message };
  }
}

function ReadyBadge({ serving }) {
  if (serving.ready) return html`<span class="badge st-finished">ready</span>`;
  if (serving.snoozed) return html`<span class="badge st-scheduled" title="idle: unloaded until the next request">snoozed</span>`;
  return html`<span class="badge st-failed" title=${serving.error || ''}>not ready</span>`;
}

export function ServingPage() {
  const list = useAsync(async () => {
    const r = await api(tamga('deployments'));
    const ds = r.deployments || [];
    const states = ds.some((d) => d.spec?.target === 'local') ? await health() : null;
    const local = await Promise.all(ds.map((d) => ((d.spec?.target === 'local') ? readiness(d.name, states) : null)));
    return ds.map((d, i) => ({ ...d, serving: local[i] }));
  }, []);
  const stats = useServingStats();
  return html`<div class="page">
    <div class="page-head"><h1>Serving</h1><span class="muted">Deployments follow a registry alias; <code>target: local</code> ones are served by this server.</span></div>
    <${ErrorBox} error=${list.error} />
    ${!list.data ? html`<${Loading} />` : null}
    <table class="grid" data-testid="deployments"><thead><tr><th>Deployment</th><th>Model</th><th>Follows</th><th>Target</th><th>Answering version</th><th>Ready</th><th>QPS</th><th>p50</th><th>p99</th><th>Errors</th></tr></thead>
      <tbody>${(list.data || []).map((d) => {
        const s = stats[d.name];
        return html`<tr><td><a href=${href(['serving', d.name])}>${d.name}</a></td>
          <td><a href=${href(['models', d.model_name])}>${d.model_name}</a></td>
          <td>${d.spec?.alias ? '@' + d.spec.alias : d.spec?.version ? 'v' + d.spec.version : ''}</td>
          <td>${d.spec?.target || 'kubernetes'}</td>
          <td>${d.serving ? (d.serving.versions || []).map((v) => 'v' + v).join(', ') : (d.rendered_version ? 'v' + d.rendered_version + ' (rendered)' : '')}</td>
          <td>${d.serving ? html`<${ReadyBadge} serving=${d.serving} />` : '—'}</td>
          <td class="num">${s?.qps === null || s?.qps === undefined ? '' : fmtNum(Number(s.qps.toFixed(2)))}</td>
          <td class="num">${s?.p50 ? fmtNum(Number((s.p50 * 1000).toFixed(2))) + ' ms' : ''}</td>
          <td class="num">${s?.p99 ? fmtNum(Number((s.p99 * 1000).toFixed(2))) + ' ms' : ''}</td>
          <td class="num" title=${s ? `${s.invalid} refused as invalid input` : ''}>${s ? s.errors : ''}</td></tr>`;
      })}</tbody></table>
    ${list.data && list.data.length === 0 ? html`<div class="empty">No deployments. Create one with <code>tamga deploy apply -f spec.json</code>.</div>` : null}
  </div>`;
}

// Each variant of a local deployment with a traffic policy or a rollout: its version, share and state, from
// readiness (/v2/health/ready lists them).
function Variants({ name }) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    let live = true;
    const read = () => api('/v2/health/ready', { raw: true }).then((r) => r.json()).then((j) => {
      const m = (j.models || []).find((x) => x.name === name);
      if (live) setRows(m ? { traffic: m.traffic, variants: m.variants || [] } : null);
    }).catch(() => {});
    read();
    const t = setInterval(read, 2000);
    return () => { live = false; clearInterval(t); };
  }, [name]);
  if (!rows || rows.variants.length === 0) return null;
  const total = rows.variants.filter((v) => !v.shadow && v.state === 'available').reduce((a, v) => a + v.weight, 0);
  return html`<h2>Traffic${rows.traffic ? ' (' + rows.traffic + ')' : ''}</h2>
    <table class="grid compact" data-testid="variants"><thead><tr><th>Variant</th><th>Version</th><th>Share</th><th>State</th></tr></thead>
      <tbody>${rows.variants.map((v) => html`<tr><td>${v.name}</td><td>${v.version ? 'v' + v.version : ''}</td>
        <td>${v.shadow ? 'shadow' : total > 0 && v.state === 'available' ? Math.round((100 * v.weight) / total) + '%' : '0%'}</td>
        <td>${v.state}${v.error ? ': ' + v.error : ''}</td></tr>`)}</tbody></table>`;
}

// The progressive rollout (docs/rollouts.md §3): versions, stage, the candidate's window, the decisions, and
// the manual controls.
function Rollout({ name }) {
  const [st, setSt] = useState(null);
  const [error, setError] = useState(null);
  const read = () => api(tamga(`deployments/${encodeURIComponent(name)}/rollout`)).then(setSt, setError);
  useEffect(() => {
    read();
    const t = setInterval(read, 2000);
    return () => clearInterval(t);
  }, [name]);
  const act = (action) => api(tamga(`deployments/${encodeURIComponent(name)}/rollout/${action}`), { method: 'POST', body: {} })
    .then(setSt, setError);
  if (!st) return html`<h2>Rollout</h2><${ErrorBox} error=${error} />`;
  const w = st.window;
  return html`<h2>Rollout</h2><${ErrorBox} error=${error} />
    <div data-testid="rollout">
    <${KV} rows=${[
      ['State', html`<span class="badge ${st.state === 'stable' ? 'st-finished' : 'st-running'}" data-testid="rollout-state">${st.state}</span>`],
      ['Stable version', 'v' + st.stable_version],
      st.candidate_version && ['Candidate', `v${st.candidate_version}: ${st.stage}`],
      w && ['Window', `${st.stage_seconds} s, ${w.requests} requests, ${w.failures} failures, p99 ≤ ${fmtNum(Number(w.p99_ms.toFixed(2)))} ms, shadow agree/disagree/failed ${w.shadow_agree}/${w.shadow_disagree}/${w.shadow_failed}`],
    ]} />
    ${st.candidate_version ? html`<div class="actions">
      ${st.state === 'paused' ? html`<button onClick=${() => act('resume')} data-action="resume">Resume</button>` : html`<button onClick=${() => act('pause')} data-action="pause">Pause</button>`}
      <button class="primary" onClick=${() => act('promote')} data-action="promote">Promote</button>
      <button class="danger" onClick=${() => act('abort')} data-action="abort">Roll back</button></div>` : null}
    <ul class="history" data-testid="rollout-history">${(st.history || []).slice().reverse().map((h) => html`<li class="mono">${h}</li>`)}</ul>
    </div>`;
}

// Outliers and drift (docs/rollouts.md §7): per served version, whether it has reference statistics, the
// share of outlier rows, the drift windows, and the last window's PSI and KS per feature.
function Monitoring({ name }) {
  const [m, setM] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    const read = () => api(tamga(`deployments/${encodeURIComponent(name)}/monitoring`)).then((r) => live && setM(r), (e) => live && setError(e));
    read();
    const t = setInterval(read, POLL_MS);
    return () => { live = false; clearInterval(t); };
  }, [name]);
  if (!m) return html`<h2>Outliers and drift</h2><${ErrorBox} error=${error} />`;
  const pct = (a, b) => (b > 0 ? (100 * a / b).toFixed(2) + '%' : '—');
  return html`<h2>Outliers and drift</h2>
    <div data-testid="monitoring">${m.variants.map((v) => html`<div>
      <${KV} rows=${[
        ['Version', (v.version ? 'v' + v.version : 'not loaded') + (m.variants.length > 1 ? ` (${v.variant})` : '')],
        ['Reference statistics', v.reference_stats ? 'yes' : html`<span class="muted">none: run <code>tamga models validate</code> on this version</span>`],
        ['Rows scored', `${fmtNum(v.rows_scored)}; outliers ${fmtNum(v.outlier_rows)} (${pct(v.outlier_rows, v.rows_scored)})`],
        ['Drift windows', html`<span data-testid="drift-windows">${v.drifted_windows} drifted of ${v.windows}</span> (${m.window_rows} rows each; ${v.window_fill} in the current one)`],
      ]} />
      ${v.last_window ? html`<table class="grid compact" data-testid="drift-features"><thead><tr><th>Feature</th><th class="num">PSI</th><th class="num">KS</th><th></th></tr></thead>
        <tbody>${v.last_window.features.map((f) => html`<tr class=${f.drifted ? 'drifted' : ''}><td>${f.name}</td>
          <td class="num">${f.psi.toFixed(3)}</td><td class="num">${f.ks.toFixed(3)}</td>
          <td>${f.drifted ? html`<span class="badge st-failed">drifted</span>` : ''}</td></tr>`)}</tbody></table>` : null}
    </div>`)}</div>`;
}

export function DeploymentPage({ name }) {
  const d = useAsync(() => api(tamga('deployments/' + encodeURIComponent(name))).then((r) => r.deployment), [name]);
  const files = useAsync(() => api(tamga(`deployments/${encodeURIComponent(name)}/files`)), [name]);
  const serving = useAsync(async () => (d.data?.spec?.target === 'local' ? readiness(name, await health()) : null),
    [name, d.data?.spec?.target]);
  const stats = useServingStats()[name];
  if (d.error) return html`<div class="page"><${ErrorBox} error=${d.error} /></div>`;
  if (!d.data) return html`<div class="page"><${Loading} /></div>`;
  const dep = d.data;
  return html`<div class="page">
    <div class="crumbs"><a href="#/serving">Serving</a> ›</div>
    <div class="page-head"><h1>${dep.name}</h1></div>
    <${KV} rows=${[
      ['Model', html`<a href=${href(['models', dep.model_name])}>${dep.model_name}</a>`],
      ['Follows', dep.spec.alias ? '@' + dep.spec.alias : 'v' + (dep.spec.version || '')],
      ['Target', dep.spec.target || 'kubernetes'],
      ['Rendered version', dep.rendered_version ? 'v' + dep.rendered_version : 'not rendered yet'],
      ['Updated', fmtTime(dep.last_updated_timestamp)],
      dep.spec.target === 'local' && ['Serving', serving.data ? (serving.data.ready ? `ready, v${(serving.data.versions || []).join(', v')}`
        : serving.data.snoozed ? 'snoozed (idle; the next request wakes it)' : 'not ready ' + (serving.data.error || '')) : '…'],
      stats && ['Requests', `${stats.total} (${stats.errors} errors, ${stats.invalid} invalid inputs)`],
    ]} />
    ${dep.spec.rollout ? html`<${Rollout} name=${name} />` : null}
    ${dep.spec.target === 'local' ? html`<${Variants} name=${name} />` : null}
    ${dep.spec.monitoring ? html`<${Monitoring} name=${name} />` : null}
    <h2>Spec</h2><pre class="text">${JSON.stringify(dep.spec, null, 2)}</pre>
    <h2>GitOps commits</h2>
    <${ErrorBox} error=${files.error} />
    ${(files.data?.commits || []).length === 0 ? html`<p class="muted">No commits (the GitOps folder is not a git repository, or nothing was rendered yet).</p>`
      : html`<table class="grid compact" data-testid="gitops-commits"><thead><tr><th>When</th><th>Commit</th><th>Message</th></tr></thead>
        <tbody>${files.data.commits.map((c) => html`<tr><td>${fmtTime(c.timestamp)}</td><td class="mono">${c.commit.slice(0, 12)}</td><td>${c.message}</td></tr>`)}</tbody></table>`}
    <h2>Rendered manifests</h2>
    ${(files.data?.files || []).length === 0 ? html`<p class="muted">Nothing rendered yet.</p>` : null}
    ${(files.data?.files || []).map((f) => html`<h3 class="mono">${f.path}</h3><pre class="text" data-testid="manifest">${f.content}</pre>`)}
  </div>`;
}
