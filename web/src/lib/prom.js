// Reads Prometheus text (GET /metrics) for the serving page: samples by name and labels, request rates from
// two readings, and latency quantiles from histogram buckets (linear within a bucket, as PromQL's
// histogram_quantile does). Pure; unit-tested.

export function parseProm(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /(\w+)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3]))) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export function sum(samples, name, match) {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

// Cumulative buckets {le -> count} summed over the matching series; `prev` (an earlier reading) is subtracted
// so the quantile covers the window between the two readings.
export function buckets(samples, name, match) {
  const b = new Map();
  for (const x of samples) {
    if (x.name !== name + '_bucket') continue;
    if (!Object.entries(match).every(([k, v]) => x.labels[k] === v)) continue;
    const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
    b.set(le, (b.get(le) || 0) + x.value);
  }
  return b;
}

export function quantile(q, cur, prev) {
  const les = [...cur.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => cur.get(le) - (prev?.get(le) || 0));
  const total = counts[counts.length - 1] || 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      const lo = i === 0 ? 0 : les[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      if (les[i] === Infinity) return lo;
      const inBucket = counts[i] - below;
      return inBucket <= 0 ? les[i] : lo + ((les[i] - lo) * (rank - below)) / inBucket;
    }
  }
  return les[les.length - 2] ?? null;
}
