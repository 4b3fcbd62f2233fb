#pragma once
// LocalServing: deployments with target "local" served inside `tamga server`. A reconcile loop compares the
// stored deployments with what is being served (once a second, and at start): a new local deployment gets
// a registry source for models:/<model>@<alias> and is loaded and followed exactly as `tamga serve` does
// (the source talks to this server over loopback, so both paths share one tested code path); a deleted one,
// or one whose model or alias changed, is unloaded (its queued requests finish first). Served under the
// deployment's name: /v2/models/{deployment}/..., /endpoints/{deployment}/invocations, gRPC if enabled.
//
// Thread-safe. Borrows every dependency.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "deploy/deploy_service.h"
#include "serving/lifecycle/model_manager.h"
#include "serving/lifecycle/registry_source.h"

namespace tamga {

class LocalServing {
 public:
  LocalServing(DeployService* deploy, ModelManager* models, std::string self_url, std::string cache_dir);
  ~LocalServing();
  // The Authorization header for the server's own registry API (auth on). Call before Start.
  void SetAuthorization(std::string header) { authorization_ = std::move(header); }
  // The server's own certificate when it serves HTTPS (self_url is https://): calls to itself pin it.
  void SetPinnedCertificate(std::string pem_file) { pinned_cert_file_ = std::move(pem_file); }
  void Start();
  void Shutdown();
  // One reconcile pass (also run by the loop); exposed for tests.
  void Reconcile();

 private:
  struct Served {
    std::string uri;
    std::unique_ptr<RegistrySource> source;
    std::unique_ptr<std::atomic<bool>> stopping;
    std::thread loader;
  };
  void StopServed(const std::string& name, Served& s);

  DeployService* deploy_;
  ModelManager* models_;
  const std::string self_url_;
  const std::string cache_dir_;
  std::string authorization_;
  std::string pinned_cert_file_;
  Mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  Mutex reconcile_mu_;  // one reconcile at a time
  std::map<std::string, Served> served_ GUARDED_BY(reconcile_mu_);
  std::thread thread_;
};

}  // namespace tamga
