#include "storage/sqlite/migrations.h"

#include <algorithm>

#include "storage/sqlite/sqlite_db.h"

namespace tamga {

Status ApplySqliteMigrations(SqliteDb& db, const std::vector<Migration>& list, int* version_out) {
  TAMGA_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"));
  int current = 0;
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) current = static_cast<int>(stmt->Int(0));
  }
  int newest = 0;
  for (const Migration& m : list) {
    newest = std::max(newest, m.version);
    if (m.version <= current) continue;
    TAMGA_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = db.Exec(m.sql);
    if (s.ok()) {
      auto stmt = db.PrepareUncached("INSERT INTO schema_migrations(version, name) VALUES (?1, ?2)");
      if (!stmt.ok()) {
        s = stmt.status();
      } else {
        (*stmt)->Bind(1, m.version).Bind(2, m.name);
        s = (*stmt)->Run();
      }
    }
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return Internal("migration " + std::string(m.name) + " failed: " + s.message());
    }
    TAMGA_RETURN_IF_ERROR(db.Exec("COMMIT"));
    current = m.version;
  }
  if (current > newest) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this binary supports (" + std::to_string(newest) + ")");
  }
  if (version_out) *version_out = current;
  return Status::Ok();
}

}  // namespace tamga
