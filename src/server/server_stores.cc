#include "server/server_stores.h"

#include <filesystem>

#include "artifacts/artifact_path.h"
#include "artifacts/local/local_blob_store.h"
#include "artifacts/s3/s3_blob_store.h"
#include "core/log.h"
#include "core/store_uri.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/pg_stores.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {

BackendStores::BackendStores() = default;
BackendStores::BackendStores(BackendStores&&) noexcept = default;
BackendStores& BackendStores::operator=(BackendStores&&) noexcept = default;
BackendStores::~BackendStores() = default;

namespace {

// The databases hold password and token hashes, job specs with their secrets and every run: readable by the
// server's user only.
void OwnerOnly(const std::string& path) {
  std::error_code ec;
  for (const char* f : {"", "-wal", "-shm"}) {
    std::filesystem::permissions(path + f,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
  }
}

Result<BackendStores> OpenPostgres(const StoreUri& uri) {
  BackendStores out;
  out.description = uri.Redacted();
  out.postgres = uri;
  TAMGA_ASSIGN_OR_RETURN(out.metadata, OpenPgMetadataStore(uri));
  out.open_jobs = [uri] { return OpenPgJobStore(uri); };
  out.open_auth = [uri] { return OpenPgAuthStore(uri); };
  out.open_datasets = [uri] { return OpenPgDatasetStore(uri); };
  out.open_triggers = [uri] { return OpenPgTriggerStore(uri); };
  return out;
}

}  // namespace

Result<BackendStores> OpenBackendStores(const ServerConfig& config) {
  SqliteStoreOptions so;
  so.path = config.data_dir + "/tamga.db";
  so.synchronous = config.sqlite_sync;
  BackendStores out;
  if (!config.backend_store_uri.empty()) {
    TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseBackendStoreUri(config.backend_store_uri));
    if (uri.kind == StoreUri::Kind::kPostgres) return OpenPostgres(uri);
    so.path = uri.path;
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::absolute(so.path).parent_path();
    std::filesystem::create_directories(parent, ec);
    // One writer per SQLite database: a second server given the same file (from another data dir) is refused.
    if (!std::filesystem::equivalent(parent, config.data_dir, ec)) {
      TAMGA_ASSIGN_OR_RETURN(out.store_dir_lock, DirLock::Acquire(parent.string()));
    }
  }
  TAMGA_ASSIGN_OR_RETURN(out.metadata, OpenSqliteMetadataStore(so));
  OwnerOnly(so.path);
  out.description = "sqlite:///" + so.path;
  std::string jobs = config.data_dir + "/jobs.db";
  std::string sync = config.sqlite_sync;
  out.open_jobs = [jobs, sync]() -> Result<std::unique_ptr<JobStore>> {
    auto store = OpenSqliteJobStore(jobs, sync);
    OwnerOnly(jobs);
    return store;
  };
  out.open_auth = [path = so.path, sync] { return OpenSqliteAuthStore(path, sync); };
  out.open_datasets = [path = so.path, sync] { return OpenSqliteDatasetStore(path, sync); };
  out.open_triggers = [path = so.path, sync] { return OpenSqliteTriggerStore(path, sync); };
  return out;
}

// Where artifacts live: --artifacts-destination (file:/// or s3://), or the s3:// --default-artifact-root of
// MLflow's direct mode (the server reads the same bucket the clients write), or <data-dir>/artifacts.
Result<std::unique_ptr<BlobStore>> OpenArtifactStore(const ServerConfig& config, Clock* clock,
                                                     Random* random) {
  std::string where = config.artifacts_destination;
  if (!config.default_artifact_root.empty() && config.default_artifact_root != "mlflow-artifacts:" &&
      config.default_artifact_root != "mlflow-artifacts:/") {
    TAMGA_ASSIGN_OR_RETURN(StoreUri root, ParseArtifactsUri(config.default_artifact_root));
    if (root.kind != StoreUri::Kind::kS3) {
      return InvalidArgument(
          "--default-artifact-root must be mlflow-artifacts: (the proxy) or s3://bucket/prefix");
    }
    if (!where.empty() && where != config.default_artifact_root) {
      return InvalidArgument(
          "--default-artifact-root s3://... is where clients write directly; --artifacts-destination must be "
          "the same place or unset");
    }
    where = config.default_artifact_root;
    SetDirectArtifactRoot(where);  // its URIs map onto the store's paths like mlflow-artifacts: ones
  } else if (config.no_serve_artifacts) {
    return InvalidArgument(
        "--no-serve-artifacts needs --default-artifact-root s3://bucket/prefix (where the "
        "clients upload themselves)");
  }
  if (where.empty()) {
    TAMGA_ASSIGN_OR_RETURN(auto local, LocalBlobStore::Create({config.data_dir + "/artifacts"}, random));
    return std::unique_ptr<BlobStore>(std::move(local));
  }
  TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseArtifactsUri(where));
  if (uri.kind == StoreUri::Kind::kFile) {
    TAMGA_ASSIGN_OR_RETURN(auto local, LocalBlobStore::Create({uri.path}, random));
    return std::unique_ptr<BlobStore>(std::move(local));
  }
  TAMGA_ASSIGN_OR_RETURN(S3Config s3, S3ConfigFromEnv(uri, ProcessEnv()));
  auto store = S3BlobStore::Create({}, s3, clock);
  if (!store.ok()) {
    return Status(store.status().code(),
                  "artifact store " + uri.Redacted() + ": " + store.status().message());
  }
  TAMGA_LOG(kInfo, "artifacts in S3",
            {{"destination", uri.Redacted()}, {"endpoint", s3.endpoint.empty() ? "AWS" : s3.endpoint}});
  return std::unique_ptr<BlobStore>(std::move(*store));
}

}  // namespace tamga
