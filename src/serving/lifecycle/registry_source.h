#pragma once
// RegistrySource: where `tamga serve models:/name@alias --registry URL` gets its aspired version.
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

namespace tamga {

struct ResolvedVersion {
  std::string name;      // registered model name
  std::string version;   // "3"
  std::string location;  // artifact location (mlflow-artifacts:/...)
};

class RegistrySource {
 public:
  RegistrySource(std::string registry_url, std::string model_uri, std::string cache_dir);
  ~RegistrySource();

  // The Authorization header for every registry call ("" = none). Call before Resolve/Follow.
  void SetAuthorization(std::string header) { authorization_ = std::move(header); }
  // HTTPS: the registry must present exactly this certificate (the server's calls to itself).
  void SetPinnedCertificate(std::string pem_file) { pinned_cert_file_ = std::move(pem_file); }

  Result<ResolvedVersion> Resolve() const;
  // Local directory holding the version's files.
  Result<std::string> Fetch(const ResolvedVersion& v) const;
  // Calls `changed` (on the follower thread) with each newly resolved version; starts after `current`.
  void Follow(ResolvedVersion current, std::function<void(const ResolvedVersion&)> changed);
  void Stop();

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

class ModelManager;

// Serves `source`'s model as `name` in `models`: resolves and fetches (retrying while the registry is
// unreachable, until `stopping`), loads it, then, when `follow`, hot reloads each version the registry moves
// the URI to. Returns once following has started (the follower runs until source->Stop()) or on a permanent
// error (unknown model or alias), which is logged. Blocking: run it on its own thread.
void ServeFromRegistry(RegistrySource* source, ModelManager* models, const std::string& name, bool follow,
                       const std::atomic<bool>* stopping);

// "models:/name@alias" -> "name" (the V2 model name); "" when not a models:/ URI.
std::string RegisteredNameOf(const std::string& model_uri);

}  // namespace tamga
