#include "serving/lifecycle/model_manager.h"

#include "core/log.h"

namespace tamga {
namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<std::vector<Tensor>> WarmupInputs(const ModelSignature& sig) {
  std::vector<Tensor> out;
  if (!sig.shapes_known) return std::nullopt;
  for (const auto& spec : sig.inputs) {
    Tensor t;
    t.name = spec.name;
    t.dtype = spec.dtype;
    if (spec.dtype == DataType::kBytes || spec.shape.empty()) return std::nullopt;
    for (size_t i = 0; i < spec.shape.size(); ++i) {
      if (spec.shape[i] < 0 && i > 0) return std::nullopt;
      t.shape.push_back(spec.shape[i] < 0 ? 1 : spec.shape[i]);
    }
    t.data.assign(static_cast<size_t>(t.NumElements()) * DataTypeSize(t.dtype), '\0');
    out.push_back(std::move(t));
  }
  return out;
}

ModelManager::ModelManager(ServingOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)), metrics_(metrics) {
  requests_ = metrics_->Counter("tamga_serving_requests_total",
                                "Inference requests by model, version, protocol, outcome");
  latency_ = metrics_->HistogramFamily("tamga_serving_latency_seconds",
                                       "Inference latency by phase (queue, compute, total)",
                                       MetricsRegistry::LatencyBuckets());
  batch_size_ = metrics_->HistogramFamily("tamga_serving_batch_rows", "Rows per executed batch",
                                          MetricsRegistry::SizeBuckets());
  loaded_ = metrics_->Gauge("tamga_serving_models_loaded", "Models with a serving version");
  load_time_ = metrics_->HistogramFamily("tamga_serving_model_load_seconds", "Model load + warm-up time",
                                         {0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300});
}

ModelManager::~ModelManager() {
  std::vector<std::shared_ptr<LoadedVersion>> all;
  std::vector<std::thread> retiring;
  {
    MutexLock lock(&mu_);
    for (auto& [name, e] : models_) {
      if (e.serving) all.push_back(std::move(e.serving));
    }
    retiring.swap(retiring_);
  }
  for (auto& v : all) v->batcher->Stop();
  for (auto& t : retiring) t.join();
}

Result<std::shared_ptr<LoadedVersion>> ModelManager::Build(const std::string& version,
                                                           const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  TAMGA_ASSIGN_OR_RETURN(ModelLayout layout, InspectModelDir(dir));
  std::vector<std::unique_ptr<ModelRuntime>> instances;
  for (int i = 0; i < std::max(1, options_.instances); ++i) {
    TAMGA_ASSIGN_OR_RETURN(auto rt, LoadModelRuntime(layout, options_.runtime));
    instances.push_back(std::move(rt));
  }
  auto v = std::make_shared<LoadedVersion>();
  v->version = version;
  v->platform = instances[0]->platform();
  v->signature = instances[0]->signature();
  // Warm-up: every instance runs one generated request before the version is exposed.
  if (auto warm = WarmupInputs(v->signature)) {
    for (auto& rt : instances) {
      auto out = rt->Execute(*warm);
      if (!out.ok()) return FailedPrecondition("warm-up failed: " + out.status().message());
    }
  }
  // /invocations converts outputs with instance 0's ToMlflowPredictions (const and stateless): a
  // non-owning view, since the batcher owns the instances and outlives every request holding `v`.
  ModelRuntime* view = instances[0].get();
  v->mlflow_view = std::shared_ptr<ModelRuntime>(view, [](ModelRuntime*) {});
  v->batcher = std::make_unique<DynamicBatcher>(options_.batching, std::move(instances));
  v->load_seconds = Seconds(std::chrono::steady_clock::now() - start);
  return v;
}

void ModelManager::NoteProblem(const std::string& name, const std::string& why, bool final) {
  MutexLock lock(&mu_);
  auto& e = models_[name];
  e.status.name = name;
  e.status.last_error = why;
  if (!e.serving) e.status.state = final ? ModelState::kFailed : ModelState::kLoading;
}

Status ModelManager::LoadVersion(const std::string& name, const std::string& version,
                                 const std::string& dir) {
  {
    MutexLock lock(&mu_);
    auto& e = models_[name];
    e.status.name = name;
    e.status.loading_version = version;
    if (!e.serving) e.status.state = ModelState::kLoading;
  }
  TAMGA_LOG(kInfo, "loading model version", {{"model", name}, {"version", version}, {"path", dir}});
  auto built = Build(version, dir);
  std::shared_ptr<LoadedVersion> old;
  bool had_previous = false;
  {
    MutexLock lock(&mu_);
    auto& e = models_[name];
    e.status.loading_version.clear();
    had_previous = e.serving != nullptr;
    if (!built.ok()) {
      e.status.last_error = built.status().message();
      if (!e.serving) e.status.state = ModelState::kFailed;
    } else {
      old = std::move(e.serving);
      e.serving = *built;
      e.status.state = ModelState::kAvailable;
      e.status.serving_version = version;
      e.status.last_error.clear();
    }
    int n = 0;
    for (const auto& [k, m] : models_) n += m.serving ? 1 : 0;
    loaded_->Set({}, n);
  }
  if (!built.ok()) {
    // Name the fallback only when there is one.
    TAMGA_LOG(kError,
              had_previous ? "model version failed to load; the previous version keeps serving"
                           : "model version failed to load; nothing is serving this model",
              {{"model", name}, {"version", version}, {"error", built.status().message()}});
    return built.status();
  }
  load_time_->Hist({{"model", name}})->Observe((*built)->load_seconds);
  TAMGA_LOG(kInfo, "model version serving",
            {{"model", name},
             {"version", version},
             {"load_ms", std::to_string(static_cast<int64_t>((*built)->load_seconds * 1000))}});
  if (old) Retire(std::move(old));
  return Status::Ok();
}

void ModelManager::Retire(std::shared_ptr<LoadedVersion> old) {
  // Drain off the caller's thread: queued requests finish on the old version, then it unloads when the
  // last request holding it completes.
  MutexLock lock(&mu_);
  retiring_.emplace_back([old = std::move(old)]() mutable {
    old->batcher->Stop();
    TAMGA_LOG(kInfo, "model version unloaded", {{"version", old->version}});
    old.reset();
  });
}

Status ModelManager::Unload(const std::string& name) {
  std::shared_ptr<LoadedVersion> old;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("model '" + name.substr(0, 200) + "' is not served here");
    old = std::move(it->second.serving);
    models_.erase(it);
    int n = 0;
    for (const auto& [k, m] : models_) n += m.serving ? 1 : 0;
    loaded_->Set({}, n);
  }
  TAMGA_LOG(kInfo, "model removed", {{"model", name}});
  if (old) Retire(std::move(old));
  return Status::Ok();
}

std::vector<ModelStatus> ModelManager::List() const {
  MutexLock lock(&mu_);
  std::vector<ModelStatus> out;
  for (const auto& [name, e] : models_) out.push_back(e.status);
  return out;
}

Result<ModelStatus> ModelManager::GetStatus(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + name.substr(0, 200) + "' is not served here");
  return it->second.status;
}

bool ModelManager::AllReady(bool vacuous_ready) const {
  MutexLock lock(&mu_);
  if (models_.empty()) return vacuous_ready;
  for (const auto& [name, e] : models_) {
    if (!e.serving) return false;
  }
  return true;
}

Result<std::shared_ptr<LoadedVersion>> ModelManager::Get(const std::string& name,
                                                         const std::string& version) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + name.substr(0, 200) + "' is not served here");
  if (!it->second.serving) {
    const ModelStatus& st = it->second.status;
    if (!st.loading_version.empty()) {
      return Unavailable(
          "model '" + name + "' is loading version " + st.loading_version + "; not ready yet" +
          (st.last_error.empty() ? "" : " (the previous attempt failed: " + st.last_error + ")"));
    }
    return Unavailable(
        "model '" + name + "' is not ready: " +
        (st.last_error.empty() ? "no version loaded yet" : "loading failed: " + st.last_error));
  }
  if (!version.empty() && version != it->second.serving->version) {
    return NotFound("version " + version.substr(0, 50) + " of model '" + name +
                    "' is not loaded (serving version " + it->second.serving->version + ")");
  }
  return it->second.serving;
}

void ModelManager::RecordInvalidInput(const std::string& name, const std::string& version,
                                      const std::string& protocol) {
  requests_->Add(
      {{"model", name}, {"version", version}, {"protocol", protocol}, {"outcome", "invalid_input"}}, 1);
}

void ModelManager::Infer(const std::string& name, const std::string& version, std::vector<Tensor> inputs,
                         const std::string& protocol, Done done) {
  auto start = std::chrono::steady_clock::now();
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto v = Get(name, version);
    if (!v.ok()) {
      requests_->Add({{"model", name}, {"version", version}, {"protocol", protocol}, {"outcome", "error"}},
                     1);
      return done(v.status(), {}, nullptr);
    }
    std::shared_ptr<LoadedVersion> pinned = *v;
    Status s = pinned->batcher->Submit(
        inputs, [this, pinned, name, protocol, start, done](Result<std::vector<Tensor>> out, InferTimings t) {
          double total = Seconds(std::chrono::steady_clock::now() - start);
          Labels base = {{"model", name}, {"version", pinned->version}};
          latency_->Hist({{"model", name}, {"phase", "queue"}})->Observe(t.queue_ns / 1e9);
          latency_->Hist({{"model", name}, {"phase", "compute"}})->Observe(t.compute_ns / 1e9);
          latency_->Hist({{"model", name}, {"phase", "total"}})->Observe(total);
          batch_size_->Hist({{"model", name}})->Observe(static_cast<double>(t.batch_rows));
          requests_->Add({{"model", name},
                          {"version", pinned->version},
                          {"protocol", protocol},
                          {"outcome", out.ok() ? "success" : "failure"}},
                         1);
          done(std::move(out), t, pinned);
        });
    if (s.ok()) return;
    if (s.code() == StatusCode::kUnavailable && version.empty())
      continue;  // swapped meanwhile: take the new one
    requests_->Add(
        {{"model", name}, {"version", pinned->version}, {"protocol", protocol}, {"outcome", "rejected"}}, 1);
    return done(s, {}, pinned);
  }
  done(Unavailable("model '" + name + "' is reloading; retry"), {}, nullptr);
}

}  // namespace tamga
