#pragma once
// Batch scoring and reference-score tests on one runtime instance (docs/rollouts.md §4-5): a CSV table of
// inputs (csv_table.h) is read in batches, executed by the runtime that serves the model, and either written
// back with the predictions as the last column(s), or compared with a table of expected scores.
//
// Thread-compatible (one runtime, one caller).
#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

struct ScoreOptions {
  int64_t batch_rows = 4096;  // rows per Execute
  // The flavor's predict() result (e.g. class labels) instead of raw outputs.
  bool mlflow_predictions = false;
  bool write_header = true;  // false: rows only (a later file of a table split over several)
};

struct ScoreStats {
  int64_t rows = 0;
  double seconds = 0;
  std::vector<std::string> prediction_columns;
};

// Scores every row of `in` and writes `out`: the input's header line and rows, each followed by its
// predictions (header: PredictionColumns). InvalidArgument for a bad table (row named), Internal when the
// model answers with the wrong number of rows.
Result<ScoreStats> ScoreCsv(ModelRuntime* runtime, std::istream* in, std::ostream* out,
                            const ScoreOptions& options);

struct ReferenceMismatch {
  int64_t row = 0;  // 1-based data row
  std::string column;
  double expected = 0;
  double got = 0;
};

struct ReferenceTestResult {
  bool passed = false;
  int64_t rows = 0;
  int64_t mismatched_rows = 0;
  int64_t compared_values = 0;
  double max_abs_delta = 0;
  double atol = 0, rtol = 0;
  std::vector<std::string> columns;         // the prediction columns compared
  std::vector<ReferenceMismatch> examples;  // the first 10 mismatches
  double seconds = 0;
  int64_t tested_at = 0;  // ms since the epoch, set by whoever records the result
  // The inputs' reference statistics (serving/monitoring/reference_stats.h) as JSON; empty when the inputs
  // have no numeric features.
  std::string reference_stats_json;
  std::string reference_stats_note;  // why there are none (no numeric features, too many, no finite rows)
};

// Scores `inputs` and compares each prediction with `expected` (a CSV with a header): |got - expected| <=
// atol + rtol * |expected| passes (NaN only matches NaN). The expected table's columns are the prediction
// columns by name when it has them all, else its last K columns (K = the predictions' width). A different row
// count, or a non-numeric expected cell, is InvalidArgument (the test data disagree with each other).
Result<ReferenceTestResult> RunReferenceTest(ModelRuntime* runtime, std::istream* inputs,
                                             std::istream* expected, double atol, double rtol,
                                             const ScoreOptions& options);

}  // namespace tamga
