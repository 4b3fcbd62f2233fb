#include "rollout/reference_tests.h"

#include <future>
#include <sstream>

#include "core/json_writer.h"
#include "core/log.h"
#include "registry/registry_validation.h"

namespace tamga {
namespace {

std::string Hex(const std::string& s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

std::string Number(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

}  // namespace

std::string ReferenceTestDir(const std::string& name, const std::string& version) {
  return "model-tests/" + Hex(name) + "/" + version;
}

std::string ReferenceTestJson(const std::string& name, const std::string& version,
                              const ReferenceTestResult& r, int64_t at_ms) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("name", name);
  w.Field("version", version);
  w.Field("status", r.passed ? "passed" : "failed");
  w.FieldInt("rows", r.rows);
  w.FieldInt("mismatched_rows", r.mismatched_rows);
  // Outlier and drift monitoring of this version uses the inputs' statistics (docs/rollouts.md §7).
  w.FieldBool("reference_stats", !r.reference_stats_json.empty());
  if (r.reference_stats_json.empty()) w.Field("reference_stats_note", r.reference_stats_note);
  w.FieldInt("compared_values", r.compared_values);
  w.FieldDouble("max_abs_delta", r.max_abs_delta);
  w.FieldDouble("atol", r.atol);
  w.FieldDouble("rtol", r.rtol);
  w.FieldDouble("seconds", r.seconds);
  w.FieldInt("tested_at", at_ms);
  w.Key("columns");
  w.BeginArray();
  for (const auto& c : r.columns) w.String(c);
  w.EndArray();
  w.Key("mismatches");
  w.BeginArray();
  for (const auto& m : r.examples) {
    w.BeginObject();
    w.FieldInt("row", m.row);
    w.Field("column", m.column);
    w.FieldDouble("expected", m.expected);
    w.FieldDouble("got", m.got);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

ReferenceTestService::ReferenceTestService(RegistryService* registry, FetchFn fetch, RuntimeOptions runtime)
    : registry_(registry), fetch_(std::move(fetch)), runtime_(std::move(runtime)) {}

ReferenceTestService::~ReferenceTestService() { Shutdown(); }

void ReferenceTestService::RunAsync(ReferenceTestRequest req, Done done) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return done(Unavailable("the server is shutting down"), "");
    if (queue_.size() >= kMaxQueued) {
      return done(ResourceExhausted("too many reference-score tests are waiting; retry later"), "");
    }
    queue_.emplace_back(std::move(req), std::move(done));
    if (!worker_.joinable()) worker_ = std::thread([this] { WorkerLoop(); });
  }
  cv_.notify_one();
}

void ReferenceTestService::WorkerLoop() {
  for (;;) {
    std::pair<ReferenceTestRequest, Done> job;
    {
      UniqueLock lock(&mu_);
      cv_.wait(lock.native(), [&] {
        mu_.AssertHeld();
        return stopping_ || !queue_.empty();
      });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto r = Run(job.first);
    std::string json;
    if (r.ok()) {
      json = ReferenceTestJson(job.first.name, job.first.version, *r, r->tested_at);
    }
    job.second(std::move(r), std::move(json));
  }
}

void ReferenceTestService::Shutdown() {
  std::deque<std::pair<ReferenceTestRequest, Done>> dropped;
  std::thread worker;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
    worker.swap(worker_);
  }
  cv_.notify_all();
  for (auto& [req, done] : dropped) done(Unavailable("the server is shutting down"), "");
  if (worker.joinable()) worker.join();
}

Status ReferenceTestService::Store(const std::string& path, const std::string& bytes) {
  TAMGA_ASSIGN_OR_RETURN(auto writer, registry_->blobs().OpenWriter(path));
  TAMGA_RETURN_IF_ERROR(writer->Append(bytes));
  return writer->Commit();
}

Result<ReferenceTestResult> ReferenceTestService::Run(const ReferenceTestRequest& req) {
  TAMGA_ASSIGN_OR_RETURN(ModelVersion mv, registry_->GetModelVersion(req.name, req.version));
  std::string version = std::to_string(mv.version);
  TAMGA_ASSIGN_OR_RETURN(std::string dir, fetch_(req.name, version));
  TAMGA_ASSIGN_OR_RETURN(ModelLayout layout, InspectModelDir(dir));
  TAMGA_ASSIGN_OR_RETURN(auto runtime, LoadModelRuntime(layout, runtime_));
  std::istringstream inputs(req.inputs_csv), expected(req.expected_csv);
  ScoreOptions options;
  options.mlflow_predictions = req.mlflow_predictions;
  TAMGA_ASSIGN_OR_RETURN(ReferenceTestResult result,
                         RunReferenceTest(runtime.get(), &inputs, &expected, req.atol, req.rtol, options));
  int64_t now = static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  result.tested_at = now;
  std::string json = ReferenceTestJson(req.name, version, result, now);
  // The tables and the result first, then the tags that point at them: a tag never names missing files.
  std::string base = ReferenceTestDir(req.name, version);
  TAMGA_RETURN_IF_ERROR(Store(base + "/inputs.csv", req.inputs_csv));
  TAMGA_RETURN_IF_ERROR(Store(base + "/expected.csv", req.expected_csv));
  TAMGA_RETURN_IF_ERROR(Store(base + "/result.json", json));
  if (!result.reference_stats_json.empty()) {
    TAMGA_RETURN_IF_ERROR(Store(base + "/reference_stats.json", result.reference_stats_json));
  } else {
    (void)registry_->blobs().Delete(base + "/reference_stats.json");  // the previous test's no longer apply
  }
  std::string p = kReferenceTestTagPrefix;
  std::vector<KeyValue> tags = {
      {p + "status", result.passed ? "passed" : "failed"},
      {p + "rows", std::to_string(result.rows)},
      {p + "mismatched_rows", std::to_string(result.mismatched_rows)},
      {p + "max_abs_delta", Number(result.max_abs_delta)},
      {p + "tolerance", "atol=" + Number(result.atol) + " rtol=" + Number(result.rtol)},
      {p + "tested_at", std::to_string(now)},
  };
  std::promise<Status> done;
  registry_->SetSystemVersionTags(req.name, version, std::move(tags),
                                  [&done](Status s) { done.set_value(s); });
  TAMGA_RETURN_IF_ERROR(done.get_future().get());
  TAMGA_LOG(kInfo, "reference-score test",
            {{"model", req.name},
             {"version", version},
             {"status", result.passed ? "passed" : "failed"},
             {"rows", std::to_string(result.rows)},
             {"mismatched_rows", std::to_string(result.mismatched_rows)}});
  if (on_tested_) on_tested_(req.name, version);
  return result;
}

Result<std::string> ReferenceTestService::LastResult(const std::string& name, const std::string& version) {
  TAMGA_ASSIGN_OR_RETURN(ModelVersion mv, registry_->GetModelVersion(name, version));
  std::string v = std::to_string(mv.version);
  return ReadStored(ReferenceTestDir(name, v) + "/result.json",
                    "version " + v + " of '" + name + "' has no reference-score test");
}

Result<std::string> ReferenceTestService::ReferenceStatsOf(const std::string& name,
                                                           const std::string& version) {
  TAMGA_ASSIGN_OR_RETURN(ModelVersion mv, registry_->GetModelVersion(name, version));
  return ReadReferenceStats(registry_, name, std::to_string(mv.version));
}

Result<std::string> ReadReferenceStats(RegistryService* registry, const std::string& name,
                                       const std::string& version) {
  return ReadStoredBlob(
      registry, ReferenceTestDir(name, version) + "/reference_stats.json",
      "version " + version + " of '" + name + "' has no reference statistics (run a reference-score test)");
}

Result<std::string> ReferenceTestService::ReadStored(const std::string& path, const std::string& missing) {
  return ReadStoredBlob(registry_, path, missing);
}

Result<std::string> ReadStoredBlob(RegistryService* registry, const std::string& path,
                                   const std::string& missing) {
  auto reader = registry->blobs().OpenReader(path);
  if (!reader.ok()) {
    if (reader.status().code() == StatusCode::kNotFound) return NotFound(missing);
    return reader.status();
  }
  std::string out;
  char buf[65536];
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(size_t n, (*reader)->Read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > (size_t{16} << 20)) return Internal("stored reference-test result is too large");
  }
  return out;
}

}  // namespace tamga
