// Jobs and GPUs (#/jobs?tab=jobs|queues|agents&queue=&state=, #/jobs/<id>): queues with depth and the age of
// their oldest waiting job, agents with each GPU's memory, utilisation, temperature and the job holding it,
// the jobs list with state and reason, a job's live log (long-poll), abort, re-enqueue and submit.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, tamga } from '../lib/api.js';
import { href, navigate, setQuery } from '../lib/route.js';
import { ago, fmtBytes, fmtDuration, fmtTime, shortId } from '../lib/format.js';
import { shellQuote, splitArgs } from '../lib/args.js';
import { ErrorBox, KV, Loading, Modal, Status, Tabs, useAsync } from '../components/common.js';

const REFRESH_MS = 5000;

function useTicker(ms) {
  const [n, setN] = useState(0);
  useEffect(() => { const t = setInterval(() => setN((x) => x + 1), ms); return () => clearInterval(t); }, [ms]);
  return n;
}

// A copy of a job's spec to submit again (the server redacts secret env values in what it shows: those
// are left out, so the new job fails loudly rather than running with "***").
export function resubmitSpec(spec) {
  const s = JSON.parse(JSON.stringify(spec));
  if (s.env) for (const [k, v] of Object.entries(s.env)) if (v === '***') delete s.env[k];
  delete s.id;
  return s;
}

export function JobsPage({ route }) {
  const tab = route.query.tab || 'jobs';
  const tick = useTicker(REFRESH_MS);
  const queues = useAsync(() => api(tamga('queues')), [tick]);
  const agents = useAsync(() => api(tamga('agents')), [tick]);
  const jobs = useAsync(() => api(tamga('jobs'), { query: { queue: route.query.queue, state: route.query.state, max_results: 500 } }), [tick, route.query.queue, route.query.state]);
  const queued = useAsync(() => api(tamga('jobs'), { query: { state: 'queued', max_results: 10000 } }), [tick]);
  const [submitting, setSubmitting] = useState(false);
  const oldest = {};
  for (const j of queued.data?.jobs || []) oldest[j.queue] = Math.min(oldest[j.queue] ?? Infinity, j.created_ms);
  const agentsOf = Object.fromEntries((queues.data?.queues || []).map((q) => [q.name, q.agents]));
  const holder = {};
  for (const j of jobs.data?.jobs || []) if (j.state === 'running') for (const u of j.gpu_uuids || []) holder[u] = j.id;
  return html`<div class="page">
    <div class="page-head"><h1>Jobs & GPUs</h1><button class="primary" onClick=${() => setSubmitting(true)}>Submit job</button></div>
    <${ErrorBox} error=${queues.error || agents.error || jobs.error} />
    <${Tabs} tabs=${[['jobs', 'Jobs'], ['queues', `Queues (${(queues.data?.queues || []).length})`], ['agents', `Agents (${(agents.data?.agents || []).length})`]]}
      active=${tab} onSelect=${(t) => setQuery({ tab: t === 'jobs' ? '' : t })} />
    ${tab === 'queues' ? html`<table class="grid" data-testid="queues"><thead><tr><th>Queue</th><th>Strategy</th><th>Max concurrency</th><th>Queued</th><th>Running</th><th>Agents</th><th>Oldest waiting</th></tr></thead>
      <tbody>${(queues.data?.queues || []).map((q) => html`<tr><td><a href=${href(['jobs'], { queue: q.name })}>${q.name}</a></td><td>${q.strategy}</td>
        <td>${q.max_concurrency || '∞'}</td><td class="num">${q.queued}</td><td class="num">${q.running}</td><td class="num">${q.agents}</td>
        <td>${oldest[q.name] ? fmtDuration(Date.now() - oldest[q.name]) : ''}</td></tr>`)}</tbody></table>` : null}
    ${tab === 'agents' ? html`<div data-testid="agents">${(agents.data?.agents || []).map((a) => html`<div class="card">
      <div class="card-head"><b>${a.report?.name || a.id}</b> <span class=${'badge ' + (a.live ? 'st-running' : 'st-failed')}>${a.live ? 'live' : 'lost'}</span>
        <span class="muted">seen ${ago(a.last_seen_ms)} · queues ${(a.report?.queues || []).join(', ')} · ${a.report?.cpus || '?'} CPUs · ${fmtBytes(a.report?.memory_bytes)}</span></div>
      ${a.report?.gpu_error ? html`<div class="error">${a.report.gpu_error}</div>` : null}
      ${(a.report?.gpus || []).length ? html`<table class="grid compact"><thead><tr><th>GPU</th><th>Model</th><th>Memory</th><th>Utilisation</th><th>Temperature</th><th>Power</th><th>Job</th><th>Health</th></tr></thead>
        <tbody>${a.report.gpus.map((g) => html`<tr><td>${g.index}</td><td>${g.name}</td>
          <td><div class="bar"><i style=${`width:${g.total_bytes ? (100 * g.used_bytes) / g.total_bytes : 0}%`}></i></div>${fmtBytes(g.used_bytes)} / ${fmtBytes(g.total_bytes)}</td>
          <td>${g.utilization_gpu}%</td><td>${g.temperature_c} °C</td><td>${Math.round(g.power_watts || 0)} W</td>
          <td>${holder[g.uuid] ? html`<a href=${href(['jobs', holder[g.uuid]])}>${holder[g.uuid]}</a>` : html`<span class="muted">free</span>`}</td>
          <td>${g.healthy === false ? html`<span class="badge st-failed" title=${g.health_reason}>unhealthy</span>` : 'ok'}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">${a.report?.gpus_enabled === false ? 'GPUs off on this agent.' : 'No GPUs.'}</p>`}
    </div>`)}${(agents.data?.agents || []).length === 0 ? html`<div class="empty">No agents. Start one with <code>tamga agent --queue NAME</code>.</div>` : null}</div>` : null}
    ${tab === 'jobs' ? html`<div>
      <div class="filter-bar">
        <select value=${route.query.queue || ''} onChange=${(e) => setQuery({ queue: e.target.value })} aria-label="Queue">
          <option value="">All queues</option>${(queues.data?.queues || []).map((q) => html`<option value=${q.name}>${q.name}</option>`)}</select>
        <select value=${route.query.state || ''} onChange=${(e) => setQuery({ state: e.target.value })} aria-label="State">
          <option value="">Any state</option>${['queued', 'running', 'succeeded', 'failed', 'aborted', 'lost'].map((s) => html`<option value=${s}>${s}</option>`)}</select>
      </div>
      <table class="grid" data-testid="jobs"><thead><tr><th>Job</th><th>Queue</th><th>State</th><th>Reason / waiting for</th><th>Run</th><th>Agent</th><th>Created</th><th>Duration</th></tr></thead>
        <tbody>${(jobs.data?.jobs || []).map((j) => html`<tr><td><a href=${href(['jobs', j.id])}>${j.id}</a></td><td>${j.queue}</td><td><${Status} value=${j.state} /></td>
          <td class="ellipsis">${j.waiting_for || j.reason || (j.state === 'queued' && agentsOf[j.queue] === 0 ? `no agent serves queue ${j.queue}` : '')}</td>
          <td>${j.run_id ? html`<a href=${href(['runs', j.run_id])}>${shortId(j.run_id)}</a>` : ''}</td>
          <td>${j.agent_id || ''}</td><td>${fmtTime(j.created_ms)}</td><td>${j.started_ms ? fmtDuration((j.ended_ms || Date.now()) - j.started_ms) : ''}</td></tr>`)}</tbody></table>
      ${jobs.data && (jobs.data.jobs || []).length === 0 ? html`<div class="empty">No jobs.</div>` : null}</div>` : null}
    ${submitting ? html`<${SubmitDialog} queues=${queues.data?.queues || []} onClose=${() => setSubmitting(false)} />` : null}
  </div>`;
}

function SubmitDialog({ queues, onClose, initial }) {
  const [queue, setQueue] = useState(initial?.queue || queues[0]?.name || '');
  const [command, setCommand] = useState('');
  const [gpus, setGpus] = useState('0');
  const [experiment, setExperiment] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const spec = { queue, command: splitArgs(command) };
      if (Number(gpus) > 0) spec.resources = { gpus: Number(gpus) };
      if (experiment.trim()) spec.experiment_id = experiment.trim();
      const r = await api(tamga('jobs'), { method: 'POST', body: spec });
      onClose();
      navigate(['jobs', r.job.id]);
    } catch (err) { setError(err); }
  };
  return html`<${Modal} title="Submit a job" onClose=${onClose}><form onSubmit=${submit}>
    ${queues.length === 0 ? html`<div class="error">No queues yet: an admin creates one with <code>tamga queues create NAME</code>, and <code>tamga agent --queue NAME</code> serves it.</div>` : null}
    <label>Queue <select value=${queue} onChange=${(e) => setQueue(e.target.value)} name="queue">${queues.map((q) => html`<option value=${q.name}>${q.name}</option>`)}</select></label>
    <label>Command <input value=${command} onInput=${(e) => setCommand(e.target.value)} placeholder="python3 train.py --lr 0.01" name="command" /></label>
    <label>GPUs <input type="number" min="0" max="64" value=${gpus} onInput=${(e) => setGpus(e.target.value)} name="gpus" /></label>
    <label>Experiment ID (optional) <input value=${experiment} onInput=${(e) => setExperiment(e.target.value)} name="experiment" /></label>
    <p class="muted">For code from git or your laptop, use <code>tamga jobs submit</code> (docs/jobs.md).</p>
    <${ErrorBox} error=${error} />
    <div class="modal-actions"><button type="button" onClick=${onClose}>Cancel</button><button class="primary" disabled=${!queue || !command.trim()}>Submit</button></div>
  </form><//>`;
}

export function JobPage({ jobId }) {
  const tick = useTicker(REFRESH_MS);
  const job = useAsync(() => api(tamga('jobs/' + encodeURIComponent(jobId))).then((r) => r.job), [jobId, tick]);
  const [error, setError] = useState(null);
  if (job.error && !job.data) return html`<div class="page"><${ErrorBox} error=${job.error} /></div>`;
  if (!job.data) return html`<div class="page"><${Loading} /></div>`;
  const j = job.data;
  const active = j.state === 'queued' || j.state === 'running';
  const abort = async () => {
    if (!confirm(`Abort job ${j.id}?`)) return;
    setError(null);
    try { await api(tamga(`jobs/${encodeURIComponent(j.id)}/abort`), { method: 'POST', body: {} }); job.reload(); } catch (e) { setError(e); }
  };
  const requeue = async () => {
    setError(null);
    try {
      const r = await api(tamga('jobs'), { method: 'POST', body: resubmitSpec(j.spec) });
      navigate(['jobs', r.job.id]);
    } catch (e) { setError(e); }
  };
  return html`<div class="page">
    <div class="crumbs"><a href="#/jobs">Jobs</a> ›</div>
    <div class="page-head"><h1 data-testid="job-id">${j.id}</h1><${Status} value=${j.state} />
      ${active ? html`<button class="danger" onClick=${abort} data-action="abort">Abort</button>` : html`<button onClick=${requeue} data-action="requeue">Re-enqueue</button>`}</div>
    <${ErrorBox} error=${error} />
    <${KV} rows=${[
      ['Queue', j.queue], ['State', html`<${Status} value=${j.state} />`],
      (j.reason || j.waiting_for) && ['Reason', j.waiting_for || j.reason],
      ['Command', html`<span class="mono">${shellQuote(j.spec?.command)}</span>`],
      j.run_id && ['Run', html`<a href=${href(['runs', j.run_id])}>${j.run_id}</a>`],
      j.agent_id && ['Agent', j.agent_id], (j.gpu_uuids || []).length && ['GPUs', j.gpu_uuids.join(', ')],
      ['Created', fmtTime(j.created_ms)], j.started_ms && ['Started', fmtTime(j.started_ms)], j.ended_ms && ['Ended', fmtTime(j.ended_ms)],
      j.exit_code !== undefined && j.exit_code !== null && ['Exit code', String(j.exit_code)], ['Attempts', String(j.attempts ?? '')],
    ]} />
    <h2>Log</h2>
    <${JobLog} jobId=${j.id} />
  </div>`;
}

// The job's output as it is written: long-polls GET /jobs/<id>/logs?after=N&wait_ms=25000 until done.
export function JobLog({ jobId }) {
  const [text, setText] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState(null);
  const box = useRef(null);
  useEffect(() => {
    let live = true;
    let after = 0;
    let acc = '';
    const ctl = new AbortController();
    (async () => {
      while (live) {
        try {
          const page = await api(tamga(`jobs/${encodeURIComponent(jobId)}/logs`), { query: { after, wait_ms: 25000 }, signal: ctl.signal });
          for (const c of page.chunks || []) acc += c.data;
          if (acc.length > 2_000_000) acc = '[… earlier output cut …]\n' + acc.slice(-1_000_000);
          after = page.next_after;
          if (!live) return;
          setText(acc);
          if (page.done) { setDone(true); return; }
        } catch (e) {
          if (!live) return;
          setError(e);
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    })();
    return () => { live = false; ctl.abort(); };
  }, [jobId]);
  useEffect(() => { const el = box.current; if (el) el.scrollTop = el.scrollHeight; }, [text]);
  return html`<div>
    <${ErrorBox} error=${error} />
    <pre class="log" ref=${box} data-testid="job-log">${text || (done ? '(no output)' : 'Waiting for output…')}</pre>
    ${done ? html`<div class="muted">End of log.</div>` : html`<div class="muted">Live…</div>`}
  </div>`;
}
