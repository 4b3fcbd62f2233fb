// Small shared pieces: errors, loading, tabs, status badges, a modal and a hook for async data.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.code ? html`<b>${error.code}</b> ` : null}${error.message || String(error)}</div>`;
}

export const Loading = () => html`<div class="loading-msg">Loading…</div>`;

// Runs fn() now and when deps change; keeps the last result while reloading. reload() runs it again.
export function useAsync(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    Promise.resolve().then(fn).then(
      (data) => { if (n === seq.current) setState({ data, error: null, loading: false }); },
      (error) => { if (n === seq.current) setState((s) => ({ data: s.data, error, loading: false })); },
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export function Tabs({ tabs, active, onSelect }) {
  return html`<div class="tabs" role="tablist">${tabs.map(([id, label]) => html`
    <button role="tab" class=${id === active ? 'active' : ''} aria-selected=${id === active}
      onClick=${() => onSelect(id)} data-tab=${id}>${label}</button>`)}</div>`;
}

export function Status({ value }) {
  const v = String(value || '').toUpperCase();
  return html`<span class=${'badge st-' + v.toLowerCase()}>${v}</span>`;
}

export function Modal({ title, onClose, children }) {
  useEffect(() => {
    const k = (e) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [onClose]);
  return html`<div class="modal-bg" onClick=${(e) => { if (e.target === e.currentTarget) onClose(); }}>
    <div class="modal" role="dialog" aria-label=${title}>
      <div class="modal-title">${title}<button class="x" onClick=${onClose} aria-label="Close">×</button></div>
      ${children}
    </div>
  </div>`;
}

// Copy-free key/value table.
export function KV({ rows }) {
  return html`<table class="kv"><tbody>${rows.filter(Boolean).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}
