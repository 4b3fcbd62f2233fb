#pragma once
// InProcessRegistrySource: the ModelSource of `tamga server`'s local deployments. It resolves models:/ URIs
// with the server's own RegistryService, copies a version's files out of its BlobStore into the model cache
// and follows the registry through its EventHub (woken on every committed event, also those another replica
// committed), so local serving needs no loopback HTTP and no internal token.
//
// Thread-safe; Follow runs on its own thread until Stop(). Borrows the registry and hub.
#include <atomic>
#include <string>
#include <thread>

#include "registry/event_hub.h"
#include "registry/registry_service.h"
#include "serving/lifecycle/model_source.h"

namespace tamga {

class InProcessRegistrySource final : public ModelSource {
 public:
  InProcessRegistrySource(RegistryService* registry, EventHub* hub, std::string model_uri,
                          std::string cache_dir);
  ~InProcessRegistrySource() override;

  Result<ResolvedVersion> Resolve() const override;
  Result<std::string> Fetch(const ResolvedVersion& v) const override;
  void Follow(ResolvedVersion current, std::function<bool(const ResolvedVersion&)> changed) override;
  void Stop() override;
  // Reads the statistics the version's last reference-score test stored (rollout/reference_tests.h).
  Result<std::string> ReferenceStatsJson(const ResolvedVersion& v) const override;

 private:
  Status Copy(const std::string& blob_dir, const std::string& local_dir, int depth) const;

  RegistryService* registry_;
  EventHub* hub_;
  const std::string uri_;
  const std::string cache_;
  std::atomic<bool> stop_{false};
  std::thread follower_;
};

}  // namespace tamga
