#pragma once
// Numbered schema migrations, applied in order at start-up inside one transaction each; the applied
// version is recorded in schema_migrations. Written once in SQLite's dialect; PostgreSQL runs the same steps
// with the same numbers through PortableDdl, under an advisory lock (replicas starting together).
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/sql/sql_db.h"

namespace tamga {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& MetadataMigrations();  // tamga.db (migrations/)
const std::vector<Migration>& JobMigrations();       // jobs.db (job_migrations/)

// A migration's DDL for `dialect`: on PostgreSQL INTEGER becomes BIGINT (INTEGER PRIMARY KEY a BIGSERIAL),
// REAL DOUBLE PRECISION, BLOB BYTEA, and WITHOUT ROWID goes. Lines after "-- @sqlite" / "-- @postgres" (up
// to "-- @both") are kept for that engine only (triggers, engine-specific functions).
std::string PortableDdl(std::string_view sqlite_ddl, SqlDialect dialect);
// Applies the steps newer than the database's recorded version, each in its own transaction, and records
// them in `table` (one per list: the metadata and job stores share one PostgreSQL database).
// FailedPrecondition when the database is newer than `list`.
Status ApplyMigrations(SqlDb& db, const std::vector<Migration>& list, const std::string& table,
                       int* version_out);

}  // namespace tamga
