-- 0013: lineage (docs/data.md, "Lineage"): which runs used which dataset versions, recorded when a run logs a
-- Tamga dataset as input (a job's --data, or mlflow.log_input with a tamga-data:// URI).
CREATE TABLE dataset_uses (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  version INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  context TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, version, run_id)
) WITHOUT ROWID;
CREATE INDEX dataset_uses_by_run ON dataset_uses(run_id);
