#pragma once
// The SQL engines behind the metadata, registry, job and identity stores (docs/scale-out.md): one connection
// (SqlDb) with a prepared-statement cache, and a statement (SqlStmt) with typed binds and columns. SQLite
// (storage/sqlite) and PostgreSQL (storage/postgres) implement them; the stores in this folder are written
// once against them. Every SQL text is a constant written in the stores; user values are always bound.
//
// SQL is written in the subset both engines share, with SQLite's placeholders (?1, ?2 ... or ?); the
// PostgreSQL connection rewrites them to $1, $2 ... when it prepares. Where the engines differ the stores
// ask the connection (dialect()). A SqlDb is used by one thread at a time.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

enum class SqlDialect { kSqlite, kPostgres };

// The storage class of one value in a result row (for code that copies rows it does not know: admin migrate).
enum class SqlValueType { kNull, kInt, kDouble, kText, kBlob };

class SqlStmt {
 public:
  virtual ~SqlStmt() = default;
  SqlStmt() = default;
  SqlStmt(const SqlStmt&) = delete;
  SqlStmt& operator=(const SqlStmt&) = delete;

  SqlStmt& Bind(int i, int64_t v) { return BindInt(i, v); }
  SqlStmt& Bind(int i, int v) { return BindInt(i, v); }
  SqlStmt& Bind(int i, long long v) { return BindInt(i, static_cast<int64_t>(v)); }
  SqlStmt& Bind(int i, double v) { return BindDouble(i, v); }
  SqlStmt& Bind(int i, std::string_view v) { return BindText(i, v); }
  SqlStmt& Bind(int i, const char* v) { return BindText(i, std::string_view(v)); }
  SqlStmt& Bind(int i, const std::string& v) { return BindText(i, std::string_view(v)); }
  virtual SqlStmt& BindInt(int i, int64_t v) = 0;
  virtual SqlStmt& BindDouble(int i, double v) = 0;
  virtual SqlStmt& BindText(int i, std::string_view v) = 0;
  virtual SqlStmt& BindBlob(int i, std::string_view v) = 0;
  virtual SqlStmt& BindNull(int i) = 0;

  // Returns true when a row is available, false when done; a constraint violation is AlreadyExists, a lock
  // or serialization conflict Unavailable, anything else Internal.
  virtual Result<bool> Step() = 0;
  // Runs to completion, discarding rows.
  Status Run();
  // A write whose outcome the caller does not need now: the connection may send it without waiting
  // (PostgreSQL's pipeline, when the connection defers writes) and report a failure at the next synchronous
  // call, through SqlDb::DeferredWriteFailed. Default: Run().
  virtual Status RunLater() { return Run(); }
  // Ready to run again; bindings cleared.
  virtual void Reset() = 0;

  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  // Valid until the next Step or Reset.
  virtual std::string_view Blob(int col) const = 0;
  // The result's shape and the current row's value types.
  virtual int ColumnCount() const = 0;
  virtual std::string ColumnName(int col) const = 0;
  virtual SqlValueType ValueType(int col) const = 0;
};

// A cached statement, reset (bindings cleared) when the guard goes out of scope.
class StmtGuard {
 public:
  explicit StmtGuard(SqlStmt* s) : s_(s) {}
  StmtGuard(StmtGuard&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  StmtGuard(const StmtGuard&) = delete;
  ~StmtGuard() {
    if (s_) s_->Reset();
  }
  SqlStmt* operator->() { return s_; }
  SqlStmt& operator*() { return *s_; }

 private:
  SqlStmt* s_;
};

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs one or more statements without parameters or results.
  virtual Status Exec(const char* sql) = 0;
  // Prepared once per connection and cached by SQL text.
  Result<StmtGuard> Prepare(const std::string& sql);
  // Not cached: for statements built per query (search).
  virtual Result<std::unique_ptr<SqlStmt>> PrepareUncached(const std::string& sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE run on this connection.
  virtual int Changes() = 0;
  // Opens a write transaction that takes the write lock at once (SQLite: BEGIN IMMEDIATE).
  virtual Status BeginWrite() = 0;
  // Whether RunLater may defer (the group commit's first, optimistic pass), and whether a deferred write of
  // the current transaction failed (the transaction is then lost: the caller rolls back and replays).
  virtual void SetDeferWrites(bool) {}
  virtual bool DeferredWriteFailed() const { return false; }

 protected:
  void ClearCache() { cache_.clear(); }
  // Told when a statement joins the cache (it lives as long as the connection).
  virtual void Cached(SqlStmt*) {}

 private:
  std::map<std::string, std::unique_ptr<SqlStmt>> cache_;
};

// Runs an INSERT ... RETURNING <id> to the end and returns the id.
Result<int64_t> RunReturningId(SqlStmt& stmt);

// Steps `stmt` to the end, calling fn(stmt) for each row.
template <typename Fn>
Status ForEachRow(SqlStmt& stmt, Fn fn) {
  for (;;) {
    auto row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    fn(stmt);
  }
}

}  // namespace tamga
