// Builds MLflow search-filter text (the grammar of runs/search; docs/mlflow-compatibility.md) from clicks:
// a column and a value become `metrics.loss < 0.5`, `params.lr = '0.01'`, `tags.\`my key\` = 'x'`.
// The search box holds the text, so a click-built filter can be edited by hand and the other way round.

const IDENT = /^[A-Za-z_][A-Za-z0-9_.]*$/;

// Keys that are not plain identifiers are back-quoted (a back-quote inside is doubled).
export function quoteKey(key) {
  return IDENT.test(key) && !key.endsWith('.') ? key : '`' + key.replaceAll('`', '``') + '`';
}

// String values in single quotes, a single quote inside doubled.
export function quoteString(v) {
  return "'" + String(v).replaceAll("'", "''") + "'";
}

const PREFIX = { metric: 'metrics', param: 'params', tag: 'tags', attribute: 'attributes' };

export function columnRef(col) {
  return `${PREFIX[col.kind]}.${quoteKey(col.key)}`;
}

const NUMERIC_ATTRS = new Set(['start_time', 'end_time']);

// One comparison; `op` one of = != < <= > >= LIKE ILIKE. Metrics (and time attributes) compare as numbers.
export function clause(col, op, value) {
  if (col.kind === 'metric' && col.agg && col.agg !== 'last') {
    throw new Error('filters apply to the latest value of a metric');
  }
  const numeric = col.kind === 'metric' || (col.kind === 'attribute' && NUMERIC_ATTRS.has(col.key));
  let v;
  if (numeric) {
    const n = Number(value);
    if (value === '' || value === null || !Number.isFinite(n)) throw new Error(`'${value}' is not a number`);
    v = String(n);
  } else {
    v = quoteString(value ?? '');
  }
  return `${columnRef(col)} ${op} ${v}`;
}

// Adds a clause to a filter with AND, unless the exact clause is already there.
export function addClause(filter, c) {
  const f = (filter || '').trim();
  if (!f) return c;
  if (splitClauses(f).includes(c)) return f;
  return `${f} AND ${c}`;
}

// Splits on AND outside quotes (for showing clauses as removable chips).
export function splitClauses(filter) {
  const out = [];
  let cur = '';
  let quote = null;
  const s = filter || '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      cur += ch;
      if (ch === quote) {
        if (s[i + 1] === quote) { cur += s[++i]; } else quote = null;
      }
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') { quote = ch; cur += ch; continue; }
    if (/\s/.test(ch) && /^and\s/i.test(s.slice(i + 1, i + 5)) && cur.trim()) {
      out.push(cur.trim());
      cur = '';
      i += 4;
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function removeClause(filter, c) {
  return splitClauses(filter).filter((x) => x !== c).join(' AND ');
}

// Column specs in the URL: "m:min:loss", "p:lr", "t:mlflow.user", "a:status" (the key last: it may hold ':').
const KIND = { m: 'metric', p: 'param', t: 'tag', a: 'attribute' };
const CODE = { metric: 'm', param: 'p', tag: 't', attribute: 'a' };

export function formatColumn(col) {
  if (col.kind === 'metric') return `m:${col.agg || 'last'}:${col.key}`;
  return `${CODE[col.kind]}:${col.key}`;
}

export function parseColumn(spec) {
  const kind = KIND[spec[0]];
  if (!kind || spec[1] !== ':') return null;
  if (kind === 'metric') {
    const m = /^m:(last|min|max):(.+)$/s.exec(spec);
    return m ? { kind, agg: m[1], key: m[2] } : null;
  }
  const key = spec.slice(2);
  return key ? { kind, key } : null;
}

export function columnId(col) {
  return formatColumn(col);
}

export function columnTitle(col) {
  if (col.kind === 'metric') return col.agg && col.agg !== 'last' ? `${col.key} (${col.agg})` : col.key;
  return col.key;
}
