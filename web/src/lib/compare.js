// Compare-page helpers (pure; unit-tested): the union of params and metrics over runs, whether a row
// differs, and axis scales for numeric or categorical values.

export function compareColumns(runs) {
  const params = new Set();
  const metrics = new Set();
  for (const r of runs) {
    for (const p of r.data.params || []) params.add(p.key);
    for (const m of r.data.metrics || []) metrics.add(m.key);
  }
  const paramRows = {};
  const metricRows = {};
  for (const k of params) paramRows[k] = runs.map((r) => (r.data.params || []).find((p) => p.key === k)?.value);
  for (const k of metrics) metricRows[k] = runs.map((r) => (r.data.metrics || []).find((m) => m.key === k)?.value);
  return { params: [...params].sort(), metrics: [...metrics].sort(), paramRows, metricRows };
}

export function differs(values) {
  return values.some((v) => v !== values[0]);
}

// pos(v) in [0, 1] (null when missing) and label(t) for the axis ends. Values that all parse as numbers are
// placed linearly; otherwise each distinct value gets an evenly spaced slot (sorted).
export function axisScale(values) {
  const present = values.filter((v) => v !== undefined && v !== null && v !== '');
  const nums = present.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (present.length && nums.every((n) => Number.isFinite(n))) {
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    return {
      pos: (v) => (v === undefined || v === null || v === '' ? null : hi === lo ? 0.5 : (Number(v) - lo) / (hi - lo)),
      label: (t) => String(Number((t ? hi : lo).toPrecision(4))),
    };
  }
  const cats = [...new Set(present.map(String))].sort();
  return {
    pos: (v) => (v === undefined || v === null || v === '' ? null : cats.length < 2 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1)),
    label: (t) => (cats.length ? (t ? cats[cats.length - 1] : cats[0]).slice(0, 16) : ''),
  };
}
