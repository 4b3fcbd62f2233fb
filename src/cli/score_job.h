#pragma once
// `tamga score --queue Q`: retro scoring as a job on the queues (docs/rollouts.md §5). The CLI resolves the
// model URI to its exact version, submits a job whose command is `tamga score models:/NAME/N --input
// data/<dataset>[/FILE] --log-to-run` with the dataset as the job's data (so the agent checks out the exact
// dataset version and records it on the run), then — unless detached — waits for the job and downloads the
// scores the job stored on its run. Inside the job, LogScoreToRun stores the output as the run's artifact
// `scores/<file>` with its lineage (model version, input digest) as tags and rows / rows per second as
// metrics.
#include <string>
#include <vector>

#include "cli/cli_http.h"
#include "core/status.h"

namespace tamga {

struct ScoreJobOptions {
  std::string queue;
  bool detach = false;
  int gpus = 0;
  int cpus = 2;
  int wait_s = 86400;
};

struct ScoreJobRequest {
  Common c;
  std::string model;   // models:/NAME/N or models:/NAME@ALIAS
  std::string input;   // NAME@REF or NAME@REF:FILE (a dataset version, or one file in it)
  std::string output;  // local CSV written when the job succeeds
  int64_t batch_rows = 4096;
  bool mlflow_predictions = false;
  int threads = 0;
};

// Exit code: 0 scored (or submitted, detached), 1 the job failed or was refused, 2 usage or connection.
int SubmitScoreJob(const ScoreJobRequest& r, const ScoreJobOptions& o);

// Inside a scoring job: uploads `output` to the run named by MLFLOW_RUN_ID as scores/<file name> and logs
// tags tamga.score.model_version, tamga.score.input_sha256, tamga.score.rows and metrics rows,
// rows_per_second, seconds.
Status LogScoreToRun(const Common& c, const std::vector<std::string>& inputs, const std::string& output,
                     const std::string& model_version, int64_t rows, double seconds);

}  // namespace tamga
