#pragma once
// The stores on SQLite files (the embedded default): the metadata store on tamga.db (one writer connection
// with a background checkpointer, a pool of readers, WAL), the identity store on the same file through its
// own connection, and the job store on jobs.db.
#include <memory>
#include <string>

#include "storage/auth_store.h"
#include "storage/dataset_store.h"
#include "storage/job_store.h"
#include "storage/sql/sql_metadata_store.h"
#include "storage/trigger_store.h"

namespace tamga {

struct SqliteStoreOptions {
  std::string path;                    // database file; created if missing
  std::string synchronous = "NORMAL";  // "NORMAL" survives kill -9; "FULL" survives power loss too
  int max_idle_readers = 8;            // reader connections kept open between calls
};

// Opens (creating if needed) and applies pending migrations. Internal on I/O or schema errors.
Result<std::unique_ptr<SqlMetadataStore>> OpenSqliteMetadataStore(const SqliteStoreOptions& options);
// The identity store on the metadata database (migrated by the metadata store first).
Result<std::unique_ptr<AuthStore>> OpenSqliteAuthStore(const std::string& path,
                                                       const std::string& synchronous);
// The dataset store on the metadata database (migrated by the metadata store first).
Result<std::unique_ptr<DatasetStore>> OpenSqliteDatasetStore(const std::string& path,
                                                             const std::string& synchronous);
// The trigger store on the metadata database (migrated by the metadata store first).
Result<std::unique_ptr<TriggerStore>> OpenSqliteTriggerStore(const std::string& path,
                                                             const std::string& synchronous);
// The job store at `path` (created with its schema when missing).
Result<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path,
                                                     const std::string& synchronous = "NORMAL");

}  // namespace tamga
