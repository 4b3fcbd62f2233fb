#include "server/local_serving.h"

#include "core/log.h"

namespace tamga {

LocalServing::LocalServing(DeployService* deploy, ModelManager* models, std::string self_url,
                           std::string cache_dir)
    : deploy_(deploy), models_(models), self_url_(std::move(self_url)), cache_dir_(std::move(cache_dir)) {}

LocalServing::~LocalServing() { Shutdown(); }

void LocalServing::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      Reconcile();
      UniqueLock lock(&mu_);
      if (cv_.wait_for(lock.native(), std::chrono::seconds(1), [&] {
            mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
            return stop_;
          }))
        return;
    }
  });
}

void LocalServing::Shutdown() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&reconcile_mu_);
  for (auto& [name, s] : served_) StopServed(name, s);
  served_.clear();
}

void LocalServing::StopServed(const std::string& name, Served& s) {
  s.stopping->store(true);
  s.source->Stop();
  if (s.loader.joinable()) s.loader.join();
  s.source->Stop();  // a follower started while we were stopping
  (void)models_->Unload(name);
}

void LocalServing::Reconcile() {
  MutexLock lock(&reconcile_mu_);
  {
    MutexLock l(&mu_);
    if (stop_) return;
  }
  auto list = deploy_->List();
  if (!list.ok()) {
    TAMGA_LOG(kWarn, "cannot list deployments for local serving", {{"error", list.status().message()}});
    return;
  }
  std::map<std::string, std::string> wanted;  // deployment name -> models:/ URI
  for (const auto& d : *list) {
    auto spec = ParseDeploymentSpec(d.spec);
    if (!spec.ok() || spec->target != "local") continue;
    wanted[spec->name] = "models:/" + spec->model_name + "@" + spec->alias;
  }
  for (auto it = served_.begin(); it != served_.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && w->second == it->second.uri) {
      ++it;
      continue;
    }
    TAMGA_LOG(kInfo, "local deployment removed or changed; unloading", {{"deployment", it->first}});
    StopServed(it->first, it->second);
    it = served_.erase(it);
  }
  for (const auto& [name, uri] : wanted) {
    if (served_.count(name)) continue;
    TAMGA_LOG(kInfo, "serving local deployment", {{"deployment", name}, {"model_uri", uri}});
    Served& s = served_[name];
    s.uri = uri;
    s.source = std::make_unique<RegistrySource>(self_url_, uri, cache_dir_);
    s.source->SetAuthorization(authorization_);
    s.source->SetPinnedCertificate(pinned_cert_file_);
    s.stopping = std::make_unique<std::atomic<bool>>(false);
    RegistrySource* source = s.source.get();
    std::atomic<bool>* stopping = s.stopping.get();
    ModelManager* models = models_;
    std::string n = name;
    s.loader =
        std::thread([source, models, n, stopping] { ServeFromRegistry(source, models, n, true, stopping); });
  }
}

}  // namespace tamga
