#include "admin/store_migrate.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <regex>

#include "admin/artifact_copy.h"
#include "core/dir_lock.h"
#include "core/hmac.h"
#include "core/store_uri.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/pg_stores.h"
#include "storage/sql/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {

namespace {

// One side of the move: the metadata database and the job database (the same one on PostgreSQL).
struct Side {
  StoreUri uri;
  std::unique_ptr<SqlDb> meta;
  std::unique_ptr<SqlDb> jobs;  // null on PostgreSQL: `meta` holds the job tables too
  std::unique_ptr<DirLock> lock;
  SqlDb& For(bool job_table) { return job_table && jobs ? *jobs : *meta; }
};

// `locked`: the folder the other side already locked ("" = none), so two SQLite files in one folder work.
Result<Side> OpenSide(const std::string& text, bool source, const std::string& locked) {
  Side s;
  TAMGA_ASSIGN_OR_RETURN(s.uri, ParseBackendStoreUri(text));
  if (s.uri.kind == StoreUri::Kind::kPostgres) {
    {  // current schema on both stores (migrations under their advisory lock)
      TAMGA_ASSIGN_OR_RETURN(auto meta, OpenPgMetadataStore(s.uri, 0));
      TAMGA_ASSIGN_OR_RETURN(auto jobs, OpenPgJobStore(s.uri));
    }
    TAMGA_ASSIGN_OR_RETURN(auto db, PgDb::Open(s.uri));
    s.meta = std::move(db);
    return s;
  }
  std::filesystem::path dir = std::filesystem::absolute(s.uri.path).parent_path();
  if (source && !std::filesystem::exists(s.uri.path)) return NotFound("no database at " + s.uri.path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // The folder's lock: no server may run on a SQLite side while it is copied.
  if (dir.string() != locked) {
    TAMGA_ASSIGN_OR_RETURN(s.lock, DirLock::Acquire(dir.string()));
  }
  std::string jobs_path = (dir / "jobs.db").string();
  {
    TAMGA_ASSIGN_OR_RETURN(auto meta, OpenSqliteMetadataStore({s.uri.path}));
    TAMGA_ASSIGN_OR_RETURN(auto jobs, OpenSqliteJobStore(jobs_path));
  }
  TAMGA_ASSIGN_OR_RETURN(auto meta, SqliteDb::Open({s.uri.path}));
  TAMGA_ASSIGN_OR_RETURN(auto jobs, SqliteDb::Open({jobs_path}));
  s.meta = std::move(meta);
  s.jobs = std::move(jobs);
  return s;
}

// Tables in the order the migrations create them (parents before children).
std::vector<std::pair<std::string, bool>> Tables() {
  std::vector<std::pair<std::string, bool>> out;
  static const std::regex kCreate(R"(CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+))");
  for (bool job : {false, true}) {
    for (const Migration& m : job ? JobMigrations() : MetadataMigrations()) {
      std::string sql = m.sql;
      for (std::sregex_iterator it(sql.begin(), sql.end(), kCreate), end; it != end; ++it) {
        out.emplace_back((*it)[1].str(), job);
      }
    }
  }
  return out;
}

Result<std::vector<std::string>> PrimaryKey(SqlDb& db, const std::string& table) {
  std::vector<std::string> cols;
  if (db.dialect() == SqlDialect::kSqlite) {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db.PrepareUncached("SELECT name, pk FROM pragma_table_info(?1) WHERE pk > 0 "
                                              "ORDER BY pk"));
    s->Bind(1, table);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { cols.push_back(r.Text(0)); }));
  } else {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db.PrepareUncached("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                           "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = CAST(?1 AS regclass) AND "
                           "i.indisprimary ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)"));
    s->Bind(1, table);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { cols.push_back(r.Text(0)); }));
  }
  if (cols.empty()) return Internal("table " + table + " has no primary key");
  return cols;
}

Result<int64_t> CountRows(SqlDb& db, const std::string& table) {
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached("SELECT COUNT(*) FROM " + table));
  TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
  return row ? s->Int(0) : 0;
}

// One value as the checksum sees it: engines agree on these forms for the same data.
void HashValue(EVP_MD_CTX* ctx, SqlStmt& r, int col) {
  std::string v;
  switch (r.ValueType(col)) {
    case SqlValueType::kNull:
      v = "n";
      break;
    case SqlValueType::kInt:
      v = "i" + std::to_string(r.Int(col));
      break;
    case SqlValueType::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "d%.17g", r.Double(col));
      v = buf;
      break;
    }
    case SqlValueType::kText: {
      std::string t = r.Text(col);
      v = "t" + std::to_string(t.size()) + ":" + t;
      break;
    }
    case SqlValueType::kBlob: {
      std::string_view b = r.Blob(col);
      v = "b" + std::to_string(b.size()) + ":" + std::string(b);
      break;
    }
  }
  EVP_DigestUpdate(ctx, v.data(), v.size());
}

void BindValue(SqlStmt& to, int pos, SqlStmt& from, int col) {
  switch (from.ValueType(col)) {
    case SqlValueType::kNull:
      to.BindNull(pos);
      break;
    case SqlValueType::kInt:
      to.BindInt(pos, from.Int(col));
      break;
    case SqlValueType::kDouble:
      to.BindDouble(pos, from.Double(col));
      break;
    case SqlValueType::kText:
      to.BindText(pos, from.Text(col));
      break;
    case SqlValueType::kBlob:
      to.BindBlob(pos, from.Blob(col));
      break;
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Rows and SHA-256 of a table, in key order.
Result<TableReport> Digest(SqlDb& db, const std::string& table, const std::vector<std::string>& key) {
  TableReport rep;
  rep.table = table;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached("SELECT * FROM " + table + " ORDER BY " + Join(key)));
  TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
    ++rep.rows;
    for (int c = 0; c < r.ColumnCount(); ++c) HashValue(ctx.get(), r, c);
    EVP_DigestUpdate(ctx.get(), "|", 1);
  }));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  rep.sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
  return rep;
}

constexpr const char* kProgressDdl =
    "CREATE TABLE IF NOT EXISTS tamga_migrate_progress (tbl TEXT PRIMARY KEY, copied BIGINT NOT NULL, "
    "done BIGINT NOT NULL)";

struct Progress {
  int64_t copied = 0;
  bool done = false;
  bool known = false;
};

Result<Progress> ReadProgress(SqlDb& db, const std::string& table) {
  TAMGA_RETURN_IF_ERROR(db.Exec(kProgressDdl));
  TAMGA_ASSIGN_OR_RETURN(
      auto s, db.PrepareUncached("SELECT copied, done FROM tamga_migrate_progress WHERE tbl = ?1"));
  s->Bind(1, table);
  TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
  Progress p;
  if (row) p = {s->Int(0), s->Int(1) != 0, true};
  return p;
}

Status WriteProgress(SqlDb& db, const std::string& table, int64_t copied, bool done) {
  TAMGA_ASSIGN_OR_RETURN(
      auto s, db.Prepare("INSERT INTO tamga_migrate_progress(tbl, copied, done) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT(tbl) DO UPDATE SET copied = excluded.copied, done = excluded.done"));
  return s->Bind(1, table).Bind(2, copied).Bind(3, done ? 1 : 0).Run();
}

// Copies `table` from `src` to `dst` in key order, batch by batch, resuming after the rows already copied.
Status CopyTable(SqlDb& src, SqlDb& dst, const std::string& table, const std::vector<std::string>& key,
                 const MigrateOptions& o, int64_t* batches) {
  TAMGA_ASSIGN_OR_RETURN(Progress p, ReadProgress(dst, table));
  if (p.done) return Status::Ok();
  if (!p.known) {
    TAMGA_ASSIGN_OR_RETURN(int64_t existing, CountRows(dst, table));
    if (existing > 0) {
      return FailedPrecondition("the destination's table " + table + " already has " +
                                std::to_string(existing) +
                                " rows: migrate into an empty database (one no server has run on)");
    }
  }
  // Resume: skip what an earlier run committed (rows are read in the same key order every time).
  std::string sql = "SELECT * FROM " + table + " ORDER BY " + Join(key);
  if (p.copied > 0) {
    sql += src.dialect() == SqlDialect::kSqlite ? " LIMIT -1 OFFSET " : " OFFSET ";
    sql += std::to_string(p.copied);
  }
  TAMGA_ASSIGN_OR_RETURN(auto rows, src.PrepareUncached(sql));
  int64_t copied = p.copied;
  std::unique_ptr<SqlStmt> insert;
  bool more = true;
  while (more) {
    TAMGA_RETURN_IF_ERROR(dst.BeginWrite());
    Status s = [&]() -> Status {
      for (int64_t n = 0; n < o.batch_rows; ++n) {
        TAMGA_ASSIGN_OR_RETURN(bool row, rows->Step());
        if (!row) {
          more = false;
          break;
        }
        if (!insert) {
          std::string cols, params;
          for (int c = 0; c < rows->ColumnCount(); ++c) {
            cols += (c ? ", " : "") + rows->ColumnName(c);
            params += (c ? ", ?" : "?") + std::to_string(c + 1);
          }
          TAMGA_ASSIGN_OR_RETURN(
              insert, dst.PrepareUncached("INSERT INTO " + table + "(" + cols + ") VALUES (" + params + ")"));
        }
        insert->Reset();
        for (int c = 0; c < rows->ColumnCount(); ++c) BindValue(*insert, c + 1, *rows, c);
        Status ins = insert->Run();
        if (!ins.ok()) {
          return Status(ins.code(),
                        "copying row " + std::to_string(copied + 1) + " of " + table + ": " + ins.message());
        }
        ++copied;
      }
      return WriteProgress(dst, table, copied, !more);
    }();
    if (!s.ok()) {
      (void)dst.Exec("ROLLBACK");
      return s;
    }
    TAMGA_RETURN_IF_ERROR(dst.Exec("COMMIT"));
    if (o.stop_after_batches > 0 && ++*batches >= o.stop_after_batches && more) {
      return Aborted("stopped after " + std::to_string(*batches) +
                     " batches (as asked); run again to resume");
    }
  }
  return Status::Ok();
}

// New rows on PostgreSQL continue after the copied ids.

}  // namespace

Result<MigrateReport> MigrateStores(const MigrateOptions& o, Clock* clock, Random* random) {
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  if (o.batch_rows < 1) return InvalidArgument("--batch-rows must be at least 1");
  MigrateReport report;
  if (!o.from.empty() || !o.to.empty()) {
    if (o.from.empty() || o.to.empty()) return InvalidArgument("--from and --to go together");
    TAMGA_ASSIGN_OR_RETURN(Side src, OpenSide(o.from, true, ""));
    std::string src_dir = src.uri.kind == StoreUri::Kind::kSqlite
                              ? std::filesystem::absolute(src.uri.path).parent_path().string()
                              : "";
    TAMGA_ASSIGN_OR_RETURN(StoreUri to, ParseBackendStoreUri(o.to));
    if (!src_dir.empty() && to.kind == StoreUri::Kind::kSqlite &&
        std::filesystem::absolute(to.path).parent_path().string() == src_dir) {
      return InvalidArgument(
          "--to is in the source's folder: each SQLite store has its jobs.db beside its "
          "database, so give the destination a folder of its own");
    }
    TAMGA_ASSIGN_OR_RETURN(Side dst, OpenSide(o.to, false, ""));
    if (src.uri.Redacted() == dst.uri.Redacted())
      return InvalidArgument("--from and --to name the same store");
    int64_t batches = 0;
    for (const auto& [table, job] : Tables()) {
      SqlDb& s = src.For(job);
      SqlDb& d = dst.For(job);
      TAMGA_ASSIGN_OR_RETURN(auto key, PrimaryKey(s, table));
      TAMGA_RETURN_IF_ERROR(CopyTable(s, d, table, key, o, &batches));
      TAMGA_ASSIGN_OR_RETURN(TableReport a, Digest(s, table, key));
      TAMGA_ASSIGN_OR_RETURN(TableReport b, Digest(d, table, key));
      if (a.rows != b.rows || a.sha256 != b.sha256) {
        return Internal("verification failed for " + table + ": source " + std::to_string(a.rows) +
                        " rows sha256 " + a.sha256.substr(0, 16) + ", destination " + std::to_string(b.rows) +
                        " rows sha256 " + b.sha256.substr(0, 16));
      }
      say(table + ": " + std::to_string(a.rows) + " rows, sha256 " + a.sha256.substr(0, 16) +
          " on both sides");
      report.tables.push_back(a);
    }
    TAMGA_RETURN_IF_ERROR(MovePgSequencesPast(*dst.meta));
  }
  if (!o.artifacts_from.empty() || !o.artifacts_to.empty()) {
    if (o.artifacts_from.empty() || o.artifacts_to.empty()) {
      return InvalidArgument("--artifacts-from and --artifacts-to go together");
    }
    TAMGA_ASSIGN_OR_RETURN(ArtifactCopyReport a,
                           CopyArtifacts(o.artifacts_from, o.artifacts_to, clock, random, say));
    report.artifacts_copied = a.copied;
    report.artifacts_skipped = a.skipped;
    report.artifact_bytes = a.bytes;
  }
  return report;
}

Status MovePgSequencesPast(SqlDb& db) {
  if (db.dialect() != SqlDialect::kPostgres) return Status::Ok();  // SQLite's rowids follow the max already
  TAMGA_ASSIGN_OR_RETURN(auto s,
                         db.PrepareUncached("SELECT table_name, column_name FROM information_schema.columns "
                                            "WHERE table_schema = current_schema() AND column_default LIKE "
                                            "'nextval(%'"));
  std::vector<std::pair<std::string, std::string>> serials;
  TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { serials.emplace_back(r.Text(0), r.Text(1)); }));
  for (const auto& [t, c] : serials) {
    std::string sql = "SELECT setval(pg_get_serial_sequence('" + t + "', '" + c +
                      "'), COALESCE((SELECT MAX(" + c + ") FROM " + t + "), 0) + 1, false)";
    TAMGA_RETURN_IF_ERROR(db.Exec(sql.c_str()));
  }
  return Status::Ok();
}

}  // namespace tamga
