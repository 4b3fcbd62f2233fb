// Calls to the server's API. Errors come back in MLflow's shape ({error_code, message}) and are thrown as
// ApiError; a 401 sends the browser to the sign-in page, which returns to the same view afterwards.
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export function loginUrl() {
  return '/login?return_to=' + encodeURIComponent('/' + (location.hash || ''));
}

function withQuery(path, query) {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else qs.append(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export async function api(path, { method = 'GET', query, body, signal, raw = false, headers = {} } = {}) {
  const h = { 'X-Requested-With': 'tamga-ui', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  const res = await fetch(withQuery(path, query), {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal,
    credentials: 'same-origin',
  });
  if (res.status === 401 && !path.endsWith('/session')) {
    location.assign(loginUrl());
    throw new ApiError(401, 'UNAUTHENTICATED', 'Signing in…');
  }
  if (raw) {
    if (!res.ok && res.status !== 206) throw new ApiError(res.status, 'HTTP_' + res.status, await res.text());
    return res;
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : {}; } catch { /* not JSON */ }
  if (!res.ok) {
    throw new ApiError(res.status, json?.error_code, json?.message || text.slice(0, 300) || res.statusText);
  }
  return json ?? {};
}

// Who is signed in. {auth: false} when the server runs without authentication.
export async function loadSession() {
  const res = await fetch('/api/2.0/tamga/session', { credentials: 'same-origin', headers: { 'X-Requested-With': 'tamga-ui' } });
  if (res.status === 404) return { auth: false, username: null, is_admin: true };
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(res.status, 'SESSION', await res.text());
  const s = await res.json();
  if (s.auth === false) return { auth: false, username: null, is_admin: true };
  csrfToken = s.csrf_token || null;
  return { auth: true, ...s };
}

export async function logout() {
  await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrfToken || '' }, credentials: 'same-origin' });
  location.assign('/login');
}

export const mlflow = (p) => '/api/2.0/mlflow/' + p;
export const tamga = (p) => '/api/2.0/tamga/' + p;
