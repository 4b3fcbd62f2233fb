#pragma once
// Numbered schema migrations, applied in order at start-up inside one transaction each; the applied
// version is recorded in schema_migrations. PostgreSQL will carry the same numbers.
#include <string>
#include <vector>

namespace tamga {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& SqliteMigrations();

}  // namespace tamga
