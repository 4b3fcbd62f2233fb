#include "storage/sqlite/sqlite_stores.h"

#include "storage/sqlite/sqlite_db.h"

namespace tamga {

Result<std::unique_ptr<SqlMetadataStore>> OpenSqliteMetadataStore(const SqliteStoreOptions& options) {
  SqlMetadataStore::Connector c;
  c.open_writer = [options]() -> Result<std::unique_ptr<SqlDb>> {
    TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open({options.path, false, options.synchronous, true}));
    return std::unique_ptr<SqlDb>(std::move(db));
  };
  c.open_reader = [options]() -> Result<std::unique_ptr<SqlDb>> {
    TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open({options.path, false, options.synchronous}));
    return std::unique_ptr<SqlDb>(std::move(db));
  };
  c.max_idle_readers = options.max_idle_readers;
  return SqlMetadataStore::Create(std::move(c));
}

Result<std::unique_ptr<AuthStore>> OpenSqliteAuthStore(const std::string& path,
                                                       const std::string& synchronous) {
  SqliteDb::Options o;
  o.path = path;
  o.synchronous = synchronous;
  TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o));
  return NewSqlAuthStore(std::move(db));
}

Result<std::unique_ptr<DatasetStore>> OpenSqliteDatasetStore(const std::string& path,
                                                             const std::string& synchronous) {
  SqliteDb::Options o;
  o.path = path;
  o.synchronous = synchronous;
  TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o));
  return NewSqlDatasetStore(std::move(db));
}

Result<std::unique_ptr<TriggerStore>> OpenSqliteTriggerStore(const std::string& path,
                                                             const std::string& synchronous) {
  SqliteDb::Options o;
  o.path = path;
  o.synchronous = synchronous;
  TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o));
  return NewSqlTriggerStore(std::move(db));
}

Result<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path,
                                                     const std::string& synchronous) {
  SqliteDb::Options o;
  o.path = path;
  o.synchronous = synchronous;
  o.background_checkpoint = true;
  TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(o));
  return NewSqlJobStore(std::move(db));
}

}  // namespace tamga
