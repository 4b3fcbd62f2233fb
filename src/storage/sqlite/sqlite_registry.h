#pragma once
// SQLite registry implementation (storage/registry_store.h), shared by the store's read side and its
// write transaction. Reads are free functions over one connection so both sides run the same SQL.
#include <functional>
#include <memory>
#include <string>

#include "storage/registry_store.h"
#include "storage/sqlite/sqlite_db.h"

namespace tamga {

// A borrowed connection; `release` (may be empty) runs when the handle dies (returns a pooled reader).
class SqliteDbHandle {
 public:
  SqliteDbHandle(SqliteDb* db, std::function<void()> release) : db_(db), release_(std::move(release)) {}
  SqliteDbHandle(SqliteDbHandle&& o) noexcept : db_(o.db_), release_(std::move(o.release_)) {
    o.release_ = nullptr;
  }
  SqliteDbHandle(const SqliteDbHandle&) = delete;
  ~SqliteDbHandle() {
    if (release_) release_();
  }
  SqliteDb& operator*() { return *db_; }

 private:
  SqliteDb* db_;
  std::function<void()> release_;
};

// RegistryReader over connections obtained from `acquire` (a pooled reader, or the writer inside a txn).
std::unique_ptr<RegistryReader> NewSqliteRegistryReader(std::function<Result<SqliteDbHandle>()> acquire);
// RegistryTxn on the writer connection; its reader() reads through the same connection.
std::unique_ptr<RegistryTxn> NewSqliteRegistryTxn(SqliteDb* db);

// Model and version loading/search (sqlite_registry_models.cc).
Result<int64_t> SqliteModelPk(SqliteDb& db, const std::string& name);  // NotFound
Result<RegisteredModel> SqliteLoadRegisteredModel(SqliteDb& db, int64_t model_pk);
Result<ModelVersion> SqliteLoadModelVersion(SqliteDb& db, int64_t model_pk, int64_t version);  // live only
Result<RegisteredModelPage> SqliteSearchRegisteredModels(SqliteDb& db, const RegistryQuery& q);
Result<ModelVersionPage> SqliteSearchModelVersions(SqliteDb& db, const RegistryQuery& q);

// Logged models (sqlite_logged_models.cc).
Result<LoggedModel> SqliteLoadLoggedModel(SqliteDb& db, const std::string& model_id);  // NotFound
Result<LoggedModelPage> SqliteSearchLoggedModels(SqliteDb& db, const LoggedModelQuery& q);

}  // namespace tamga
