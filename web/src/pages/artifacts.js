// Artifact browser: a lazily loaded tree and a preview that never reads a whole large file — text, JSON,
// YAML and CSV previews fetch the first bytes with an HTTP Range request; images load as images; an MLmodel
// shows its flavors and signature. Every file has a download link.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, mlflow } from '../lib/api.js';
import { setQuery } from '../lib/route.js';
import { fmtBytes } from '../lib/format.js';
import { ErrorBox, Loading, useAsync } from '../components/common.js';
import { parseCsvPreview, parseMlmodel, previewKind } from '../lib/preview.js';

export const TEXT_PREVIEW_BYTES = 1 << 20;
const CSV_PREVIEW_BYTES = 256 << 10;

const downloadUrl = (runId, path) => `/get-artifact?run_id=${encodeURIComponent(runId)}&path=${encodeURIComponent(path)}`;

function Dir({ runId, path, depth, selected, onSelect, open: startOpen }) {
  const [open, setOpen] = useState(startOpen);
  const list = useAsync(() => (open ? api(mlflow('artifacts/list'), { query: { run_id: runId, path: path || undefined } }) : null), [runId, path, open]);
  const files = list.data?.files || [];
  return html`<div>
    ${path ? html`<div class="tree-row" style=${`padding-left:${depth * 14}px`} onClick=${() => setOpen(!open)}>
      <span class="caret">${open ? '▾' : '▸'}</span><b>${path.split('/').pop()}/</b></div>` : null}
    ${open ? html`<div>
      ${list.error ? html`<${ErrorBox} error=${list.error} />` : null}
      ${files.map((f) => (f.is_dir
        ? html`<${Dir} key=${f.path} runId=${runId} path=${f.path} depth=${depth + 1} selected=${selected} onSelect=${onSelect}
            open=${selected.startsWith(f.path + '/')} />`
        : html`<div key=${f.path} class=${'tree-row file' + (selected === f.path ? ' selected' : '')}
            style=${`padding-left:${(depth + 1) * 14 + 12}px`} onClick=${() => onSelect(f.path)} data-path=${f.path}>
            ${f.path.split('/').pop()} <span class="muted">${fmtBytes(f.file_size)}</span></div>`))}
      ${list.data && files.length === 0 && !path ? html`<div class="muted">No artifacts.</div>` : null}
    </div>` : null}
  </div>`;
}

export function ArtifactBrowser({ runId, path, embedded = false }) {
  const [local, setLocal] = useState(embedded ? '' : null);
  const selected = embedded ? local : path;
  const select = (p) => (embedded ? setLocal(p) : setQuery({ path: p }));
  return html`<div class="artifacts" data-testid="artifacts">
    <div class="tree">
      ${embedded ? html`<${Dir} runId=${runId} path=${path} depth=${0} selected=${selected || ''} onSelect=${select} open=${true} />`
        : html`<${Dir} runId=${runId} path="" depth=${0} selected=${selected || ''} onSelect=${select} open=${true} />`}
    </div>
    <div class="preview">${selected ? html`<${Preview} key=${selected} runId=${runId} path=${selected} />` : html`<p class="muted">Select a file to preview it.</p>`}</div>
  </div>`;
}

async function fetchHead(runId, path, bytes) {
  const res = await api(downloadUrl(runId, path), { raw: true, headers: { Range: `bytes=0-${bytes - 1}` } });
  const total = Number((res.headers.get('Content-Range') || '').split('/')[1]) || Number(res.headers.get('Content-Length')) || 0;
  const buf = await res.arrayBuffer();
  // A server that ignored the range sent everything: keep only the head.
  const head = buf.byteLength > bytes ? buf.slice(0, bytes) : buf;
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(head), total, truncated: total > head.byteLength };
}

function Preview({ runId, path }) {
  const kind = previewKind(path);
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    setState({ loading: true });
    if (kind === 'image' || kind === 'binary') { setState({ loading: false }); return undefined; }
    fetchHead(runId, path, kind === 'csv' ? CSV_PREVIEW_BYTES : TEXT_PREVIEW_BYTES).then(
      (r) => live && setState({ loading: false, ...r }), (error) => live && setState({ loading: false, error }));
    return () => { live = false; };
  }, [runId, path]);
  const url = downloadUrl(runId, path);
  return html`<div>
    <div class="preview-head"><b class="mono">${path}</b> <a href=${url} download data-action="download">Download</a>
      ${state.total ? html` <span class="muted">${fmtBytes(state.total)}${state.truncated ? ' — showing the first ' + fmtBytes(kind === 'csv' ? CSV_PREVIEW_BYTES : TEXT_PREVIEW_BYTES) : ''}</span>` : null}</div>
    ${state.loading ? html`<${Loading} />` : null}
    <${ErrorBox} error=${state.error} />
    ${kind === 'image' ? html`<img class="img-preview" src=${url} alt=${path} />` : null}
    ${kind === 'binary' ? html`<p class="muted">No preview for this file type.</p>` : null}
    ${state.text !== undefined ? renderText(kind, state) : null}
  </div>`;
}

function renderText(kind, state) {
  if (kind === 'csv') {
    const t = parseCsvPreview(state.text, 100, state.truncated);
    return html`<div class="csv-wrap"><table class="grid compact" data-testid="csv-preview">
      <thead><tr>${t.header.map((h) => html`<th>${h}</th>`)}</tr></thead>
      <tbody>${t.rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>
      <div class="muted">First ${t.rows.length} rows.</div></div>`;
  }
  if (kind === 'mlmodel') {
    const m = parseMlmodel(state.text);
    return html`<div data-testid="mlmodel">
      ${m.flavors.length ? html`<p>Flavors: ${m.flavors.map((f) => html`<span class="chip">${f}</span>`)}</p>` : null}
      ${['inputs', 'outputs'].map((side) => (m.signature[side] ? html`<h3>Signature ${side}</h3>
        <table class="grid compact"><thead><tr><th>Name</th><th>Type</th><th>Shape</th></tr></thead>
        <tbody>${m.signature[side].map((c) => html`<tr><td>${c.name ?? ''}</td><td>${c.type ?? ''}${c['tensor-spec'] ? ' ' + c['tensor-spec'].dtype : ''}</td>
          <td>${c['tensor-spec'] ? JSON.stringify(c['tensor-spec'].shape) : ''}</td></tr>`)}</tbody></table>` : null))}
      <pre class="text">${state.text}</pre></div>`;
  }
  let text = state.text;
  if (kind === 'json' && !state.truncated) {
    try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
  }
  return html`<pre class="text" data-testid="text-preview">${text}</pre>`;
}
