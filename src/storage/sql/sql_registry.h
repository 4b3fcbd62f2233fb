#pragma once
// SQLite registry implementation (storage/registry_store.h), shared by the store's read side and its
// write transaction. Reads are free functions over one connection so both sides run the same SQL.
#include <functional>
#include <memory>
#include <string>

#include "storage/registry_store.h"
#include "storage/sql/sql_db.h"

namespace tamga {

// A borrowed connection; `release` (may be empty) runs when the handle dies (returns a pooled reader).
class SqlDbHandle {
 public:
  SqlDbHandle(SqlDb* db, std::function<void()> release) : db_(db), release_(std::move(release)) {}
  SqlDbHandle(SqlDbHandle&& o) noexcept : db_(o.db_), release_(std::move(o.release_)) {
    o.release_ = nullptr;
  }
  SqlDbHandle(const SqlDbHandle&) = delete;
  ~SqlDbHandle() {
    if (release_) release_();
  }
  SqlDb& operator*() { return *db_; }

 private:
  SqlDb* db_;
  std::function<void()> release_;
};

// RegistryReader over connections obtained from `acquire` (a pooled reader, or the writer inside a txn).
std::unique_ptr<RegistryReader> NewSqlRegistryReader(std::function<Result<SqlDbHandle>()> acquire);
// RegistryTxn on the writer connection; its reader() reads through the same connection.
std::unique_ptr<RegistryTxn> NewSqlRegistryTxn(SqlDb* db);

// Model and version loading/search (sql_registry_models.cc).
Result<int64_t> SqlModelPk(SqlDb& db, const std::string& name);  // NotFound
Result<RegisteredModel> SqlLoadRegisteredModel(SqlDb& db, int64_t model_pk);
Result<ModelVersion> SqlLoadModelVersion(SqlDb& db, int64_t model_pk, int64_t version);  // live only
Result<RegisteredModelPage> SqlSearchRegisteredModels(SqlDb& db, const RegistryQuery& q);
Result<ModelVersionPage> SqlSearchModelVersions(SqlDb& db, const RegistryQuery& q);

// Webhook deliveries: the columns every delivery query selects, and the rows of such a query.
extern const char* const kSqlDeliveryFields;  // in the order SqlDeliveries reads
Result<std::vector<WebhookDelivery>> SqlDeliveries(SqlStmt& s);

// Logged models (sql_logged_models.cc).
Result<LoggedModel> SqlLoadLoggedModel(SqlDb& db, const std::string& model_id);  // NotFound
Result<LoggedModelPage> SqlSearchLoggedModels(SqlDb& db, const LoggedModelQuery& q);

}  // namespace tamga
