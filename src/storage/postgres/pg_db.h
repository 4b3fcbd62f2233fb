#pragma once
// PostgreSQL behind the SqlDb interface (storage/sql/sql_db.h), over libpq. Statements are prepared once per
// connection (PQprepare) with SQLite's placeholders rewritten (?1 -> $1, ? -> the next number); parameters go
// as text (bytea as binary) and results come back as text, decoded by the column getters (bytea from its hex
// form). The group commit's writes can be pipelined (RunLater): one round trip for many statements.
// SQLSTATE classes map onto Status codes: integrity violations (23) AlreadyExists, data exceptions
// (22) InvalidArgument, serialization failures and deadlocks (40) and lost connections (08) Unavailable. A
// PgDb is used by one thread at a time; only this target links libpq.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/store_uri.h"
#include "storage/sql/sql_db.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace tamga {

class PgDb final : public SqlDb {
 public:
  // Connects to the database a postgresql:// URI names (its ?params are libpq keywords: sslmode, host=/socket
  // dir, connect_timeout ...). The password never appears in errors.
  static Result<std::unique_ptr<PgDb>> Open(const StoreUri& uri);
  ~PgDb() override;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(const char* sql) override;
  Result<std::unique_ptr<SqlStmt>> PrepareUncached(const std::string& sql) override;
  int Changes() override { return changes_; }
  Status BeginWrite() override;
  void SetDeferWrites(bool on) override { defer_writes_ = on; }
  bool DeferredWriteFailed() const override { return !deferred_error_.ok(); }

  // Pipeline mode (libpq 14+): RunLater sends a statement without waiting while writes are deferred; every
  // synchronous call first reads the pending results (Drain), keeping the first failure.
  bool defer_writes() const { return defer_writes_; }
  Status SendLater(const char* name, int n, const char* const* values, const int* lengths,
                   const int* formats);
  Status Drain();

  PGconn* raw() { return conn_; }
  void set_changes(int n) { changes_ = n; }
  // A Status for a failed result (nullptr: the connection's last error).
  Status ErrorOf(const PGresult* res, std::string_view what) const;

 protected:
  void Cached(SqlStmt* stmt) override;

 private:
  explicit PgDb(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  int changes_ = 0;
  bool defer_writes_ = false;
  bool in_pipeline_ = false;
  int pending_ = 0;  // statements sent in the pipeline whose results are unread
  Status deferred_error_ = Status::Ok();
  int64_t next_stmt_ = 0;
};

// The application_name every new connection of this process reports ("tamga" until set; the server sets
// "tamga <replica id>", so a replica's sessions can be told apart in pg_stat_activity). At most 63 bytes.
void SetPgApplicationName(const std::string& name);
std::string PgApplicationName();

// SQLite placeholders to PostgreSQL's: ?NNN -> $NNN, a bare ? -> $(largest so far + 1), outside quoted text.
// *params_out: the number of parameters (the largest index).
std::string PgPlaceholders(std::string_view sql, int* params_out);
// bytea's text form ("\x0102...") to bytes; false when malformed.
bool PgDecodeBytea(std::string_view text, std::string* out);

}  // namespace tamga
