// Client-side series helpers: smoothing (an exponential moving average with TensorBoard's debiasing, so the
// first points are not pulled toward zero) and M4 downsampling (the same method the server uses, for series
// the browser already holds, e.g. merging a live tail into a sampled history).

export function smooth(ys, weight) {
  if (!(weight > 0)) return ys.slice();
  const w = Math.min(weight, 0.999);
  const out = new Array(ys.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) { out[i] = y; continue; }
    last = last * w + (1 - w) * y;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

// xs ascending. Returns {x, y} with at most 4 points per bucket: first, min, max, last.
export function m4(xs, ys, maxPoints) {
  const n = xs.length;
  if (n <= maxPoints || maxPoints < 4) return { x: xs.slice(), y: ys.slice() };
  const buckets = Math.floor(maxPoints / 4);
  const lo = xs[0];
  const hi = xs[n - 1];
  const width = (hi - lo) / buckets;
  const ox = [];
  const oy = [];
  let i = 0;
  while (i < n) {
    const k = width > 0 ? Math.min(buckets - 1, Math.floor((xs[i] - lo) / width)) : 0;
    let j = i;
    let mi = i;
    let ma = i;
    while (j < n && (width > 0 ? Math.min(buckets - 1, Math.floor((xs[j] - lo) / width)) : 0) === k) {
      if (ys[j] < ys[mi]) mi = j;
      if (ys[j] > ys[ma]) ma = j;
      j++;
    }
    const idx = [...new Set([i, mi, ma, j - 1])].sort((a, b) => a - b);
    for (const t of idx) { ox.push(xs[t]); oy.push(ys[t]); }
    i = j;
  }
  return { x: ox, y: oy };
}

// Appends points after the last x of a series (live updates), keeping xs ascending.
export function appendTail(series, xs, ys) {
  const last = series.x.length ? series.x[series.x.length - 1] : -Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] > last) { series.x.push(xs[i]); series.y.push(ys[i]); }
  }
  return series;
}
