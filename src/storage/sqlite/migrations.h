#pragma once
// Numbered schema migrations, applied in order at start-up inside one transaction each; the applied
// version is recorded in schema_migrations. PostgreSQL will carry the same numbers.
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& SqliteMigrations();     // tamga.db (migrations/)
const std::vector<Migration>& SqliteJobMigrations();  // jobs.db (job_migrations/)

class SqliteDb;
// Applies the steps newer than the database's recorded version, each in its own transaction, and records
// them in schema_migrations. FailedPrecondition when the database is newer than `list`.
Status ApplySqliteMigrations(SqliteDb& db, const std::vector<Migration>& list, int* version_out);

}  // namespace tamga
