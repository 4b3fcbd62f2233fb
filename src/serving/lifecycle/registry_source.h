#pragma once
// HttpRegistrySource: where `tamga serve models:/name@alias --tracking-uri URL` gets its aspired version.
// Resolve asks the registry which version the URI means (GET /api/2.0/tamga/models/resolve); Fetch
// downloads that version's files through the artifact proxy into a local cache keyed by the version's
// immutable storage location (a registered version's files never change), published atomically; Follow
// long-polls the registry's events outbox and calls back whenever the URI resolves to another version.
//
// Thread-safe; Follow runs on its own thread until Stop().
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/result.h"
#include "serving/lifecycle/model_source.h"

namespace tamga {

class HttpRegistrySource final : public ModelSource {
 public:
  HttpRegistrySource(std::string registry_url, std::string model_uri, std::string cache_dir);
  ~HttpRegistrySource() override;

  // The Authorization header for every registry call ("" = none). Call before Resolve/Follow.
  void SetAuthorization(std::string header) { authorization_ = std::move(header); }
  // HTTPS: the registry must present exactly this certificate.
  void SetPinnedCertificate(std::string pem_file) { pinned_cert_file_ = std::move(pem_file); }

  Result<ResolvedVersion> Resolve() const override;
  Result<std::string> Fetch(const ResolvedVersion& v) const override;
  void Follow(ResolvedVersion current, std::function<bool(const ResolvedVersion&)> changed) override;
  void Stop() override;

 private:
  Result<std::string> Get(const std::string& path_and_query, int64_t timeout_ms) const;
  Status Download(const std::string& blob_dir, const std::string& local_dir, int depth) const;

  const std::string registry_;
  const std::string uri_;
  const std::string cache_;
  std::string authorization_;
  std::string pinned_cert_file_;
  std::atomic<bool> stop_{false};
  std::thread follower_;
};

}  // namespace tamga
