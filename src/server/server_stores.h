#pragma once
// Where `tamga server` keeps its data (docs/scale-out.md, docs/operations.md): the metadata, identity and job
// stores on SQLite files (the embedded default, or --backend-store-uri sqlite:///...) or on PostgreSQL
// (--backend-store-uri postgresql://...), and the artifact store on a local folder or S3
// (--artifacts-destination, --default-artifact-root).
#include <functional>
#include <memory>
#include <optional>

#include "artifacts/blob_store.h"
#include "core/clock.h"
#include "core/dir_lock.h"
#include "core/random.h"
#include "core/store_uri.h"
#include "server/tamga_server.h"
#include "storage/auth_store.h"
#include "storage/dataset_store.h"
#include "storage/job_store.h"
#include "storage/sql/sql_metadata_store.h"
#include "storage/trigger_store.h"

namespace tamga {

struct BackendStores {
  std::unique_ptr<DirLock> store_dir_lock;  // the folder of a SQLite database outside the data dir
  // Set on PostgreSQL, where several replicas may share the database (docs/scale-out.md): the server opens
  // its listener, notifier and leader lock on it.
  std::optional<StoreUri> postgres;
  std::unique_ptr<SqlMetadataStore> metadata;
  std::function<Result<std::unique_ptr<JobStore>>()> open_jobs;
  std::function<Result<std::unique_ptr<AuthStore>>()> open_auth;
  std::function<Result<std::unique_ptr<DatasetStore>>()> open_datasets;
  std::function<Result<std::unique_ptr<TriggerStore>>()> open_triggers;
  std::string description;  // for the start-up log line, credentials redacted
  BackendStores();
  BackendStores(BackendStores&&) noexcept;
  BackendStores& operator=(BackendStores&&) noexcept;
  ~BackendStores();
};

// Opens (and migrates) the metadata store; the job and identity stores open later through the functions.
// The data dir must exist and be locked.
Result<BackendStores> OpenBackendStores(const ServerConfig& config);

Result<std::unique_ptr<BlobStore>> OpenArtifactStore(const ServerConfig& config, Clock* clock,
                                                     Random* random);

}  // namespace tamga
