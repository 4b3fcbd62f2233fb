-- 0001: tracking schema (experiments, runs, params, tags, metrics, dataset inputs).
-- Metric history is stored as packed chunks (one row per (run, key) per write) and the latest value per
-- (run, key) separately, indexed by value for search. See docs/architecture.md.
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL DEFAULT '',
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_pk INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  run_name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
CREATE TABLE params (
  run_pk INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params(key, value);
CREATE TABLE tags (
  run_pk INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags(key, value);
CREATE TABLE metric_keys (
  key_pk INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE latest_metrics (
  run_pk INTEGER NOT NULL,
  key_pk INTEGER NOT NULL,
  value REAL,               -- NULL when the latest value is NaN
  is_nan INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_pk, key_pk)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_value ON latest_metrics(key_pk, value);
CREATE TABLE metric_chunks (
  chunk_pk INTEGER PRIMARY KEY,
  run_pk INTEGER NOT NULL,
  key_pk INTEGER NOT NULL,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  point_count INTEGER NOT NULL,
  points BLOB NOT NULL
);
CREATE INDEX metric_chunks_by_series ON metric_chunks(run_pk, key_pk, min_step);
CREATE TABLE run_inputs (
  run_pk INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT NOT NULL,
  profile TEXT NOT NULL,
  PRIMARY KEY (run_pk, name, digest)
) WITHOUT ROWID;
CREATE TABLE run_input_tags (
  run_pk INTEGER NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_pk, name, digest, key)
) WITHOUT ROWID;
