#include "serving/lifecycle/model_manager.h"

#include <set>

#include "core/log.h"

namespace tamga {
namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Short(const std::string& s) { return s.substr(0, 200); }

}  // namespace

const char* ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kAvailable:
      return "available";
    case ModelState::kFailed:
      return "failed";
    case ModelState::kSnoozed:
      return "snoozed";
    case ModelState::kLoading:
      break;
  }
  return "loading";
}

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
  variant_requests_ = metrics_->Counter("tamga_serving_variant_requests_total",
                                        "Inference requests by model, traffic variant, version, outcome");
  variant_latency_ = metrics_->HistogramFamily("tamga_serving_variant_latency_seconds",
                                               "Inference latency per traffic variant (shadows included)",
                                               MetricsRegistry::LatencyBuckets());
  shadow_results_ = metrics_->Counter("tamga_serving_shadow_comparisons_total",
                                      "Shadow responses compared with the primary's: agree, disagree, "
                                      "failed (the shadow failed), dropped (its queue was full)");
  shadow_delta_ =
      metrics_->HistogramFamily("tamga_serving_shadow_max_abs_delta",
                                "Largest |primary - shadow| output difference per compared response",
                                {1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100});
  monitored_rows_ = metrics_->Counter("tamga_serving_monitored_rows_total",
                                      "Request rows scored against the version's reference statistics");
  outlier_rows_ = metrics_->Counter("tamga_serving_outlier_rows_total",
                                    "Request rows flagged as outliers (z-score or Mahalanobis distance)");
  drift_psi_ = metrics_->Gauge("tamga_serving_drift_psi",
                               "Population stability index of the last drift window, per feature");
  drift_ks_ = metrics_->Gauge("tamga_serving_drift_ks",
                              "Kolmogorov-Smirnov distance of the last drift window, per feature");
  gpu_memory_ = metrics_->Gauge("tamga_serving_model_gpu_memory_bytes",
                                "GPU memory a loaded model version takes (0 once unloaded), by GPU UUID");
  drift_windows_ = metrics_->Counter("tamga_serving_drift_windows_total",
                                     "Drift windows evaluated: result=drifted|stable");
}

ModelManager::~ModelManager() {
  shutting_down_ = true;
  std::vector<std::shared_ptr<LoadedVersion>> all;
  std::vector<Retiring> retiring;
  std::thread waiter;
  std::vector<std::function<void(bool)>> waiting;
  {
    MutexLock lock(&mu_);
    waiter.swap(waiter_thread_);
    std::set<LoadedVersion*> seen;
    for (auto& [name, e] : models_) {
      for (auto& w : e.waiters) waiting.push_back(std::move(w.ready));
      e.waiters.clear();
      for (auto& v : e.variants) {
        if (v.serving && seen.insert(v.serving.get()).second) all.push_back(v.serving);
        v.serving.reset();
      }
    }
    retiring.swap(retiring_);
  }
  if (waiter.joinable()) waiter.join();
  for (auto& w : waiting) w(false);
  for (auto& v : all) v->batcher->Stop();
  for (auto& r : retiring) r.thread.join();
}

Result<std::shared_ptr<LoadedVersion>> ModelManager::Build(const std::string& name,
                                                           const std::string& version,
                                                           const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  TAMGA_ASSIGN_OR_RETURN(ModelLayout layout, InspectModelDir(dir));
  RuntimeOptions runtime = options_.runtime;
  // `--device auto`: a GPU with room for it, reserved while it loads, or a refusal (docs/rollouts.md §9).
  GpuGrant grant;
  struct Release {
    GpuAdmission* gpu;
    const GpuGrant* grant;
    ~Release() {
      if (gpu && grant->id) gpu->Release(*grant);
    }
  } release{gpu_, &grant};
  int64_t used_before = -1;
  if (runtime.device == "auto") {
    runtime.device = "cpu";
    // Only runtimes that can use a GPU are placed on one: XGBoost runs on the CPU, and a TorchScript model
    // when this LibTorch has no CUDA; a Python worker's model may use one.
    bool gpu_capable =
        layout.flavor == "python_function" || (layout.flavor == "pytorch" && TorchCudaAvailable());
    if (gpu_ != nullptr && gpu_capable) {
      int64_t need = EstimateGpuBytes(dir, options_.instances);
      TAMGA_ASSIGN_OR_RETURN(grant, gpu_->Admit("model '" + Short(name) + "' version " + version, need));
      runtime.device = grant.device;
      runtime.gpu_uuid = grant.uuid;
      if (!grant.uuid.empty()) used_before = gpu_->ProcessBytes(grant.uuid);
      TAMGA_LOG(kInfo, "placing model version",
                {{"model", name},
                 {"version", version},
                 {"device", grant.device},
                 {"gpu", grant.uuid},
                 {"estimate_mib", std::to_string(need >> 20)}});
    }
  }
  std::vector<std::unique_ptr<ModelRuntime>> instances;
  for (int i = 0; i < std::max(1, options_.instances); ++i) {
    TAMGA_ASSIGN_OR_RETURN(auto rt, LoadModelRuntime(layout, runtime));
    instances.push_back(std::move(rt));
  }
  auto v = std::make_shared<LoadedVersion>();
  v->version = version;
  v->model = name;
  v->device = runtime.device;
  v->gpu_uuid = runtime.gpu_uuid;
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
  if (!v->gpu_uuid.empty()) {
    // What this load took on the GPU, when the driver reports this process; else the estimate.
    int64_t used_after = gpu_->ProcessBytes(v->gpu_uuid);
    v->gpu_bytes = used_before >= 0 && used_after > used_before ? used_after - used_before : grant.bytes;
  }
  return v;
}

ModelManager::Variant* ModelManager::FindVariant(Entry& e, const std::string& variant) {
  for (auto& v : e.variants) {
    if (v.status.name == variant) return &v;
  }
  return nullptr;
}

static Status ValidatePolicy(const TrafficPolicy& p) {
  std::set<std::string> names;
  int serving = 0;
  for (const auto& v : p.variants) {
    if (v.name.empty()) return InvalidArgument("a traffic variant has no name");
    if (!names.insert(v.name).second)
      return InvalidArgument("traffic variant '" + Short(v.name) + "' appears twice");
    if (!(v.weight >= 0))
      return InvalidArgument("traffic variant '" + Short(v.name) + "' has a negative weight");
    if (!v.shadow && v.weight > 0) ++serving;
  }
  if (serving == 0) return InvalidArgument("a traffic policy needs a serving variant with a weight above 0");
  return Status::Ok();
}

Status ModelManager::SetPolicy(const std::string& name, const TrafficPolicy& policy) {
  TAMGA_RETURN_IF_ERROR(ValidatePolicy(policy));
  MutexLock lock(&mu_);
  Entry& e = models_[name];
  std::vector<Variant> next;
  std::vector<std::shared_ptr<LoadedVersion>> dropped;
  std::set<std::string> kept;
  for (const auto& tv : policy.variants) kept.insert(tv.name);
  for (auto& v : e.variants) {
    if (!kept.count(v.status.name) && v.serving) dropped.push_back(std::move(v.serving));
  }
  for (const auto& tv : policy.variants) {
    Variant* old = FindVariant(e, tv.name);
    Variant v = old ? std::move(*old) : Variant{};
    v.status.name = tv.name;
    v.status.weight = tv.weight;
    v.status.shadow = tv.shadow;
    next.push_back(std::move(v));
  }
  e.variants = std::move(next);
  e.policy = policy;
  RetireUnused(&e, std::move(dropped));
  UpdateLoadedGauge();
  return Status::Ok();
}

Status ModelManager::SetWeights(const std::string& name, const std::map<std::string, double>& weights) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
  TrafficPolicy p = it->second.policy;
  for (const auto& [variant, w] : weights) {
    bool found = false;
    for (auto& v : p.variants) {
      if (v.name == variant) {
        v.weight = w;
        found = true;
      }
    }
    if (!found)
      return NotFound("model '" + Short(name) + "' has no traffic variant '" + Short(variant) + "'");
  }
  TAMGA_RETURN_IF_ERROR(ValidatePolicy(p));
  it->second.policy = p;
  for (auto& v : it->second.variants) {
    for (const auto& tv : p.variants) {
      if (tv.name == v.status.name) v.status.weight = tv.weight;
    }
  }
  return Status::Ok();
}

void ModelManager::ConfigurePayloadLog(const std::string& name, const PayloadLogOptions& options) {
  if (payload_logger_ == nullptr) return;
  payload_logger_->Configure(name, options);
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it != models_.end()) it->second.payload_sample = options.sample;
}

Status ModelManager::ClearVariant(const std::string& name, const std::string& variant) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  Variant* v = it == models_.end() ? nullptr : FindVariant(it->second, variant);
  if (!v) return NotFound("model '" + Short(name) + "' has no traffic variant '" + Short(variant) + "'");
  std::shared_ptr<LoadedVersion> old = std::move(v->serving);
  v->status =
      VariantStatus{v->status.name, ModelState::kLoading, "", "", "", v->status.weight, v->status.shadow};
  if (old) RetireUnused(&it->second, {std::move(old)});
  UpdateLoadedGauge();
  return Status::Ok();
}

void ModelManager::NoteProblem(const std::string& name, const std::string& variant, const std::string& why,
                               bool final) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    if (variant != kPrimaryVariant) return;
    it = models_.emplace(name, Entry{}).first;
    it->second.variants.push_back(Variant{});
    it->second.variants.back().status.name = kPrimaryVariant;
  }
  Variant* v = FindVariant(it->second, variant);
  if (!v) return;
  v->status.last_error = why;
  if (!v->serving) v->status.state = final ? ModelState::kFailed : ModelState::kLoading;
}

Status ModelManager::LoadVariant(const std::string& name, const std::string& variant,
                                 const std::string& version, const std::string& dir) {
  std::shared_ptr<LoadedVersion> shared;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      if (variant != kPrimaryVariant)
        return NotFound("model '" + Short(name) + "' has no traffic variant '" + Short(variant) + "'");
      it = models_.emplace(name, Entry{}).first;
      it->second.variants.push_back(Variant{});
      it->second.variants.back().status.name = kPrimaryVariant;
    }
    Variant* v = FindVariant(it->second, variant);
    if (!v) return NotFound("model '" + Short(name) + "' has no traffic variant '" + Short(variant) + "'");
    v->status.loading_version = version;
    if (!v->serving) v->status.state = ModelState::kLoading;
    for (const auto& other : it->second.variants) {
      if (other.serving && other.serving->version == version) shared = other.serving;
    }
  }
  Result<std::shared_ptr<LoadedVersion>> built = shared;
  if (!shared) {
    TAMGA_LOG(kInfo, "loading model version",
              {{"model", name}, {"variant", variant}, {"version", version}, {"path", dir}});
    built = Build(name, version, dir);
  }
  bool had_previous = false;
  bool gone = false;
  std::vector<std::function<void(bool)>> woken, failed_waiters;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    Variant* v = it == models_.end() ? nullptr : FindVariant(it->second, variant);
    if (!v) {
      gone = true;  // removed while loading: drop what was built
      if (built.ok() && !shared) Retire(std::move(*built));
    } else {
      v->status.loading_version.clear();
      had_previous = v->serving != nullptr;
      if (!built.ok()) {
        v->status.last_error = built.status().message();
        if (!v->serving) v->status.state = ModelState::kFailed;
        // A wake that cannot load answers its waiting requests now (with the reason), not at their timeout.
        Entry& e = it->second;
        bool pending = false;
        for (const auto& o : e.variants)
          pending = pending || (!o.status.shadow && (o.serving || o.status.state == ModelState::kLoading ||
                                                     o.status.state == ModelState::kSnoozed));
        if (e.snoozed && !pending) {
          for (auto& w : e.waiters) failed_waiters.push_back(std::move(w.ready));
          e.waiters.clear();
          e.waiting_bytes = 0;
        }
      } else {
        std::shared_ptr<LoadedVersion> old = std::move(v->serving);
        v->serving = *built;
        v->status.state = ModelState::kAvailable;
        if (!v->status.shadow) woken = TakeWaiters(name, it->second);
        v->status.serving_version = version;
        v->status.last_error.clear();
        if (!(*built)->gpu_uuid.empty()) {
          gpu_memory_->Set({{"model", name}, {"version", version}, {"gpu", (*built)->gpu_uuid}},
                           static_cast<double>((*built)->gpu_bytes));
        }
        if (old) RetireUnused(&it->second, {std::move(old)});
      }
      UpdateLoadedGauge();
    }
  }
  for (auto& w : woken) w(true);
  for (auto& w : failed_waiters) w(false);
  if (gone)
    return NotFound("model '" + Short(name) + "' variant '" + Short(variant) + "' was removed while loading");
  if (!built.ok()) {
    TAMGA_LOG(
        kError,
        had_previous ? "model version failed to load; the previous version keeps serving"
                     : "model version failed to load; nothing is serving this model",
        {{"model", name}, {"variant", variant}, {"version", version}, {"error", built.status().message()}});
    return built.status();
  }
  if (!shared) load_time_->Hist({{"model", name}})->Observe((*built)->load_seconds);
  TAMGA_LOG(kInfo, "model version serving",
            {{"model", name},
             {"variant", variant},
             {"version", version},
             {"load_ms", std::to_string(static_cast<int64_t>((*built)->load_seconds * 1000))}});
  return Status::Ok();
}

void ModelManager::RetireUnused(const Entry* e, std::vector<std::shared_ptr<LoadedVersion>> candidates) {
  std::set<LoadedVersion*> retired;
  for (auto& c : candidates) {
    bool used = false;
    if (e) {
      for (const auto& v : e->variants) used = used || v.serving == c;
    }
    if (!used && retired.insert(c.get()).second) Retire(std::move(c));
  }
}

void ModelManager::Retire(std::shared_ptr<LoadedVersion> old) {
  // Drain off the caller's thread: requests holding a handle on the old version still run on it; once none
  // does (or the drain timeout passes), the batcher stops and the version unloads.
  int64_t timeout_ms = options_.drain_timeout_ms;
  if (!old->gpu_uuid.empty())
    gpu_memory_->Set({{"model", old->model}, {"version", old->version}, {"gpu", old->gpu_uuid}}, 0);
  if (!old->model.empty()) {  // its drift figures go with it
    drift_psi_->RemovePrefix({{"model", old->model}, {"version", old->version}});
    drift_ks_->RemovePrefix({{"model", old->model}, {"version", old->version}});
  }
  // Join the drains that finished, so a long-running server with many rollouts keeps no dead threads.
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = retiring_.erase(it);
  }
  Retiring r;
  auto done = r.done;
  r.thread = std::thread([this, old = std::move(old), timeout_ms, done]() mutable {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (old.use_count() > 1 && !shutting_down_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    old->batcher->Stop();
    TAMGA_LOG(kInfo, "model version unloaded", {{"version", old->version}});
    old.reset();
    done->store(true);
  });
  retiring_.push_back(std::move(r));
}

void ModelManager::UpdateLoadedGauge() {
  int n = 0;
  for (const auto& [k, e] : models_) {
    for (const auto& v : e.variants) {
      if (v.serving && !v.status.shadow) {
        ++n;
        break;
      }
    }
  }
  loaded_->Set({}, n);
}

Status ModelManager::Unload(const std::string& name) {
  std::vector<std::function<void(bool)>> waiting;  // requests waiting for a wake: answered, not dropped
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
    for (auto& w : it->second.waiters) waiting.push_back(std::move(w.ready));
    std::vector<std::shared_ptr<LoadedVersion>> old;
    for (auto& v : it->second.variants) {
      if (v.serving) old.push_back(std::move(v.serving));
    }
    models_.erase(it);
    RetireUnused(nullptr, std::move(old));
    UpdateLoadedGauge();
  }
  for (auto& w : waiting) w(false);
  TAMGA_LOG(kInfo, "model removed", {{"model", name}});
  return Status::Ok();
}

ModelStatus ModelManager::StatusOf(const std::string& name, const Entry& e) {
  ModelStatus s;
  s.name = name;
  s.mode = e.policy.mode;
  const VariantStatus* lead = nullptr;
  for (const auto& v : e.variants) {
    s.variants.push_back(v.status);
    if (v.status.shadow) continue;
    if (!lead || (!lead->serving_version.size() && v.serving)) lead = &v.status;
  }
  if (lead) {
    s.state = e.snoozed && lead->serving_version.empty() ? ModelState::kSnoozed : lead->state;
    s.serving_version = lead->serving_version;
    s.loading_version = lead->loading_version;
    s.last_error = lead->last_error;
  }
  return s;
}

std::vector<ModelStatus> ModelManager::List() const {
  MutexLock lock(&mu_);
  std::vector<ModelStatus> out;
  for (const auto& [name, e] : models_) out.push_back(StatusOf(name, e));
  return out;
}

Result<ModelStatus> ModelManager::GetStatus(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
  return StatusOf(name, it->second);
}

Result<std::vector<VariantFigures>> ModelManager::Figures(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
  std::vector<VariantFigures> out;
  for (const auto& v : it->second.variants) {
    out.push_back(
        {v.status.name, v.status.serving_version, v.status.shadow, v.status.weight, v.stats->Snapshot()});
  }
  return out;
}

bool ModelManager::AllReady(bool vacuous_ready) const {
  MutexLock lock(&mu_);
  if (models_.empty()) return vacuous_ready;
  for (const auto& [name, e] : models_) {
    if (e.snoozed) continue;  // asleep on purpose: the next request wakes it
    bool any = false;
    for (const auto& v : e.variants) any = any || (v.serving && !v.status.shadow);
    if (!any) return false;
  }
  return true;
}

}  // namespace tamga
