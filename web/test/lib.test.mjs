// Unit tests of the UI's component logic (node --test): URL state, filter building, downsampling and
// smoothing, CSV/MLmodel previews, Prometheus parsing, compare helpers, argv splitting, markdown safety.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseHash, formatHash, encodeList, decodeList } from '../src/lib/route.js';
import { quoteKey, quoteString, clause, addClause, splitClauses, removeClause, parseColumn, formatColumn } from '../src/lib/filter.js';
import { smooth, m4, appendTail } from '../src/lib/downsample.js';
import { runsStateFromQuery, runsStateToQuery, tableRequest, locate, displayCount, toCsv, defaultColumns } from '../src/lib/runs_query.js';
import { previewKind, parseCsvPreview, parseMlmodel } from '../src/lib/preview.js';
import { parseProm, sum, buckets, quantile } from '../src/lib/prom.js';
import { compareColumns, differs, axisScale } from '../src/lib/compare.js';
import { splitArgs, shellQuote } from '../src/lib/args.js';
import { shortId } from '../src/lib/format.js';
import { safeHref, markdownBlocks } from '../src/lib/markdown.js';
import { visibleRange, visibleColumns } from '../src/components/virtual_table.js';

test('hash routes round-trip, keys with odd characters included', () => {
  const h = formatHash(['experiments', '1,2', 'runs'], { filter: "params.lr = '0.1' AND tags.`a b` = 'x&y'", sort: 'm:min:loss', desc: true, empty: '' });
  const r = parseHash(h);
  assert.deepEqual(r.parts, ['experiments', '1,2', 'runs']);
  assert.equal(r.query.filter, "params.lr = '0.1' AND tags.`a b` = 'x&y'");
  assert.equal(r.query.desc, '1');
  assert.equal(r.query.empty, undefined);
  assert.deepEqual(parseHash('').parts, []);
  assert.deepEqual(parseHash('#/runs/abc?tab=metrics').query, { tab: 'metrics' });
  const keys = ['a,b', 'c%d', 'plain'];
  assert.deepEqual(decodeList(encodeList(keys)), keys);
  assert.deepEqual(decodeList(''), []);
});

test('filter clauses quote keys and values', () => {
  assert.equal(quoteKey('loss'), 'loss');
  assert.equal(quoteKey('val loss'), '`val loss`');
  assert.equal(quoteKey('a`b'), '`a``b`');
  assert.equal(quoteString("it's"), "'it''s'");
  assert.equal(clause({ kind: 'metric', key: 'val loss' }, '<', 0.5), 'metrics.`val loss` < 0.5');
  assert.equal(clause({ kind: 'param', key: 'lr' }, '=', '0.01'), "params.lr = '0.01'");
  assert.equal(clause({ kind: 'attribute', key: 'status' }, '=', 'FINISHED'), "attributes.status = 'FINISHED'");
  assert.throws(() => clause({ kind: 'metric', key: 'x' }, '<', 'abc'));
  assert.throws(() => clause({ kind: 'metric', key: 'x', agg: 'min' }, '<', 1));
  let f = addClause('', "params.a = '1'");
  f = addClause(f, 'metrics.b > 2');
  assert.equal(f, "params.a = '1' AND metrics.b > 2");
  assert.equal(addClause(f, 'metrics.b > 2'), f);
  assert.deepEqual(splitClauses("params.a = 'x AND y' AND metrics.b > 2"), ["params.a = 'x AND y'", 'metrics.b > 2']);
  assert.equal(removeClause(f, "params.a = '1'"), 'metrics.b > 2');
});

test('column specs round-trip, keys with colons included', () => {
  for (const c of [{ kind: 'metric', agg: 'min', key: 'a:b' }, { kind: 'param', key: 'lr' }, { kind: 'tag', key: 'mlflow.user' }]) {
    assert.deepEqual(parseColumn(formatColumn(c)), c);
  }
  assert.equal(parseColumn('x:1'), null);
  assert.equal(parseColumn('m:avg:loss'), null);
});

test('M4 keeps first, last, min and max of each bucket', () => {
  const xs = [];
  const ys = [];
  for (let i = 0; i < 10000; i++) { xs.push(i); ys.push(Math.sin(i / 100)); }
  ys[5123] = 42;
  ys[777] = -42;
  const r = m4(xs, ys, 400);
  assert.ok(r.x.length <= 400);
  assert.equal(Math.max(...r.y), 42);
  assert.equal(Math.min(...r.y), -42);
  assert.equal(r.x[0], 0);
  assert.equal(r.x[r.x.length - 1], 9999);
  for (let i = 1; i < r.x.length; i++) assert.ok(r.x[i] > r.x[i - 1]);
  assert.deepEqual(m4([1, 2], [3, 4], 400), { x: [1, 2], y: [3, 4] });
});

test('smoothing is debiased and keeps gaps', () => {
  assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
  const s = smooth([5, 5, 5, 5], 0.9);
  for (const v of s) assert.ok(Math.abs(v - 5) < 1e-9);
  const g = smooth([1, null, 3], 0.5);
  assert.equal(g[1], null);
  const t = appendTail({ x: [1, 2], y: [1, 1] }, [2, 3, 4], [9, 3, 4]);
  assert.deepEqual(t.x, [1, 2, 3, 4]);
});

test('runs table state <-> URL <-> request', () => {
  const s = runsStateFromQuery({ filter: 'metrics.a > 1', sort: 'm:max:acc', desc: '1', cols: encodeList(['m:min:loss', 'p:lr']), nested: '1' });
  assert.deepEqual(s.sort, { kind: 'metric', agg: 'max', key: 'acc' });
  assert.equal(s.desc, true);
  const req = tableRequest(['1'], s, 100, 50);
  assert.equal(req.filter, 'metrics.a > 1 AND tags.mlflow.parentRunId IS NULL');
  assert.deepEqual(req.order_by, [{ kind: 'metric', key: 'acc', agg: 'max', desc: true }]);
  assert.deepEqual(req.columns, [{ kind: 'metric', key: 'loss', agg: 'min' }, { kind: 'param', key: 'lr', agg: 'last' }]);
  assert.equal(req.count, false);
  const q = runsStateToQuery(s);
  assert.deepEqual(runsStateFromQuery(q), s);
  const d = runsStateFromQuery({});
  assert.deepEqual(runsStateToQuery(d), { filter: '', view: '', cols: '', sort: '', desc: '', nested: '' });
  assert.equal(defaultColumns({ metrics: ['a'], params: ['b'] }).length, 2);
});

test('child rows are placed under their expanded parents', () => {
  const ex = [{ index: 2, rows: ['c1', 'c2'] }, { index: 5, rows: ['d1'] }];
  assert.equal(displayCount(10, ex), 13);
  assert.deepEqual(locate(2, ex), { index: 2 });
  assert.deepEqual(locate(3, ex), { child: 'c1', parent: 2 });
  assert.deepEqual(locate(4, ex), { child: 'c2', parent: 2 });
  assert.deepEqual(locate(5, ex), { index: 3 });
  assert.deepEqual(locate(7, ex), { index: 5 });
  assert.deepEqual(locate(8, ex), { child: 'd1', parent: 5 });
  assert.deepEqual(locate(9, ex), { index: 6 });
});

test('CSV export quotes what needs quoting', () => {
  assert.equal(toCsv(['a', 'b'], [['x,y', 'he said "hi"'], [null, 1]]), 'a,b\n"x,y","he said ""hi"""\n,1\n');
});

test('previews: kinds, CSV head, MLmodel signature', () => {
  assert.equal(previewKind('model/MLmodel'), 'mlmodel');
  assert.equal(previewKind('a/b.PNG'), 'image');
  assert.equal(previewKind('x.csv'), 'csv');
  assert.equal(previewKind('x.bin'), 'binary');
  const t = parseCsvPreview('a,b\n1,"x,y"\n2,"q""z"\n3,cut', 10, true);
  assert.deepEqual(t.header, ['a', 'b']);
  assert.deepEqual(t.rows, [['1', 'x,y'], ['2', 'q"z']]);
  assert.equal(parseCsvPreview('a\n1\n2', 10, false).rows.length, 2);
  assert.equal(parseCsvPreview('a\n1\n2\n3\n', 2, false).rows.length, 2);
  const m = parseMlmodel("artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n  sklearn:\n    v: 1\nsignature:\n  inputs: '[{\"name\": \"x\", \"type\": \"double\"}]'\n  outputs: '[{\"type\": \"long\"}]'\n");
  assert.deepEqual(m.flavors, ['python_function', 'sklearn']);
  assert.equal(m.signature.inputs[0].name, 'x');
  assert.equal(m.signature.outputs[0].type, 'long');
});

test('Prometheus text: sums, rates and histogram quantiles', () => {
  const text = [
    '# HELP x', 'tamga_serving_requests_total{model="m",version="1",protocol="v2",outcome="ok"} 90',
    'tamga_serving_requests_total{model="m",version="1",protocol="v2",outcome="error"} 10',
    'tamga_serving_latency_seconds_bucket{model="m",phase="total",le="0.001"} 50',
    'tamga_serving_latency_seconds_bucket{model="m",phase="total",le="0.01"} 90',
    'tamga_serving_latency_seconds_bucket{model="m",phase="total",le="+Inf"} 100',
  ].join('\n');
  const s = parseProm(text);
  assert.equal(sum(s, 'tamga_serving_requests_total', { model: 'm' }), 100);
  assert.equal(sum(s, 'tamga_serving_requests_total', { model: 'm', outcome: 'ok' }), 90);
  const b = buckets(s, 'tamga_serving_latency_seconds', { model: 'm', phase: 'total' });
  assert.equal(quantile(0.5, b), 0.001);
  assert.ok(Math.abs(quantile(0.75, b) - 0.001 - (0.009 * 25) / 40) < 1e-12);
  assert.equal(quantile(0.99, b), 0.01);
  assert.equal(quantile(0.5, b, b), null);
});

test('compare helpers', () => {
  const runs = [{ data: { params: [{ key: 'lr', value: '0.1' }, { key: 'opt', value: 'adam' }], metrics: [{ key: 'loss', value: 1 }] } },
    { data: { params: [{ key: 'lr', value: '0.2' }, { key: 'opt', value: 'adam' }], metrics: [] } }];
  const c = compareColumns(runs);
  assert.deepEqual(c.params, ['lr', 'opt']);
  assert.ok(differs(c.paramRows.lr));
  assert.ok(!differs(c.paramRows.opt));
  assert.deepEqual(c.metricRows.loss, [1, undefined]);
  const n = axisScale(['1', '3', undefined]);
  assert.equal(n.pos('2'), 0.5);
  assert.equal(n.pos(undefined), null);
  const k = axisScale(['b', 'a', 'c']);
  assert.equal(k.pos('a'), 0);
  assert.equal(k.pos('c'), 1);
});

test('argv <-> command line', () => {
  const argv = ['python3', '-c', "print('hi')", 'a b', '', '--x=1'];
  assert.deepEqual(splitArgs(shellQuote(argv)), argv);
  assert.equal(shellQuote(['python3', '-c', 'print(1)']), "python3 -c 'print(1)'");
  assert.equal(shortId('01a23a59aaaaaaaaaaaaaaaa12345678'), '…12345678');
  assert.equal(shortId('job-1'), 'job-1');
});

test('CSV cells that look like formulas are neutralised', () => {
  assert.equal(toCsv(['a'], [['=HYPERLINK("x")'], ['@SUM(1)'], ['-0.5'], ['+1+1'], [-3]]), 'a\n"\'=HYPERLINK(""x"")"\n\'@SUM(1)\n-0.5\n\'+1+1\n-3\n');
});

test('argv splitting', () => {
  assert.deepEqual(splitArgs(`python3 train.py --name "a b" 'c d' e\\ f ""`), ['python3', 'train.py', '--name', 'a b', 'c d', 'e f', '']);
  assert.throws(() => splitArgs('"open'));
});

test('markdown keeps only safe links', () => {
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('https://x.org'), 'https://x.org');
  assert.equal(safeHref('#/runs/1'), '#/runs/1');
  const b = markdownBlocks('# T\n\n- a\n- b\n\n```\n<script>\n```\ntext');
  assert.deepEqual(b.map((x) => x.type), ['h', 'ul', 'code', 'p']);
  assert.equal(b[2].text, '<script>');
});

test('virtual table windows', () => {
  assert.deepEqual(visibleRange(0, 600, 30, 100000), [0, 28]);
  assert.deepEqual(visibleRange(30000, 600, 30, 100000), [992, 1028]);
  assert.deepEqual(visibleRange(0, 600, 30, 5), [0, 4]);
  const widths = [100, 100, 100, 100, 100];
  const offsets = [0, 100, 200, 300, 400];
  assert.deepEqual(visibleColumns(offsets, widths, 150, 260, 1), [1, 2]);
});
