// DatasetStore on the metadata database through its own connection (as the identity store): dataset traffic
// is a few metadata rows per push plus the object index, written in multi-row statements.
#include <mutex>

#include "core/hmac.h"
#include "storage/dataset_store.h"
#include "storage/sql/sql_db.h"

namespace tamga {
namespace {

// Rows per multi-row statement; shorter lists are padded by repeating their last element (harmless for
// IN-lists and for INSERT ... DO NOTHING), so one cached statement serves every call.
constexpr size_t kBatch = 256;

std::string RawDigest(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nib(hex[2 * i]) << 4 | nib(hex[2 * i + 1]));
  return out;
}

std::string Placeholders(size_t first, size_t rows, size_t per_row) {
  std::string s;
  size_t n = first;
  for (size_t r = 0; r < rows; ++r) {
    s += r ? ",(" : "(";
    for (size_t c = 0; c < per_row; ++c) {
      if (c) s += ',';
      s += "?" + std::to_string(n++);
    }
    s += ')';
  }
  return s;
}

DatasetRecord ReadDataset(SqlStmt& r) {
  return {r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5), r.Int(6)};
}
constexpr const char* kDatasetCols =
    "id, name, description, created_by, created_ms, updated_ms, latest_version";

DatasetVersionRecord ReadVersion(SqlStmt& r) {
  return {r.Int(0), r.Int(1), r.Text(2), r.Int(3), r.Int(4), r.Text(5), r.Text(6), r.Text(7), r.Int(8)};
}
constexpr const char* kVersionCols =
    "dataset_id, version, manifest, file_count, total_size, message, metadata, created_by, created_ms";

class SqlDatasetStore final : public DatasetStore {
 public:
  explicit SqlDatasetStore(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}

  Result<DatasetRecord> CreateDataset(const DatasetRecord& d) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO datasets(name, description, created_by, created_ms, "
                                        "updated_ms) VALUES(?1, ?2, ?3, ?4, ?4) RETURNING id"));
    s->Bind(1, d.name).Bind(2, d.description).Bind(3, d.created_by).Bind(4, d.created_ms);
    auto id = RunReturningId(*s);
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kAlreadyExists)
        return AlreadyExists("Dataset '" + d.name + "' already exists.");
      return id.status();
    }
    DatasetRecord out = d;
    out.id = *id;
    out.updated_ms = d.created_ms;
    out.latest_version = 0;
    return out;
  }

  Result<DatasetRecord> GetDataset(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kDatasetCols + " FROM datasets WHERE name = ?1"));
    s->Bind(1, name);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Dataset '" + name.substr(0, 256) + "' does not exist.");
    return ReadDataset(*s);
  }

  Result<std::vector<DatasetRecord>> ListDatasets(const DatasetListQuery& q) override {
    std::lock_guard<std::mutex> l(mu_);
    // A prefix match without LIKE's wildcards: names in [prefix, prefix + U+10FFFF).
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(std::string("SELECT ") + kDatasetCols +
                     " FROM datasets WHERE name > ?1 AND name >= ?2 AND name < ?3 ORDER BY name LIMIT ?4"));
    s->Bind(1, q.after_name)
        .Bind(2, q.name_prefix)
        .Bind(3, q.name_prefix + "\xf4\x8f\xbf\xbf")
        .Bind(4, q.max_results);
    std::vector<DatasetRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadDataset(r)); }));
    return out;
  }

  Status UpdateDescription(int64_t dataset_id, const std::string& description, int64_t now_ms) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("UPDATE datasets SET description = ?2, updated_ms = ?3 WHERE id = ?1"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, dataset_id).Bind(2, description).Bind(3, now_ms).Run());
    if (db_->Changes() == 0) return NotFound("Dataset not found");
    return Status::Ok();
  }

  Status AddObjects(int64_t dataset_id, const std::vector<DatasetObject>& objects) override {
    if (objects.empty()) return Status::Ok();
    std::lock_guard<std::mutex> l(mu_);
    return InTxn([&]() -> Status {
      TAMGA_ASSIGN_OR_RETURN(auto s,
                             db_->Prepare("INSERT INTO dataset_objects(dataset_id, digest, size) VALUES " +
                                          Placeholders(1, kBatch, 3) + " ON CONFLICT DO NOTHING"));
      for (size_t start = 0; start < objects.size(); start += kBatch) {
        for (size_t i = 0; i < kBatch; ++i) {
          const DatasetObject& o = objects[std::min(start + i, objects.size() - 1)];
          s->Bind(static_cast<int>(3 * i + 1), dataset_id);
          s->BindBlob(static_cast<int>(3 * i + 2), RawDigest(o.digest));
          s->Bind(static_cast<int>(3 * i + 3), o.size);
        }
        TAMGA_RETURN_IF_ERROR(s->Run());
        s->Reset();
      }
      return Status::Ok();
    });
  }

  Result<std::vector<DatasetObject>> FindObjects(int64_t dataset_id,
                                                 const std::vector<std::string>& digests) override {
    std::vector<DatasetObject> out;
    if (digests.empty()) return out;
    std::lock_guard<std::mutex> l(mu_);
    std::string in;
    for (size_t i = 0; i < kBatch; ++i) in += (i ? ",?" : "?") + std::to_string(i + 2);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT DISTINCT digest, size FROM dataset_objects WHERE "
                                                "dataset_id = ?1 AND digest IN (" +
                                                in + ")"));
    for (size_t start = 0; start < digests.size(); start += kBatch) {
      s->Bind(1, dataset_id);
      for (size_t i = 0; i < kBatch; ++i)
        s->BindBlob(static_cast<int>(i + 2), RawDigest(digests[std::min(start + i, digests.size() - 1)]));
      TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
        out.push_back({HexEncode(r.Blob(0)), r.Int(1)});
      }));
      s->Reset();
    }
    return out;
  }

  Result<DatasetVersionRecord> AddVersion(const DatasetVersionRecord& v,
                                          const std::vector<std::string>& tags) override {
    std::lock_guard<std::mutex> l(mu_);
    DatasetVersionRecord out = v;
    TAMGA_RETURN_IF_ERROR(InTxn([&]() -> Status {
      // The row update serialises concurrent pushes to one dataset (a row lock on PostgreSQL).
      TAMGA_ASSIGN_OR_RETURN(auto n, db_->Prepare("UPDATE datasets SET latest_version = latest_version + 1, "
                                                  "updated_ms = ?2 WHERE id = ?1 RETURNING latest_version"));
      n->Bind(1, v.dataset_id).Bind(2, v.created_ms);
      TAMGA_ASSIGN_OR_RETURN(bool row, n->Step());
      if (!row) return NotFound("Dataset not found");
      out.version = n->Int(0);
      n->Reset();
      TAMGA_ASSIGN_OR_RETURN(auto ins,
                             db_->Prepare(std::string("INSERT INTO dataset_versions(") + kVersionCols +
                                          ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
      TAMGA_RETURN_IF_ERROR(ins->Bind(1, v.dataset_id)
                                .Bind(2, out.version)
                                .Bind(3, v.manifest)
                                .Bind(4, v.file_count)
                                .Bind(5, v.total_size)
                                .Bind(6, v.message)
                                .Bind(7, v.metadata_json)
                                .Bind(8, v.created_by)
                                .Bind(9, v.created_ms)
                                .Run());
      std::vector<std::string> all = tags;
      all.push_back("latest");
      for (const auto& t : all) TAMGA_RETURN_IF_ERROR(PutTag(v.dataset_id, t, out.version, v.created_ms));
      return Status::Ok();
    }));
    return out;
  }

  Result<DatasetVersionRecord> GetVersion(int64_t dataset_id, int64_t version) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("SELECT ") + kVersionCols +
                                        " FROM dataset_versions WHERE dataset_id = ?1 AND version = ?2"));
    s->Bind(1, dataset_id).Bind(2, version);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Version " + std::to_string(version) + " does not exist.");
    return ReadVersion(*s);
  }

  Result<std::vector<DatasetVersionRecord>> ListVersions(int64_t dataset_id, int64_t max_results,
                                                         int64_t before) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("SELECT ") + kVersionCols +
                                        " FROM dataset_versions WHERE dataset_id = ?1 AND version < ?2 "
                                        "ORDER BY version DESC LIMIT ?3"));
    s->Bind(1, dataset_id).Bind(2, before > 0 ? before : INT64_MAX).Bind(3, max_results);
    std::vector<DatasetVersionRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadVersion(r)); }));
    return out;
  }

  Result<std::optional<DatasetVersionRecord>> FindVersionByManifest(int64_t dataset_id,
                                                                    const std::string& manifest) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("SELECT ") + kVersionCols +
                                        " FROM dataset_versions WHERE dataset_id = ?1 AND manifest = ?2 "
                                        "ORDER BY version DESC LIMIT 1"));
    s->Bind(1, dataset_id).Bind(2, manifest);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<DatasetVersionRecord>();
    return std::optional<DatasetVersionRecord>(ReadVersion(*s));
  }

  Result<int64_t> SetTag(int64_t dataset_id, const std::string& tag, int64_t version,
                         int64_t now_ms) override {
    std::lock_guard<std::mutex> l(mu_);
    int64_t previous = 0;
    TAMGA_RETURN_IF_ERROR(InTxn([&]() -> Status {
      TAMGA_ASSIGN_OR_RETURN(auto v, db_->Prepare("SELECT 1 FROM dataset_versions WHERE dataset_id = ?1 AND "
                                                  "version = ?2"));
      v->Bind(1, dataset_id).Bind(2, version);
      TAMGA_ASSIGN_OR_RETURN(bool exists, v->Step());
      v->Reset();
      if (!exists) return NotFound("Version " + std::to_string(version) + " does not exist.");
      TAMGA_ASSIGN_OR_RETURN(auto p,
                             db_->Prepare("SELECT version FROM dataset_tags WHERE dataset_id = ?1 AND "
                                          "tag = ?2"));
      p->Bind(1, dataset_id).Bind(2, tag);
      TAMGA_ASSIGN_OR_RETURN(bool had, p->Step());
      if (had) previous = p->Int(0);
      p->Reset();
      return PutTag(dataset_id, tag, version, now_ms);
    }));
    return previous;
  }

  Status DeleteTag(int64_t dataset_id, const std::string& tag) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM dataset_tags WHERE dataset_id = ?1 AND tag = ?2"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, dataset_id).Bind(2, tag).Run());
    if (db_->Changes() == 0) return NotFound("Tag '" + tag.substr(0, 64) + "' does not exist.");
    return Status::Ok();
  }

  Result<std::vector<DatasetTagRecord>> ListTags(int64_t dataset_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT tag, version, updated_ms FROM dataset_tags WHERE "
                                                "dataset_id = ?1 ORDER BY tag"));
    s->Bind(1, dataset_id);
    std::vector<DatasetTagRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Int(1), r.Int(2)});
    }));
    return out;
  }

  Result<int64_t> ResolveTag(int64_t dataset_id, const std::string& tag) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT version FROM dataset_tags WHERE dataset_id = ?1 AND "
                                                "tag = ?2"));
    s->Bind(1, dataset_id).Bind(2, tag);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Tag '" + tag.substr(0, 64) + "' does not exist.");
    return s->Int(0);
  }

  Status RecordUse(int64_t dataset_id, int64_t version, const std::string& run_id, const std::string& context,
                   int64_t now_ms) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO dataset_uses(dataset_id, version, run_id, context, "
                                        "created_ms) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"));
    return s->Bind(1, dataset_id).Bind(2, version).Bind(3, run_id).Bind(4, context).Bind(5, now_ms).Run();
  }

  Result<std::vector<DatasetUse>> UsesOfVersion(int64_t dataset_id, int64_t version,
                                                int64_t max_results) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT d.name, u.version, u.run_id, u.context, u.created_ms FROM "
                                        "dataset_uses u JOIN datasets d ON d.id = u.dataset_id WHERE "
                                        "u.dataset_id = ?1 AND u.version = ?2 ORDER BY u.created_ms DESC, "
                                        "u.run_id LIMIT ?3"));
    s->Bind(1, dataset_id).Bind(2, version).Bind(3, max_results);
    std::vector<DatasetUse> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4)});
    }));
    return out;
  }

  Result<std::vector<DatasetUse>> UsesByRun(const std::string& run_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT d.name, u.version, u.run_id, u.context, u.created_ms FROM "
                                        "dataset_uses u JOIN datasets d ON d.id = u.dataset_id WHERE "
                                        "u.run_id = ?1 ORDER BY d.name, u.version"));
    s->Bind(1, run_id);
    std::vector<DatasetUse> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4)});
    }));
    return out;
  }

 private:
  // Moves the tag and appends the move to dataset_events (what retraining triggers follow), in the caller's
  // transaction. A tag set to the version it already names is no move.
  Status PutTag(int64_t dataset_id, const std::string& tag, int64_t version, int64_t now_ms) {
    TAMGA_ASSIGN_OR_RETURN(
        auto p, db_->Prepare("SELECT version FROM dataset_tags WHERE dataset_id = ?1 AND tag = ?2"));
    p->Bind(1, dataset_id).Bind(2, tag);
    TAMGA_ASSIGN_OR_RETURN(bool had, p->Step());
    int64_t previous = had ? p->Int(0) : 0;
    p->Reset();
    if (had && previous == version) return Status::Ok();
    TAMGA_ASSIGN_OR_RETURN(
        auto e, db_->Prepare("INSERT INTO dataset_events(dataset, tag, version, previous_version, "
                             "created_ms) SELECT name, ?2, ?3, ?4, ?5 FROM datasets WHERE id = ?1"));
    TAMGA_RETURN_IF_ERROR(
        e->Bind(1, dataset_id).Bind(2, tag).Bind(3, version).Bind(4, previous).Bind(5, now_ms).Run());
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO dataset_tags(dataset_id, tag, version, updated_ms) "
                                        "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(dataset_id, tag) DO UPDATE "
                                        "SET version = excluded.version, updated_ms = excluded.updated_ms"));
    return s->Bind(1, dataset_id).Bind(2, tag).Bind(3, version).Bind(4, now_ms).Run();
  }

  template <typename Fn>
  Status InTxn(Fn fn) {
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    Status st = fn();
    if (!st.ok()) {
      (void)db_->Exec("ROLLBACK");
      return st;
    }
    return db_->Exec("COMMIT");
  }

  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;
};

}  // namespace

std::unique_ptr<DatasetStore> NewSqlDatasetStore(std::unique_ptr<SqlDb> db) {
  return std::unique_ptr<DatasetStore>(new SqlDatasetStore(std::move(db)));
}

}  // namespace tamga
