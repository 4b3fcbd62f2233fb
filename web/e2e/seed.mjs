// Seeds a server with what the UI tests look at, through the REST calls the mlflow client makes
// (experiments/create, runs/create, log-batch, artifact uploads through the proxy, registry calls).
import { createHash } from 'node:crypto';

export const SPIKE_STEP = 2500;
export const SPIKE = 42;
export const HISTORY_STEPS = 5000;

export async function seed(c) {
  const ml = '/api/2.0/mlflow';
  const exp = (await c.post(`${ml}/experiments/create`, { name: 'e2e-vision', tags: [{ key: 'team', value: 'vision' }] })).experiment_id;
  await c.post(`${ml}/experiments/create`, { name: 'e2e-other' });
  const t0 = Date.now() - 3600_000;
  const runs = [];
  for (let i = 0; i < 30; i++) {
    const r = (await c.post(`${ml}/runs/create`, { experiment_id: exp, run_name: `run-${String(i).padStart(2, '0')}`, start_time: t0 + i * 1000, user_id: 'alice',
      tags: [{ key: 'mlflow.user', value: 'alice' }] })).run.info;
    const params = [{ key: 'lr', value: String(0.001 * (i + 1)) }, { key: 'optimizer', value: i % 3 === 0 ? 'sgd' : 'adam' },
      { key: 'batch size', value: String(32 * (1 + (i % 4))) }];
    // loss falls from 1 + i/10 by 0.01 per step over 20 steps: last = 1 + i/10 - 0.19, min = last, max = 1 + i/10
    const metrics = [];
    for (let s = 0; s < 20; s++) metrics.push({ key: 'loss', value: 1 + i / 10 - s * 0.01, timestamp: t0 + i * 1000 + s * 10, step: s });
    metrics.push({ key: 'acc', value: 0.5 + i / 100, timestamp: t0 + i * 1000 + 300, step: 19 });
    await c.post(`${ml}/runs/log-batch`, { run_id: r.run_id, params, metrics, tags: [{ key: 'stage', value: i < 15 ? 'tune' : 'final' }] });
    await c.post(`${ml}/runs/update`, { run_id: r.run_id, status: 'FINISHED', end_time: t0 + i * 1000 + 900 });
    runs.push(r);
  }
  // A long history with one spike: the chart must show the spike exactly (M4 keeps extremes).
  const long = runs[0];
  for (let s = 0; s < HISTORY_STEPS; s += 1000) {
    const metrics = [];
    for (let k = s; k < s + 1000; k++) {
      metrics.push({ key: 'val_loss', value: k === SPIKE_STEP ? SPIKE : 1 / (1 + k / 100), timestamp: t0 + k, step: k });
    }
    await c.post(`${ml}/runs/log-batch`, { run_id: long.run_id, metrics });
  }
  await c.post(`${ml}/runs/log-inputs`, { run_id: long.run_id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }],
    dataset: { name: 'mnist-train', digest: 'd41d8cd9', source_type: 'local', source: '{"uri": "/data/mnist"}', schema: '', profile: '' } }] });
  // Nested runs: a parent with two children.
  const parent = (await c.post(`${ml}/runs/create`, { experiment_id: exp, run_name: 'sweep-parent', start_time: t0 + 40_000 })).run.info;
  for (let k = 0; k < 2; k++) {
    await c.post(`${ml}/runs/create`, { experiment_id: exp, run_name: `sweep-child-${k}`, start_time: t0 + 41_000 + k,
      tags: [{ key: 'mlflow.parentRunId', value: parent.run_id }] });
  }
  // Artifacts through the proxy, under the run's artifact URI (mlflow-artifacts:/<path>).
  const base = long.artifact_uri.replace(/^mlflow-artifacts:\//, '/api/2.0/mlflow-artifacts/artifacts/');
  const csv = 'id,feature,label\n' + Array.from({ length: 500 }, (_, i) => `${i},"v,${i}",${i % 2}`).join('\n') + '\n';
  await c.put(`${base}/data/sample.csv`, csv);
  await c.put(`${base}/notes.json`, JSON.stringify({ note: 'hello', values: [1, 2, 3] }));
  await c.put(`${base}/big.txt`, 'x'.repeat(3 << 20));
  await c.put(`${base}/model/MLmodel`, "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n" +
    "signature:\n  inputs: '[{\"name\": \"age\", \"type\": \"double\"}, {\"name\": \"income\", \"type\": \"double\"}]'\n  outputs: '[{\"type\": \"long\"}]'\n");
  // Registry: a model with two versions from the long run; @production on v1.
  await c.post(`${ml}/registered-models/create`, { name: 'fraud', description: 'Fraud **scores**' });
  for (let v = 0; v < 2; v++) {
    await c.post(`${ml}/model-versions/create`, { name: 'fraud', source: `${long.artifact_uri}/model`, run_id: long.run_id });
  }
  await c.post(`${ml}/registered-models/alias`, { name: 'fraud', alias: 'production', version: '1' });
  // A webhook scoped to the model; nothing listens at its URL, so its deliveries record the failure.
  await c.post(`${ml}/webhooks`, { name: 'notify-ci', url: 'http://127.0.0.1:9/hook', events: [{ entity: 'model_version_alias', action: 'created' }], model_name: 'fraud' });
  // A deployment that follows fraud@production into the GitOps folder (rendered and committed by the server).
  await c.post('/api/2.0/tamga/deployments', { name: 'fraud-api', model_name: 'fraud', alias: 'production', namespace: 'ml' });
  // A queue and a job that waits (no agent), to abort from the UI.
  await c.post('/api/2.0/tamga/queues', { name: 'cpu' });
  const job = (await c.post('/api/2.0/tamga/jobs', { queue: 'cpu', command: ['sleep', '60'] })).job;
  // Data: a dataset with two versions (v1 tagged gold, v2 changes a file and adds one), and the long run
  // using v1 (what mlflow.log_input sends for a tamga-data:// source).
  await c.post('/api/2.0/tamga/datasets/create', { name: 'e2e-data', description: 'Digits for the UI tests' });
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  const pushVersion = async (files, tags) => {
    const entries = Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1));
    const manifest = 'tamga-manifest 1\n' + entries.map(([p, b]) => `${sha(b)} ${Buffer.byteLength(b)} ${p}\n`).join('');
    const parts = [...entries.map(([, b]) => b), manifest].map((b) => Buffer.concat([Buffer.from(`${sha(b)} ${Buffer.byteLength(b)}\n`), Buffer.from(b)]));
    await c.put('/api/2.0/tamga/datasets/objects/upload?name=e2e-data', new Uint8Array(Buffer.concat(parts)));
    return c.post('/api/2.0/tamga/datasets/versions/create', { name: 'e2e-data', manifest: sha(manifest), tags, message: `${entries.length} files`, metadata: { rows: entries.length * 10 } });
  };
  await pushVersion({ 'train/a.csv': 'x,y\n1,2\n', 'train/b.csv': 'x,y\n3,4\n' }, ['gold']);
  await pushVersion({ 'train/a.csv': 'x,y\n1,2\n9,9\n', 'train/b.csv': 'x,y\n3,4\n', 'test/c.csv': 'x,y\n5,6\n' }, []);
  await c.post(`${ml}/runs/log-inputs`, { run_id: long.run_id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }],
    dataset: { name: 'e2e-data', digest: 'abc', source_type: 'tamga', source: '{"uri": "tamga-data://e2e-data@gold"}', schema: '', profile: '' } }] });
  return { exp, runs, long, parent, job };
}
