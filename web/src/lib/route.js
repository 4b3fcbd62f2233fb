// URL state: the UI routes on the #fragment ("#/experiments/1/runs?filter=..."), so every view is a link
// that opens the same view, the server needs no per-page route, and a sign-in redirect keeps the view.
import { useEffect, useState } from 'preact/hooks';

export function parseHash(hash) {
  let h = (hash || '').replace(/^#/, '');
  if (!h.startsWith('/')) h = '/' + h;
  const q = h.indexOf('?');
  const path = q >= 0 ? h.slice(0, q) : h;
  const query = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(q + 1))) query[k] = v;
  }
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return { path: '/' + parts.map(encodeURIComponent).join('/'), parts, query };
}

// Empty values are left out, so defaults do not clutter links.
export function formatHash(parts, query = {}) {
  const path = '/' + (Array.isArray(parts) ? parts.map((p) => encodeURIComponent(p)).join('/') : String(parts).replace(/^\//, ''));
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    qs.set(k, v === true ? '1' : String(v));
  }
  const s = qs.toString();
  return '#' + path + (s ? '?' + s : '');
}

// Lists inside one query value: items percent-encoded, joined by commas (a key may hold a comma).
export const encodeList = (items) => items.map((i) => encodeURIComponent(i)).join(',');
export function decodeList(s) {
  if (!s) return [];
  return s.split(',').filter(Boolean).map((i) => {
    try { return decodeURIComponent(i); } catch { return i; }
  });
}

export function currentRoute() {
  return parseHash(typeof location === 'undefined' ? '' : location.hash);
}

export function navigate(parts, query = {}, { replace = false } = {}) {
  const h = formatHash(parts, query);
  if (replace) {
    history.replaceState(null, '', h);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = h;
  }
}

// Merges `patch` into the current query: a new history entry (Back returns to the previous view), or with
// replace, the same one (sliders and other continuous input).
export function setQuery(patch, { replace = false } = {}) {
  const r = currentRoute();
  navigate(r.parts, { ...r.query, ...patch }, { replace });
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (parts, query) => formatHash(parts, query);
