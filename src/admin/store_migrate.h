#pragma once
// `tamga admin migrate` (docs/operations.md): moves a Tamga installation between engines — every table of the
// metadata and job stores from one store URI to another (SQLite <-> PostgreSQL), and optionally the
// artifacts between two destinations (folder <-> S3) — then verifies both.
//
// - Both schemas are brought to the current version first (the same numbered migrations), so tables match.
// - Tables are copied in migration order, in primary-key order, `batch_rows` at a time; each batch commits
//   with a progress row in the destination (tamga_migrate_progress), so an interrupted run resumes where it
//   stopped. The destination must otherwise be empty (never started a server).
// - PostgreSQL sequences are moved past the copied ids (new experiments, events and users continue them).
// - Verification: row counts and a SHA-256 over every value of every row in key order, on both sides.
// - Artifacts: every file below the source root is copied unless the destination already has it with the
//   same size; each copy is read back and its SHA-256 compared.
// The source must not change meanwhile: stop its servers (a SQLite source's data dir lock is taken).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"

namespace tamga {

struct MigrateOptions {
  std::string from;  // sqlite:///path/tamga.db (jobs.db beside it) or postgresql://...
  std::string to;
  std::string artifacts_from;  // "" = metadata only; file:///dir, a path, or s3://bucket/prefix
  std::string artifacts_to;
  int64_t batch_rows = 2000;
  int64_t stop_after_batches = 0;  // > 0: stop with Aborted after that many batches (tests of resuming)
  std::function<void(const std::string&)> progress;  // one line per table / artifact milestone
};

struct TableReport {
  std::string table;
  int64_t rows = 0;
  std::string sha256;  // over the table's rows in key order; equal on both sides
};

struct MigrateReport {
  std::vector<TableReport> tables;
  int64_t artifacts_copied = 0;
  int64_t artifacts_skipped = 0;  // already there with the same size
  int64_t artifact_bytes = 0;
};

Result<MigrateReport> MigrateStores(const MigrateOptions& options, Clock* clock, Random* random);

class SqlDb;
// PostgreSQL: every serial column's sequence moved past the column's largest value (after rows were written
// with their ids). Nothing to do on SQLite.
Status MovePgSequencesPast(SqlDb& db);

}  // namespace tamga
