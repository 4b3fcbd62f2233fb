// ModelManager's request path: routing by the traffic policy, execution on the handle's version, and
// shadow mirroring with output comparison (docs/rollouts.md §1-2).
#include "core/log.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {
namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Short(const std::string& s) { return s.substr(0, 200); }

}  // namespace

// The primary's outcome, shared with the shadows mirrored from the same request: whichever finishes
// second compares.
struct ModelManager::MirrorState {
  Mutex mu;
  bool primary_done GUARDED_BY(mu) = false;
  std::shared_ptr<const std::vector<Tensor>> primary GUARDED_BY(mu);  // null when the primary failed
  struct Pending {
    size_t shadow;
    std::vector<Tensor> outputs;
  };
  std::vector<Pending> waiting GUARDED_BY(mu);  // shadows that finished first
};

Result<ModelHandle> ModelManager::Route(const std::string& name, const std::string& version,
                                        const HeaderLookup* header) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
  const Entry& e = it->second;
  e.last_used_ms = SteadyMillis();
  ModelHandle h;
  h.model = name;
  auto take = [&h](const Variant& v) {
    h.variant = v.status.name;
    h.version = v.serving;
    h.stats = v.stats;
  };
  if (!version.empty()) {
    std::string serving;
    for (const auto& v : e.variants) {
      if (!v.serving) continue;
      if (v.serving->version == version) {
        take(v);
        return h;
      }
      serving += (serving.empty() ? "" : ", ") + v.serving->version;
    }
    if (!serving.empty()) {
      return NotFound("version " + version.substr(0, 50) + " of model '" + Short(name) +
                      "' is not loaded (serving version " + serving + ")");
    }
  }
  // Serving variants with a version, weighted; nothing loaded -> say why.
  std::vector<double> weights;
  std::vector<const Variant*> candidates;
  for (const auto& v : e.variants) {
    if (v.status.shadow || !v.serving) continue;
    candidates.push_back(&v);
    weights.push_back(v.status.weight);
  }
  if (candidates.empty() && e.snoozed) {
    // Woken once; again when a wake has not finished within a minute (its load failed: try once more).
    const int64_t now = SteadyMillis();
    if (!e.waking || now - e.waking_since_ms > 60000) {
      e.waking = true;
      e.waking_since_ms = now;
      TAMGA_LOG(kInfo, "waking snoozed model", {{"model", Short(name)}});
      if (wake_listener_) wake_listener_(name);
    }
    return Unavailable("model '" + Short(name) + "' was snoozed while idle and is waking up; retry shortly");
  }
  if (candidates.empty()) {
    ModelStatus st = StatusOf(name, e);
    if (!st.loading_version.empty()) {
      return Unavailable(
          "model '" + Short(name) + "' is loading version " + st.loading_version + "; not ready yet" +
          (st.last_error.empty() ? "" : " (the previous attempt failed: " + st.last_error + ")"));
    }
    return Unavailable(
        "model '" + Short(name) + "' is not ready: " +
        (st.last_error.empty() ? "no version loaded yet" : "loading failed: " + st.last_error));
  }
  int pick = 0;
  if (candidates.size() > 1) {
    double u = -1;
    if (e.policy.mode == TrafficMode::kAb && header && !e.policy.sticky_header.empty()) {
      std::string key = (*header)(e.policy.sticky_header);
      if (!key.empty()) u = StickyDraw(name, key);
    }
    if (u < 0) u = RandomDraw();
    pick = PickWeighted(weights, u);
    if (pick < 0) pick = 0;  // every loaded serving variant at weight 0: the first one answers
  }
  take(*candidates[pick]);
  if (!version.empty()) return h;
  for (const auto& v : e.variants) {
    if (!v.status.shadow || !v.serving) continue;
    if (e.policy.shadow_sample < 1 && RandomDraw() >= e.policy.shadow_sample) continue;
    h.shadows.push_back({v.status.name, v.serving, v.stats});
  }
  h.shadow_atol = e.policy.shadow_atol;
  h.shadow_rtol = e.policy.shadow_rtol;
  h.payload_sample = e.payload_sample;
  h.monitoring = e.monitoring;
  return h;
}

Result<std::shared_ptr<LoadedVersion>> ModelManager::Get(const std::string& name,
                                                         const std::string& version) const {
  if (!version.empty()) {
    TAMGA_ASSIGN_OR_RETURN(ModelHandle h, Route(name, version));
    return h.version;
  }
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it != models_.end()) {
      for (const auto& v : it->second.variants) {
        if (!v.status.shadow && v.serving) return v.serving;
      }
    }
  }
  TAMGA_ASSIGN_OR_RETURN(ModelHandle h, Route(name));  // the error that explains why
  return h.version;
}

void ModelManager::RecordInvalidInput(const ModelHandle& h, const std::string& protocol) {
  const std::string& version = h.version ? h.version->version : "";
  requests_->Add(
      {{"model", h.model}, {"version", version}, {"protocol", protocol}, {"outcome", "invalid_input"}}, 1);
  variant_requests_->Add(
      {{"model", h.model}, {"variant", h.variant}, {"version", version}, {"outcome", "invalid_input"}}, 1);
  if (h.stats) h.stats->Invalid();
}

void ModelManager::Infer(const ModelHandle& handle, std::vector<Tensor> inputs, const std::string& protocol,
                         Done done) {
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<LoadedVersion> pinned = handle.version;
  const std::string& name = handle.model;
  if (!pinned) {
    requests_->Add({{"model", name}, {"version", ""}, {"protocol", protocol}, {"outcome", "error"}}, 1);
    return done(Unavailable("model '" + Short(name) + "' has no version to run this request"), {}, nullptr);
  }
  // Shadows get a copy taken before the primary consumes the inputs; they are submitted after it.
  // A sampled request keeps a copy of its inputs for the payload log.
  std::shared_ptr<const std::vector<Tensor>> logged;
  if (payload_logger_ != nullptr && handle.payload_sample > 0 &&
      (handle.payload_sample >= 1 || RandomDraw() < handle.payload_sample)) {
    logged = std::make_shared<const std::vector<Tensor>>(inputs);
  }
  std::vector<Tensor> mirror;
  std::shared_ptr<MirrorState> state;
  if (!handle.shadows.empty()) {
    mirror = inputs;
    state = std::make_shared<MirrorState>();
  }
  std::string variant = handle.variant;
  std::shared_ptr<VariantStats> stats = handle.stats;
  double atol = handle.shadow_atol, rtol = handle.shadow_rtol;
  std::vector<ModelHandle::Shadow> shadows = handle.shadows;
  Status s = pinned->batcher->Submit(
      inputs, [this, pinned, name, variant, stats, protocol, start, done, state, shadows, atol, rtol, logged](
                  Result<std::vector<Tensor>> out, InferTimings t) {
        auto elapsed = std::chrono::steady_clock::now() - start;
        double total = Seconds(elapsed);
        latency_->Hist({{"model", name}, {"phase", "queue"}})->Observe(t.queue_ns / 1e9);
        latency_->Hist({{"model", name}, {"phase", "compute"}})->Observe(t.compute_ns / 1e9);
        latency_->Hist({{"model", name}, {"phase", "total"}})->Observe(total);
        batch_size_->Hist({{"model", name}})->Observe(static_cast<double>(t.batch_rows));
        const char* outcome = out.ok() ? "success" : "failure";
        requests_->Add(
            {{"model", name}, {"version", pinned->version}, {"protocol", protocol}, {"outcome", outcome}}, 1);
        variant_requests_->Add(
            {{"model", name}, {"variant", variant}, {"version", pinned->version}, {"outcome", outcome}}, 1);
        variant_latency_->Hist({{"model", name}, {"variant", variant}})->Observe(total);
        if (stats)
          stats->Answered(out.ok(), std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
        if (state) {
          std::vector<MirrorState::Pending> waiting;
          std::shared_ptr<const std::vector<Tensor>> primary;
          if (out.ok()) primary = std::make_shared<const std::vector<Tensor>>(*out);
          {
            MutexLock lock(&state->mu);
            state->primary_done = true;
            state->primary = primary;
            waiting.swap(state->waiting);
          }
          for (auto& w : waiting) {
            if (!primary) continue;
            CompareShadow(name, shadows[w.shadow], *primary, w.outputs, atol, rtol);
          }
        }
        if (logged) {
          PayloadRecord rec;
          rec.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
          rec.model = name;
          rec.variant = variant;
          rec.version = pinned->version;
          rec.protocol = protocol;
          rec.ok = out.ok();
          rec.latency_ms = total * 1000;
          rec.inputs = logged.get();
          rec.outputs = out.ok() ? &*out : nullptr;
          payload_logger_->Log(rec);
        }
        done(std::move(out), t, pinned);
      });
  if (!s.ok()) {
    requests_->Add(
        {{"model", name}, {"version", pinned->version}, {"protocol", protocol}, {"outcome", "rejected"}}, 1);
    variant_requests_->Add(
        {{"model", name}, {"variant", variant}, {"version", pinned->version}, {"outcome", "rejected"}}, 1);
    return done(s, {}, pinned);
  }
  if (state) MirrorToShadows(handle, std::move(mirror), state);
}

void ModelManager::CompareShadow(const std::string& name, const ModelHandle::Shadow& sh,
                                 const std::vector<Tensor>& primary, const std::vector<Tensor>& shadow,
                                 double atol, double rtol) {
  OutputComparison c = CompareOutputs(primary, shadow, atol, rtol);
  sh.stats->ShadowCompared(c);
  shadow_results_->Add({{"model", name}, {"variant", sh.variant}, {"result", c.agree ? "agree" : "disagree"}},
                       1);
  shadow_delta_->Hist({{"model", name}, {"variant", sh.variant}})->Observe(c.max_abs_delta);
}

void ModelManager::MirrorToShadows(const ModelHandle& handle, std::vector<Tensor> inputs,
                                   const std::shared_ptr<MirrorState>& state) {
  const std::string name = handle.model;
  double atol = handle.shadow_atol, rtol = handle.shadow_rtol;
  for (size_t i = 0; i < handle.shadows.size(); ++i) {
    const ModelHandle::Shadow& sh = handle.shadows[i];
    std::vector<Tensor> copy = i + 1 == handle.shadows.size() ? std::move(inputs) : inputs;
    auto start = std::chrono::steady_clock::now();
    Status s = sh.version->batcher->Submit(copy, [this, state, name, sh, i, atol, rtol, start](
                                                     Result<std::vector<Tensor>> out, InferTimings) {
      auto elapsed = std::chrono::steady_clock::now() - start;
      const char* outcome = out.ok() ? "success" : "failure";
      variant_requests_->Add(
          {{"model", name}, {"variant", sh.variant}, {"version", sh.version->version}, {"outcome", outcome}},
          1);
      variant_latency_->Hist({{"model", name}, {"variant", sh.variant}})->Observe(Seconds(elapsed));
      sh.stats->Answered(out.ok(), std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
      if (!out.ok()) {
        sh.stats->ShadowFailed();
        shadow_results_->Add({{"model", name}, {"variant", sh.variant}, {"result", "failed"}}, 1);
        return;
      }
      std::shared_ptr<const std::vector<Tensor>> primary;
      {
        MutexLock lock(&state->mu);
        if (!state->primary_done) {
          state->waiting.push_back({i, std::move(*out)});
          return;
        }
        primary = state->primary;
      }
      if (!primary) return;  // the primary failed: nothing to compare with
      CompareShadow(name, sh, *primary, *out, atol, rtol);
    });
    if (!s.ok()) {
      sh.stats->ShadowDropped();
      shadow_results_->Add({{"model", name}, {"variant", sh.variant}, {"result", "dropped"}}, 1);
    }
  }
}

}  // namespace tamga
