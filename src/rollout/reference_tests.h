#pragma once
// ReferenceTestService: "model unit tests" (docs/rollouts.md §4). A registered version is scored on a
// reference input table by the runtime that serves it (batch_scorer.h) and compared with expected scores;
// the tables and the result are stored in the blob store (model-tests/<model hex>/<version>/), and the
// outcome is written to the version as reserved tags (kReferenceTestTagPrefix, which no client may set), so a
// registered model with the tag kRequireReferenceTestTag refuses to move an alias to a version without a
// passing test (enforced by RegistryService::SetAlias).
//
// Thread-safe. Run blocks its caller; RunAsync queues the test for the service's one worker thread (tests
// load models and score tables: one at a time, a short queue, and the rest refused rather than piled up).
#include <condition_variable>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "core/mutex.h"

#include "core/result.h"
#include "registry/registry_service.h"
#include "serving/runtime/model_runtime.h"
#include "serving/scoring/batch_scorer.h"

namespace tamga {

struct ReferenceTestRequest {
  std::string name;
  std::string version;
  std::string inputs_csv;
  std::string expected_csv;
  double atol = 1e-6;
  double rtol = 1e-5;
  bool mlflow_predictions = false;
};

class ReferenceTestService {
 public:
  // `fetch(name, version)`: a local directory holding the version's files.
  using FetchFn = std::function<Result<std::string>(const std::string& name, const std::string& version)>;
  ReferenceTestService(RegistryService* registry, FetchFn fetch, RuntimeOptions runtime);
  ~ReferenceTestService();  // Shutdown()

  // Runs the test, stores its tables and result, tags the version. The result says passed or failed; an
  // error is a test that could not run (unknown version, a table that does not fit the model).
  Result<ReferenceTestResult> Run(const ReferenceTestRequest& req);
  // Run on the worker thread; `done` gets the result and its JSON. ResourceExhausted at once when
  // kMaxQueued tests already wait, Unavailable after Shutdown.
  using Done = std::function<void(Result<ReferenceTestResult>, std::string json)>;
  static constexpr size_t kMaxQueued = 4;
  void RunAsync(ReferenceTestRequest req, Done done);
  // Finishes the running test, answers queued ones Unavailable, joins the worker. Idempotent.
  void Shutdown();
  // The stored result of the last test of a version (JSON, as Run's answer), NotFound when never tested.
  Result<std::string> LastResult(const std::string& name, const std::string& version);
  // The reference statistics of the last test's inputs (serving/monitoring/reference_stats.h JSON);
  // NotFound when never tested or the inputs had no numeric features.
  Result<std::string> ReferenceStatsOf(const std::string& name, const std::string& version);
  // Called after a test was stored (with the version number), e.g. so serving picks up new statistics.
  // Set before the first test.
  void SetOnTested(std::function<void(const std::string& name, const std::string& version)> f) {
    on_tested_ = std::move(f);
  }

 private:
  Status Store(const std::string& path, const std::string& bytes);
  Result<std::string> ReadStored(const std::string& path, const std::string& missing);

  void WorkerLoop();

  RegistryService* registry_;
  FetchFn fetch_;
  RuntimeOptions runtime_;
  std::function<void(const std::string&, const std::string&)> on_tested_;
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<ReferenceTestRequest, Done>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread worker_ GUARDED_BY(mu_);
};

// Where a version's test files live in the blob store: model-tests/<name hex>/<version>.
std::string ReferenceTestDir(const std::string& name, const std::string& version);

// A stored test file (at most 16 MiB); NotFound(missing) when absent.
Result<std::string> ReadStoredBlob(RegistryService* registry, const std::string& path,
                                   const std::string& missing);
// The reference statistics stored by the last test of `version` (a version number), as JSON.
Result<std::string> ReadReferenceStats(RegistryService* registry, const std::string& name,
                                       const std::string& version);

// The result as the API answers it.
std::string ReferenceTestJson(const std::string& name, const std::string& version,
                              const ReferenceTestResult& r, int64_t at_ms);

}  // namespace tamga
