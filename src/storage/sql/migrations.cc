#include "storage/sql/migrations.h"

#include <algorithm>
#include <regex>

#include "storage/sql/sql_db.h"

namespace tamga {

std::string PortableDdl(std::string_view sqlite_ddl, SqlDialect dialect) {
  // Lines after "-- @sqlite" or "-- @postgres" belong to that engine alone, until "-- @both".
  std::string s;
  bool keep = true;
  size_t pos = 0;
  while (pos < sqlite_ddl.size()) {
    size_t nl = sqlite_ddl.find('\n', pos);
    std::string_view line =
        sqlite_ddl.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos + 1);
    pos = nl == std::string_view::npos ? sqlite_ddl.size() : nl + 1;
    if (line.rfind("-- @sqlite", 0) == 0) {
      keep = dialect == SqlDialect::kSqlite;
    } else if (line.rfind("-- @postgres", 0) == 0) {
      keep = dialect == SqlDialect::kPostgres;
    } else if (line.rfind("-- @both", 0) == 0) {
      keep = true;
    } else if (keep) {
      s.append(line);
    }
  }
  if (dialect == SqlDialect::kSqlite) return s;
  // Written once in SQLite's dialect; PostgreSQL gets 64-bit integers, doubles, byte arrays and sequences.
  static const std::pair<std::regex, const char*> kRules[] = {
      {std::regex(R"(\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?)", std::regex::icase),
       "BIGSERIAL PRIMARY KEY"},
      {std::regex(R"(\bINTEGER\b)", std::regex::icase), "BIGINT"},
      {std::regex(R"(\bREAL\b)", std::regex::icase), "DOUBLE PRECISION"},
      {std::regex(R"(\bBLOB\b)", std::regex::icase), "BYTEA"},
      {std::regex(R"(\)\s*WITHOUT\s+ROWID)", std::regex::icase), ")"},
  };
  for (const auto& [re, to] : kRules) s = std::regex_replace(s, re, to);
  return s;
}

namespace {

// Replicas starting together on one PostgreSQL apply each step once: the whole run holds this lock.
constexpr const char* kPgMigrationLock = "SELECT pg_advisory_lock(7347301)";
constexpr const char* kPgMigrationUnlock = "SELECT pg_advisory_unlock(7347301)";

Status Apply(SqlDb& db, const std::vector<Migration>& list, const std::string& table, int* version_out) {
  const bool pg = db.dialect() == SqlDialect::kPostgres;
  TAMGA_RETURN_IF_ERROR(
      db.Exec(("CREATE TABLE IF NOT EXISTS " + table +
               (pg ? " (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at BIGINT NOT NULL DEFAULT (extract(epoch from now())::bigint))"
                   : " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))"))
                  .c_str()));
  int current = 0;
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.PrepareUncached("SELECT COALESCE(MAX(version), 0) FROM " + table));
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) current = static_cast<int>(stmt->Int(0));
  }
  int newest = 0;
  for (const Migration& m : list) {
    newest = std::max(newest, m.version);
    if (m.version <= current) continue;
    TAMGA_RETURN_IF_ERROR(db.BeginWrite());
    std::string sql = PortableDdl(m.sql, db.dialect());
    Status s = db.Exec(sql.c_str());
    if (s.ok()) {
      auto stmt = db.PrepareUncached("INSERT INTO " + table + "(version, name) VALUES (?1, ?2)");
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

}  // namespace

Status ApplyMigrations(SqlDb& db, const std::vector<Migration>& list, const std::string& table,
                       int* version_out) {
  if (db.dialect() != SqlDialect::kPostgres) return Apply(db, list, table, version_out);
  TAMGA_RETURN_IF_ERROR(db.Exec(kPgMigrationLock));
  Status s = Apply(db, list, table, version_out);
  Status u = db.Exec(kPgMigrationUnlock);
  return s.ok() ? u : s;
}

}  // namespace tamga
