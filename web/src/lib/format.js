// Number, time and size formatting shared by the pages.
export function fmtNum(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string') return v; // "NaN", "Infinity" as the API sends them
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

const pad = (n) => String(n).padStart(2, '0');
export function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${i ? v.toFixed(1) : v} ${u[i]}`;
}

// Run ids start with their creation time, so their first characters are shared by every run of the same
// period: the short form shows the random end.
export function shortId(id) {
  const s = String(id || '');
  return s.length > 12 ? '…' + s.slice(-8) : s;
}

export function ago(ms) {
  if (!ms) return '';
  return fmtDuration(Date.now() - Number(ms)) + ' ago';
}
