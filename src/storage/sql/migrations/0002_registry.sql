-- 0002: model registry, events outbox, webhooks and their deliveries, logged models (MLflow 3.x),
-- run outputs, deployments. Registry rows reference models by an internal pk so a rename touches one row.
CREATE TABLE registered_models (
  model_pk INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  description TEXT
);
CREATE INDEX registered_models_by_created ON registered_models(creation_timestamp);
CREATE INDEX registered_models_by_updated ON registered_models(last_updated_timestamp);
CREATE TABLE registered_model_tags (
  model_pk INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_pk, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
  model_pk INTEGER NOT NULL,
  version INTEGER NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  current_stage TEXT NOT NULL DEFAULT 'None',
  description TEXT,
  source TEXT NOT NULL,
  run_id TEXT,
  status INTEGER NOT NULL DEFAULT 3,
  status_message TEXT,
  run_link TEXT,
  storage_location TEXT NOT NULL,
  model_id TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model_pk, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_version_tags (
  model_pk INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_pk, version, key)
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  model_pk INTEGER NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_pk, alias)
) WITHOUT ROWID;

-- The outbox: one row per registry change, written in the change's own transaction.
-- AUTOINCREMENT so a sequence number is never reused, even after the newest rows are deleted.
CREATE TABLE registry_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  model_name TEXT NOT NULL,
  version TEXT NOT NULL DEFAULT '',
  alias TEXT NOT NULL DEFAULT '',
  timestamp INTEGER NOT NULL,
  data TEXT NOT NULL
);
-- How far each durable consumer (webhook fan-out, deploy follower) has processed the outbox.
CREATE TABLE event_cursors (
  consumer TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhooks (
  webhook_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE webhook_deliveries (
  delivery_pk INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL UNIQUE,
  webhook_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, delivery_pk);

CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  artifact_uri TEXT NOT NULL,
  status INTEGER NOT NULL,
  creator_id TEXT NOT NULL DEFAULT '',
  model_type TEXT NOT NULL DEFAULT '',
  source_run_id TEXT NOT NULL DEFAULT '',
  status_message TEXT NOT NULL DEFAULT '',
  lifecycle_stage TEXT NOT NULL DEFAULT 'active'
) WITHOUT ROWID;
CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_timestamp);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE run_outputs (
  run_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, model_id)
) WITHOUT ROWID;

CREATE TABLE deployments (
  name TEXT PRIMARY KEY,
  model_name TEXT NOT NULL,
  spec TEXT NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  rendered_version TEXT NOT NULL DEFAULT '',
  rendered_event_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX deployments_by_model ON deployments(model_name);
