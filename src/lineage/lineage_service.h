#pragma once
// LineageService (docs/data.md, "Lineage"): one answer to "which data, code and environment made this model"
// and to "what did this dataset version feed". Assembled from what is recorded anyway: the model version's
// run (params, its MLflow inputs, parent runs), the run's tags the agent's environment capture writes (git
// commit and diff digest, package lock, OS, CUDA, driver, GPU), the job that produced it (tag tamga.job.id),
// and the dataset uses the server records when a run logs a Tamga dataset as input. Read-only; thread-safe.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/dataset_service.h"
#include "jobs/job_service.h"
#include "registry/registry_service.h"
#include "tracking/tracking_service.h"

namespace tamga {

struct LineageDataset {
  std::string name;
  int64_t version = 0;   // 0: not a Tamga dataset (an MLflow input recorded by name and digest only)
  std::string manifest;  // the version's content digest
  int64_t files = 0;
  int64_t size = 0;
  std::string context;  // mlflow.data.context ("training", "eval" ...)
  std::string digest;   // the MLflow input's digest, when there was one
  std::string source;   // the MLflow input's source
};

struct ModelLineage {
  std::optional<ModelVersion> model_version;  // absent for runs:/ and logged models
  std::optional<Run> run;
  std::vector<RunInfo> parent_runs;  // nearest first
  std::vector<LineageDataset> datasets;
  std::map<std::string, std::string> code;  // repo, commit, branch, dirty, diff_sha256, source_name ...
  std::map<std::string, std::string>
      environment;  // python_version, pip_freeze_sha256, lockfile_sha256, os, gpu ...
  std::optional<Job> job;
};

struct DatasetLineage {
  DatasetRecord dataset;
  DatasetVersionRecord version;
  std::vector<DatasetUse> runs;              // newest first
  std::vector<ModelVersion> model_versions;  // registered from those runs
};

class LineageService {
 public:
  // `jobs` may be null (no job details).
  LineageService(TrackingService* tracking, RegistryService* registry, DatasetService* datasets,
                 JobService* jobs)
      : tracking_(tracking), registry_(registry), datasets_(datasets), jobs_(jobs) {}
  // models:/NAME/N, models:/NAME@ALIAS, models:/NAME/STAGE, runs:/RUN_ID[/...]. NotFound, InvalidArgument.
  Result<ModelLineage> OfModel(const std::string& uri);
  // tamga-data://NAME[@REF] or NAME[@REF].
  Result<DatasetLineage> OfDataset(const std::string& ref);
  // The model versions registered from this run (newest registrations last).
  Result<std::vector<ModelVersion>> ModelVersionsOfRun(const std::string& run_id);
  // Which kind of URI a lineage query names.
  static bool IsDatasetUri(const std::string& uri);

 private:
  std::vector<LineageDataset> DatasetsOf(const Run& run);
  TrackingService* tracking_;
  RegistryService* registry_;
  DatasetService* datasets_;
  JobService* jobs_;
};

}  // namespace tamga
