#include "storage/sqlite/sqlite_db.h"

#include <chrono>

namespace tamga {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return AlreadyExists(msg);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return Unavailable(msg);
  return Internal(msg);
}

Result<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(sqlite3_db_handle(stmt_), rc, "step");
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const Options& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open " + options.path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  if (!options.read_only) {
    TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL"));
    if (options.background_checkpoint) TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA wal_autocheckpoint=65536"));
  }
  std::string sync = "PRAGMA synchronous=" + (options.synchronous == "FULL" ? std::string("FULL") : "NORMAL");
  TAMGA_RETURN_IF_ERROR(out->Exec(sync.c_str()));
  TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA foreign_keys=ON"));
  TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA case_sensitive_like=ON"));
  TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA cache_size=-65536"));
  TAMGA_RETURN_IF_ERROR(out->Exec("PRAGMA temp_store=MEMORY"));
  if (options.background_checkpoint && !options.read_only) {
    sqlite3* ckpt = nullptr;
    rc = sqlite3_open_v2(options.path.c_str(), &ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Status s = SqliteError(ckpt, rc, "open checkpointer for " + options.path);
      sqlite3_close(ckpt);
      return s;
    }
    sqlite3_exec(ckpt, sync.c_str(), nullptr, nullptr, nullptr);  // checkpoints sync as the writer would
    // A connection learns that the file is in WAL mode only once it reads it; until then a checkpoint
    // call on it does nothing.
    sqlite3_exec(ckpt, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    out->StartCheckpointer(ckpt, options.checkpoint_interval_ms);
  }
  return out;
}

void SqliteDb::StartCheckpointer(sqlite3* ckpt, int interval_ms) {
  checkpointer_ = std::thread([this, ckpt, interval_ms] {
    UniqueLock lock(&ckpt_mu_);
    while (!ckpt_cv_.wait_for(lock.native(), std::chrono::milliseconds(interval_ms), [this] {
      ckpt_mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return ckpt_stop_;
    })) {
      lock.unlock();
      // PASSIVE: copies what no reader still needs, never waits for or blocks the writer.
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2(ckpt, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        // Not in WAL mode yet (the schema was created after this connection first looked): look again.
        sqlite3_exec(ckpt, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
      }
      lock.lock();
    }
    sqlite3_close_v2(ckpt);
  });
}

SqliteDb::~SqliteDb() {
  if (checkpointer_.joinable()) {
    {
      MutexLock lock(&ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_all();
    checkpointer_.join();
  }
  ClearCache();  // statements are finalized before their connection closes
  sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Status s = SqliteError(nullptr, rc, msg);
    return Status(s.code(), "exec: " + msg);
  }
  return Status::Ok();
}

Result<std::unique_ptr<SqlStmt>> SqliteDb::PrepareUncached(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
  return std::unique_ptr<SqlStmt>(new SqliteStmt(stmt));
}

}  // namespace tamga
