#pragma once
// SQLite behind the SqlDb interface (storage/sql/sql_db.h): a connection in WAL mode with its PRAGMAs and an
// optional background checkpointer, and its statements. A SqliteDb is used by one thread at a time.
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/mutex.h"
#include "core/result.h"
#include "storage/sql/sql_db.h"

namespace tamga {

class SqliteStmt final : public SqlStmt {
 public:
  explicit SqliteStmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStmt() override { sqlite3_finalize(stmt_); }

  SqlStmt& BindInt(int i, int64_t v) override {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqlStmt& BindDouble(int i, double v) override {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  SqlStmt& BindText(int i, std::string_view v) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqlStmt& BindBlob(int i, std::string_view v) override {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqlStmt& BindNull(int i) override {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  Result<bool> Step() override;
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string_view Blob(int col) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
  }
  int ColumnCount() const override { return sqlite3_column_count(stmt_); }
  std::string ColumnName(int col) const override {
    const char* n = sqlite3_column_name(stmt_, col);
    return n ? n : "";
  }
  SqlValueType ValueType(int col) const override {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_INTEGER:
        return SqlValueType::kInt;
      case SQLITE_FLOAT:
        return SqlValueType::kDouble;
      case SQLITE_TEXT:
        return SqlValueType::kText;
      case SQLITE_BLOB:
        return SqlValueType::kBlob;
      default:
        return SqlValueType::kNull;
    }
  }
  sqlite3_stmt* raw() { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb final : public SqlDb {
 public:
  struct Options {
    std::string path;
    bool read_only = false;
    // "NORMAL" (default: survives process crashes, kill -9) or "FULL" (also survives power loss).
    std::string synchronous = "NORMAL";
    // For the one writer connection of a file: a background thread (with its own connection) copies the
    // WAL back into the database with PASSIVE checkpoints every checkpoint_interval_ms, so commits never pay
    // for a checkpoint (a commit that crosses SQLite's auto-checkpoint threshold otherwise does it inline:
    // tens of milliseconds of tail latency). Auto-checkpoint stays on at a high threshold as a backstop.
    bool background_checkpoint = false;
    int checkpoint_interval_ms = 200;
  };
  static Result<std::unique_ptr<SqliteDb>> Open(const Options& options);
  ~SqliteDb();

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Status Exec(const char* sql) override;
  Result<std::unique_ptr<SqlStmt>> PrepareUncached(const std::string& sql) override;
  int Changes() override { return sqlite3_changes(db_); }
  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  void StartCheckpointer(sqlite3* db, int interval_ms);
  sqlite3* db_;
  // Background checkpoints (Options::background_checkpoint).
  std::thread checkpointer_;
  Mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ GUARDED_BY(ckpt_mu_) = false;
};

Status SqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace tamga
