#pragma once
// Where metadata and artifacts live (docs/scale-out.md), given with MLflow's flag names:
//   --backend-store-uri     sqlite:///relative.db | sqlite:////abs/path.db |
//   postgresql[+driver]://user:pass@host:port/db?k=v
//   --artifacts-destination file:///abs/dir | /abs/dir | relative/dir | s3://bucket/prefix
// Parsed once at start-up; the credentials never reach a log line (Redacted()). Pure functions; inputs
// longer than 4096 bytes or holding control characters are refused.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

struct StoreUri {
  enum class Kind { kSqlite, kPostgres, kFile, kS3 };
  Kind kind = Kind::kSqlite;
  std::string path;  // sqlite: the database file; file: the folder
  // postgres
  std::string user, password, host, database;
  int port = 0;                               // 0 = the default (5432)
  std::map<std::string, std::string> params;  // ?sslmode=require&host=/run/postgresql ...
  // s3
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'
  std::string original;

  // The URI with any password replaced by "***" (for logs and errors).
  std::string Redacted() const;
};

Result<StoreUri> ParseBackendStoreUri(std::string_view uri);  // sqlite or postgres
Result<StoreUri> ParseArtifactsUri(std::string_view uri);     // file or s3

}  // namespace tamga
