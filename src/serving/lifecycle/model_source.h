#pragma once
// ModelSource: where a served variant gets its aspired version. Resolve says which registered version a
// models:/ URI means now; Fetch gives a local directory holding that version's files; Follow calls back
// whenever the URI moves to another version. Two implementations: HttpRegistrySource (registry_source.h,
// `tamga serve` against a registry over HTTP) and InProcessRegistrySource (src/server/, `tamga server`'s own
// registry and blob store, no loopback HTTP).
//
// Implementations are thread-safe; Follow runs on its own thread until Stop().
#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "core/result.h"
#include "serving/routing/traffic.h"

namespace tamga {

struct ResolvedVersion {
  std::string name;      // registered model name
  std::string version;   // "3"
  std::string location;  // artifact location (mlflow-artifacts:/...)
};

// What an endpoint should serve: its traffic policy and each variant's models:/ URI (a followed alias or a
// pinned version). `key` is the policy as text: two plans with equal keys and URIs serve the same way.
struct EndpointPlan {
  TrafficPolicy policy;
  std::map<std::string, std::string> uris;  // variant -> models:/...
  std::string key;
};

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  // NotFound when the URI does not resolve (unknown model, alias not set yet); Unavailable when the
  // registry cannot be reached; InvalidArgument for a URI that can never be served.
  virtual Result<ResolvedVersion> Resolve() const = 0;
  // Local directory holding the version's files (cached by its immutable storage location).
  virtual Result<std::string> Fetch(const ResolvedVersion& v) const = 0;
  // Calls `changed` (on the follower thread) with each newly resolved version; starts after `current`.
  // `changed` returns false when it could not take the version (its load failed): the next registry change
  // offers it again, even if the URI still means that version.
  virtual void Follow(ResolvedVersion current, std::function<bool(const ResolvedVersion&)> changed) = 0;
  // Stops following; idempotent.
  virtual void Stop() = 0;
  // The version's reference statistics (serving/monitoring/reference_stats.h JSON) for outlier and drift
  // monitoring; NotFound when it has none (the default: a source that cannot tell).
  virtual Result<std::string> ReferenceStatsJson(const ResolvedVersion& v) const {
    return NotFound("no reference statistics for version " + v.version);
  }
};

// The cache directory for a version stored at `blob_path` (a path in the artifact store): `cache_dir`/<key>.
// When it is not complete yet, `download(tmp_dir)` fills a fresh temporary directory, which is then published
// atomically (rename), so a crash or a concurrent fetch never leaves a half-written version behind.
Result<std::string> FetchIntoCache(const std::string& cache_dir, const std::string& blob_path,
                                   const std::function<Status(const std::string& tmp_dir)>& download);

// A follower's step after a registry change: logs a resolve failure, or calls `changed` (and updates
// *current) when the URI now means another version.
void NoteResolved(const std::string& uri, const Result<ResolvedVersion>& v, ResolvedVersion* current,
                  const std::function<bool(const ResolvedVersion&)>& changed);

class ModelManager;

// Serves `source`'s model as variant `variant` of endpoint `name` in `models`: resolves and fetches
// (retrying while the registry is unreachable or the alias is not set, until `stopping`), loads it, then,
// when `follow`, hot reloads each version the registry moves the URI to. Returns once following has
// started (the follower runs until source->Stop()) or on a permanent error (unknown pinned version, a
// model that cannot be served), which is logged and recorded in the variant's status. Blocking: run it on
// its own thread.
void ServeFromSource(ModelSource* source, ModelManager* models, const std::string& name,
                     const std::string& variant, bool follow, const std::atomic<bool>* stopping);

// "models:/name@alias" -> "name" (the V2 model name); "" when not a models:/ URI.
std::string RegisteredNameOf(const std::string& model_uri);

}  // namespace tamga
