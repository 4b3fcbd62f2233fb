#pragma once
// `tamga admin import-mlflow` (docs/operations.md, "Coming from MLflow"): reads an MLflow tracking server's
// database (its SQLAlchemy schema, SQLite or PostgreSQL, MLflow 2.x) and writes it into a Tamga store, ids
// kept so existing `runs:/<run id>/...` and `models:/<name>/<version>` / `models:/<name>@<alias>` URIs keep
// working: experiments (with tags, deleted ones too), runs (status, times, user, name, lifecycle), params,
// run tags, every metric point (NaN kept; MLflow's stand-ins for infinities kept as MLflow serves them),
// dataset inputs with their tags, registered models with tags, versions (stages, status, tags; MLflow's
// soft-deleted versions stay deleted and keep their numbers) and aliases. Then the artifacts: every file
// below MLflow's artifact root is copied to Tamga's artifact destination (read back and checked), and
// artifact URIs below that root (`/srv/mlruns/1/<run>/artifacts`, `s3://bucket/root/1/...`) become
// `mlflow-artifacts:/1/...`, served by Tamga's proxy; `mlflow-artifacts:` URIs (MLflow's proxy mode) stay as
// they are. URIs elsewhere are kept and counted (Tamga can serve them only in direct mode).
//
// Before anything is written: every row is checked against the rules Tamga's API enforces
// (admin/mlflow_rows_check.h), and the destination may hold nothing but an earlier import of the same
// database. The source is only read (a SQLite file is opened read-only). Each run is written in one
// transaction and entities already in the destination are skipped, so an interrupted import is resumed by
// running it again. At the end the destination is counted against the source (experiments, runs, params,
// tags, metric points, dataset inputs, models, versions, aliases); any difference fails the import.
#include <cstdint>
#include <functional>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"

namespace tamga {

struct MlflowImportOptions {
  std::string backend_store_uri;  // MLflow's database: sqlite:///path/mlflow.db or postgresql://...
  std::string artifacts;     // MLflow's artifact root: a path, file:///dir or s3://bucket/prefix; "" = none
  std::string to;            // the Tamga store: sqlite:///path/tamga.db or postgresql://...
  std::string artifacts_to;  // Tamga's artifact destination (needed with `artifacts`)
  std::function<void(const std::string&)> progress;
};

struct MlflowImportCounts {
  int64_t experiments = 0, runs = 0, params = 0, tags = 0, metric_points = 0, inputs = 0;
  int64_t models = 0, versions = 0, aliases = 0;
};

struct MlflowImportReport {
  MlflowImportCounts source;       // what MLflow's database holds
  MlflowImportCounts imported;     // written by this run (less than `source` when resuming)
  int64_t runs_skipped = 0;        // already in the destination
  int64_t uris_rewritten = 0;      // artifact URIs below the artifact root, now mlflow-artifacts:/...
  int64_t uris_kept = 0;           // artifact URIs outside it, kept as they were
  int64_t uris_without_files = 0;  // mlflow-artifacts: URIs imported without --artifacts (files not copied)
  int64_t artifacts_copied = 0, artifacts_skipped = 0, artifact_bytes = 0;
};

Result<MlflowImportReport> ImportMlflow(const MlflowImportOptions& options, Clock* clock, Random* random);

// The artifact URI Tamga should store for MLflow's `uri`, given MLflow's artifact root (a path, file:// or
// s3://): mlflow-artifacts:/<relative path> when below the root, else `uri` unchanged. *rewritten tells
// which.
std::string RewriteMlflowArtifactUri(const std::string& uri, const std::string& root, bool* rewritten);

}  // namespace tamga
