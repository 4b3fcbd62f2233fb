#pragma once
// Thin RAII wrappers over the SQLite C API: a connection with a prepared-statement cache, and a
// statement with typed binds and columns. Every SQL text here is a constant written in this folder;
// user values are always bound. A SqliteDb is used by one thread at a time.
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

namespace tamga {

class SqliteStmt {
 public:
  explicit SqliteStmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt() { sqlite3_finalize(stmt_); }

  SqliteStmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, int v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, long long v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqliteStmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  SqliteStmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  SqliteStmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqliteStmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Returns true when a row is available, false when done; errors become Internal/AlreadyExists.
  Result<bool> Step();
  // Runs to completion, discarding rows.
  Status Run();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
  }
  sqlite3_stmt* raw() { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

// A cached statement, reset (bindings cleared) when the guard goes out of scope.
class StmtGuard {
 public:
  explicit StmtGuard(SqliteStmt* s) : s_(s) {}
  ~StmtGuard() { s_->Reset(); }
  SqliteStmt* operator->() { return s_; }
  SqliteStmt& operator*() { return *s_; }

 private:
  SqliteStmt* s_;
};

class SqliteDb {
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

  Status Exec(const char* sql);
  // Prepared once per connection and cached by SQL text.
  Result<StmtGuard> Prepare(const std::string& sql);
  // Not cached: for statements built per query (search).
  Result<std::unique_ptr<SqliteStmt>> PrepareUncached(const std::string& sql);
  int64_t LastInsertRowid() { return sqlite3_last_insert_rowid(db_); }
  int Changes() { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  void StartCheckpointer(sqlite3* db, int interval_ms);
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<SqliteStmt>> cache_;
  // Background checkpoints (Options::background_checkpoint).
  std::thread checkpointer_;
  Mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ GUARDED_BY(ckpt_mu_) = false;
};

Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Steps `stmt` to the end, calling fn(stmt) for each row.
template <typename Fn>
Status ForEachRow(SqliteStmt& stmt, Fn fn) {
  for (;;) {
    auto row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    fn(stmt);
  }
}

}  // namespace tamga
