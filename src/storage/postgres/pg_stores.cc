#include "storage/postgres/pg_stores.h"

#include "storage/postgres/pg_db.h"

namespace tamga {

namespace {
Result<std::unique_ptr<SqlDb>> Connect(const StoreUri& uri) {
  TAMGA_ASSIGN_OR_RETURN(auto db, PgDb::Open(uri));
  return std::unique_ptr<SqlDb>(std::move(db));
}
}  // namespace

Result<std::unique_ptr<SqlMetadataStore>> OpenPgMetadataStore(const StoreUri& uri, int max_idle_readers) {
  SqlMetadataStore::Connector c;
  c.open_writer = [uri] { return Connect(uri); };
  c.open_reader = [uri] { return Connect(uri); };
  c.max_idle_readers = max_idle_readers;
  return SqlMetadataStore::Create(std::move(c));
}

Result<std::unique_ptr<AuthStore>> OpenPgAuthStore(const StoreUri& uri) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Connect(uri));
  return NewSqlAuthStore(std::move(db));
}

Result<std::unique_ptr<DatasetStore>> OpenPgDatasetStore(const StoreUri& uri) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Connect(uri));
  return NewSqlDatasetStore(std::move(db));
}

Result<std::unique_ptr<TriggerStore>> OpenPgTriggerStore(const StoreUri& uri) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Connect(uri));
  return NewSqlTriggerStore(std::move(db));
}

Result<std::unique_ptr<JobStore>> OpenPgJobStore(const StoreUri& uri) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Connect(uri));
  return NewSqlJobStore(std::move(db));
}

}  // namespace tamga
