-- The lowest and highest value (NaN ignored) of each run's metric beside its latest one, for the web UI's
-- min/max columns and sorts (docs/ui.md). NULL when every point is NaN. range_known = 0 marks rows written
-- before this migration: the store fills them from the metric chunks at start-up (one pass, then never again).
ALTER TABLE latest_metrics ADD COLUMN min_value REAL;
ALTER TABLE latest_metrics ADD COLUMN max_value REAL;
ALTER TABLE latest_metrics ADD COLUMN range_known INTEGER NOT NULL DEFAULT 0;
CREATE INDEX latest_metrics_by_min ON latest_metrics(key_pk, min_value);
CREATE INDEX latest_metrics_by_max ON latest_metrics(key_pk, max_value);
-- Only the rows still to fill: empty once they are, so the check at every start-up costs one index probe and
-- writes (range_known = 1) never touch it.
CREATE INDEX latest_metrics_unranged ON latest_metrics(run_pk, key_pk) WHERE range_known = 0;
-- One model's registry history, newest first (the web UI's alias history).
CREATE INDEX registry_events_by_model ON registry_events(model_name, seq);
