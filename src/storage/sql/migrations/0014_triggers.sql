-- 0014: retraining triggers (docs/data.md). dataset_events: every move of a dataset tag ("latest" with each new
-- version, and explicit tags), appended in the transaction that moves it; triggers follow it with a cursor.
-- trigger_firings: one row per (trigger, event), unique, inserted before the job is submitted: a trigger fires
-- once per event, across restarts and replicas.
CREATE TABLE dataset_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset TEXT NOT NULL,
  tag TEXT NOT NULL,
  version INTEGER NOT NULL,
  previous_version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE triggers (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  dataset TEXT NOT NULL DEFAULT '',
  tag TEXT NOT NULL DEFAULT '',
  cron TEXT NOT NULL DEFAULT '',
  job_spec TEXT NOT NULL,
  register_model TEXT NOT NULL DEFAULT '',
  model_path TEXT NOT NULL DEFAULT 'model',
  enabled INTEGER NOT NULL DEFAULT 1,
  created_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE trigger_firings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger_name TEXT NOT NULL,
  event_key TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  job_id TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL DEFAULT '',
  model_version TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (trigger_name, event_key)
);
CREATE INDEX trigger_firings_by_state ON trigger_firings(state);
