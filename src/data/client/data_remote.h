#pragma once
// DataRemote: the CLI's side of the dataset API (docs/data.md, "Wire"): JSON calls, the batch missing-check,
// and parallel pack uploads and downloads between the local cache and a server. Packs group small objects
// (up to `pack_bytes` or `pack_objects` each; a large object travels alone), `jobs` run at once, each on its
// own connection, streamed both ways (no object is held in memory). A pack is durable on the server when its
// upload is answered, so an interrupted push resumes with what is still missing. Calls that fail with a
// connection error, 429 or 5xx are retried (every call is idempotent). Thread-safe.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "data/client/local_cache.h"
#include "data/client/progress.h"
#include "storage/dataset_store.h"

namespace tamga {

struct HttpClientRequest;

struct DataRemoteOptions {
  std::string base_url;                               // http(s)://host:port
  std::function<void(HttpClientRequest*)> authorize;  // adds credentials; may be empty
  int jobs = 4;
  int64_t pack_bytes = int64_t{16} << 20;
  int64_t pack_objects = 4096;
  int64_t timeout_ms = 120000;  // per network step while streaming
  int retries = 4;
};

class DataRemote {
 public:
  explicit DataRemote(DataRemoteOptions o) : o_(std::move(o)) {}
  // A JSON call; a server error becomes a Status with the server's message and the HTTP status's code.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const nlohmann::json& body);
  // Creates the dataset unless it exists.
  Status EnsureDataset(const std::string& name);
  Result<std::vector<std::string>> Missing(const std::string& dataset,
                                           const std::vector<std::string>& digests);

  struct Transfer {
    int64_t objects = 0;
    int64_t bytes = 0;
  };
  // Uploads the objects (all in the local cache) to the dataset.
  Result<Transfer> Upload(const std::string& dataset, const std::vector<DatasetObject>& objects,
                          LocalCache* cache, Progress* progress);
  // Downloads one object of unknown size (a manifest) into the local cache, verified.
  Status FetchObject(const std::string& dataset, const std::string& digest, LocalCache* cache);
  // Downloads the objects into the local cache, each verified against its digest.
  Result<Transfer> Download(const std::string& dataset, const std::vector<DatasetObject>& objects,
                            LocalCache* cache, Progress* progress);

 private:
  std::vector<std::vector<DatasetObject>> Packs(const std::vector<DatasetObject>& objects) const;
  Status RunPacks(const std::vector<std::vector<DatasetObject>>& packs,
                  const std::function<Status(const std::vector<DatasetObject>&)>& one);
  Status UploadPack(const std::string& dataset, const std::vector<DatasetObject>& pack, LocalCache* cache,
                    Progress* progress);
  Status DownloadPack(const std::string& dataset, const std::vector<DatasetObject>& pack, LocalCache* cache,
                      Progress* progress);
  DataRemoteOptions o_;
};

// The Status for a non-2xx answer (MLflow error JSON or anything else).
Status StatusFromHttp(int status, const std::string& body);

}  // namespace tamga
