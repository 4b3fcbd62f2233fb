#include "storage/sql/sql_metadata_store.h"

#include <algorithm>

#include "core/ids.h"
#include "storage/metric_series.h"
#include "storage/sql/migrations.h"
#include "storage/sql/sql_registry.h"

namespace tamga {

class SqlMetadataStore::ReaderLease {
 public:
  ReaderLease(SqlMetadataStore* store, std::unique_ptr<SqlDb> db) : store_(store), db_(std::move(db)) {}
  ReaderLease(ReaderLease&&) = default;
  ~ReaderLease() {
    if (db_) store_->ReturnReader(std::move(db_));
  }
  SqlDb& operator*() { return *db_; }
  SqlDb* operator->() { return db_.get(); }
  SqlDb* Release() { return db_.release(); }

 private:
  SqlMetadataStore* store_;
  std::unique_ptr<SqlDb> db_;
};

Result<std::unique_ptr<SqlMetadataStore>> SqlMetadataStore::Create(Connector connector) {
  std::unique_ptr<SqlMetadataStore> store(new SqlMetadataStore(std::move(connector)));
  TAMGA_ASSIGN_OR_RETURN(store->writer_, store->connector_.open_writer());
  TAMGA_RETURN_IF_ERROR(store->Migrate());
  TAMGA_RETURN_IF_ERROR(store->BackfillMetricRanges());
  SqlMetadataStore* self = store.get();
  store->registry_reader_ = NewSqlRegistryReader([self]() -> Result<SqlDbHandle> {
    TAMGA_ASSIGN_OR_RETURN(ReaderLease lease, self->Reader());
    SqlDb* db = lease.Release();
    return SqlDbHandle(db, [self, db]() { self->ReturnReader(std::unique_ptr<SqlDb>(db)); });
  });
  return store;
}

SqlMetadataStore::~SqlMetadataStore() = default;

Status SqlMetadataStore::BackfillMetricRanges() {
  SqlDb& db = *writer_;
  std::vector<std::pair<int64_t, int64_t>> pending;
  {
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt, db.PrepareUncached("SELECT run_pk, key_pk FROM latest_metrics WHERE range_known = 0"));
    while (true) {
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      pending.emplace_back(stmt->Int(0), stmt->Int(1));
    }
  }
  if (pending.empty()) return Status::Ok();
  TAMGA_RETURN_IF_ERROR(db.BeginWrite());
  Status s = [&]() -> Status {
    std::vector<PackedPoint> points;
    for (const auto& [run_pk, key_pk] : pending) {
      double lo = std::nan(""), hi = std::nan("");
      TAMGA_ASSIGN_OR_RETURN(
          auto chunks,
          db.PrepareUncached("SELECT points FROM metric_chunks WHERE run_pk = ?1 AND key_pk = ?2"));
      chunks->Bind(1, run_pk).Bind(2, key_pk);
      while (true) {
        TAMGA_ASSIGN_OR_RETURN(bool row, chunks->Step());
        if (!row) break;
        points.clear();
        if (!DecodeChunk(chunks->Blob(0), &points)) continue;
        for (const PackedPoint& p : points) {
          if (std::isnan(p.value)) continue;
          lo = std::isnan(lo) ? p.value : std::min(lo, p.value);
          hi = std::isnan(hi) ? p.value : std::max(hi, p.value);
        }
      }
      TAMGA_ASSIGN_OR_RETURN(auto up,
                             db.PrepareUncached("UPDATE latest_metrics SET min_value = ?3, max_value = ?4, "
                                                "range_known = 1 WHERE run_pk = ?1 AND key_pk = ?2"));
      up->Bind(1, run_pk).Bind(2, key_pk);
      if (std::isnan(lo))
        up->BindNull(3).BindNull(4);
      else
        up->Bind(3, lo).Bind(4, hi);
      TAMGA_RETURN_IF_ERROR(up->Run());
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return Internal("filling metric min/max failed: " + s.message());
  }
  return db.Exec("COMMIT");
}

Status SqlMetadataStore::Migrate() {
  return ApplyMigrations(*writer_, MetadataMigrations(), "schema_migrations", &schema_version_);
}

Result<std::unique_ptr<SqlDb>> SqlMetadataStore::OpenReader() { return connector_.open_reader(); }

Result<SqlMetadataStore::ReaderLease> SqlMetadataStore::Reader() {
  {
    MutexLock lock(&pool_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(db));
    }
  }
  TAMGA_ASSIGN_OR_RETURN(auto db, OpenReader());
  return ReaderLease(this, std::move(db));
}

void SqlMetadataStore::ReturnReader(std::unique_ptr<SqlDb> db) {
  MutexLock lock(&pool_mu_);
  if (static_cast<int>(idle_readers_.size()) < connector_.max_idle_readers)
    idle_readers_.push_back(std::move(db));
}

Result<Experiment> SqlLoadExperiment(SqlDb& db, const char* where_sql, const std::string& arg) {
  std::string sql = std::string(
                        "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                        "last_update_time FROM experiments WHERE ") +
                    where_sql;
  Experiment e;
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql));
    stmt->Bind(1, arg);
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return NotFound("experiment not found");
    e.experiment_id = std::to_string(stmt->Int(0));
    e.name = stmt->Text(1);
    e.artifact_location = stmt->Text(2);
    e.lifecycle_stage = stmt->Text(3) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
    e.creation_time = stmt->Int(4);
    e.last_update_time = stmt->Int(5);
  }
  TAMGA_ASSIGN_OR_RETURN(auto tags,
                         db.Prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 "
                                    "ORDER BY key"));
  tags->Bind(1, std::stoll(e.experiment_id));
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, tags->Step());
    if (!row) break;
    e.tags.push_back({tags->Text(0), tags->Text(1)});
  }
  return e;
}

Result<std::pair<RunInfo, int64_t>> SqlLoadRunInfo(SqlDb& db, const std::string& run_id) {
  TAMGA_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(
          "SELECT run_id, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, "
          "lifecycle_stage, run_pk FROM runs WHERE run_id = ?1"));
  stmt->Bind(1, run_id);
  TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("Run with id=" + run_id + " not found");
  RunInfo info;
  info.run_id = stmt->Text(0);
  info.experiment_id = std::to_string(stmt->Int(1));
  info.run_name = stmt->Text(2);
  info.user_id = stmt->Text(3);
  info.status = static_cast<RunStatus>(stmt->Int(4));
  info.start_time = stmt->Int(5);
  if (!stmt->IsNull(6)) info.end_time = stmt->Int(6);
  info.artifact_uri = stmt->Text(7);
  info.lifecycle_stage = stmt->Text(8) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  return std::make_pair(std::move(info), stmt->Int(9));
}

Result<std::optional<int64_t>> SqlFindRunPk(SqlDb& db, const std::string& run_id) {
  TAMGA_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT run_pk FROM runs WHERE run_id = ?1"));
  stmt->Bind(1, run_id);
  TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt->Int(0));
}

Result<Experiment> SqlMetadataStore::GetExperiment(const std::string& experiment_id) {
  int64_t id;
  if (!ParseDecimalId(experiment_id, &id)) return NotFound("experiment not found");
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  return SqlLoadExperiment(*db, "experiment_id = CAST(?1 AS INTEGER)", experiment_id);
}

Result<Experiment> SqlMetadataStore::GetExperimentByName(const std::string& name) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  return SqlLoadExperiment(*db, "name = ?1", name);
}

Result<std::vector<Experiment>> SqlMetadataStore::ListExperiments(ViewType view) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  std::vector<std::string> ids;
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT experiment_id, lifecycle_stage FROM experiments"));
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      bool active = stmt->Text(1) == "active";
      if ((view == ViewType::kActiveOnly && !active) || (view == ViewType::kDeletedOnly && active)) continue;
      ids.push_back(std::to_string(stmt->Int(0)));
    }
  }
  std::vector<Experiment> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    TAMGA_ASSIGN_OR_RETURN(auto e, SqlLoadExperiment(*db, "experiment_id = CAST(?1 AS INTEGER)", id));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<DatasetSummary>> SqlMetadataStore::SearchDatasets(
    const std::vector<std::string>& experiment_ids, int64_t limit) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  TAMGA_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare("SELECT DISTINCT r.experiment_id, i.name, i.digest, t.value FROM runs r "
                             "JOIN run_inputs i ON i.run_pk = r.run_pk "
                             "LEFT JOIN run_input_tags t ON t.run_pk = i.run_pk AND t.name = i.name AND "
                             "t.digest = i.digest AND t.key = 'mlflow.data.context' "
                             "WHERE r.experiment_id = CAST(?1 AS INTEGER) ORDER BY i.name, i.digest"));
  std::vector<DatasetSummary> out;
  for (const auto& id : experiment_ids) {
    int64_t numeric;
    if (!ParseDecimalId(id, &numeric)) continue;  // no such experiment
    stmt->Reset();
    stmt->Bind(1, id);
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row || static_cast<int64_t>(out.size()) >= limit) break;
      DatasetSummary d;
      d.experiment_id = std::to_string(stmt->Int(0));
      d.name = stmt->Text(1);
      d.digest = stmt->Text(2);
      if (!stmt->IsNull(3)) d.context = stmt->Text(3);
      out.push_back(std::move(d));
    }
  }
  return out;
}

Result<Run> SqlMetadataStore::GetRun(const std::string& run_id) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  TAMGA_ASSIGN_OR_RETURN(auto pk, SqlFindRunPk(*db, run_id));
  if (!pk) return NotFound("Run with id=" + run_id + " not found");
  TAMGA_ASSIGN_OR_RETURN(auto runs, SqlLoadRuns(*db, {*pk}));
  if (runs.empty()) return NotFound("Run with id=" + run_id + " not found");
  return std::move(runs[0]);
}

Result<RunInfo> SqlMetadataStore::GetRunInfo(const std::string& run_id) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  TAMGA_ASSIGN_OR_RETURN(auto found, SqlLoadRunInfo(*db, run_id));
  return std::move(found.first);
}

Result<RunPage> SqlMetadataStore::SearchRuns(const RunQuery& query) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  return SqlSearchRuns(*db, query);
}

Result<RunKeys> SqlMetadataStore::ListRunKeys(const std::vector<std::string>& experiment_ids,
                                              int64_t recent_runs, int64_t max_keys) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  return SqlListRunKeys(*db, experiment_ids, recent_runs, max_keys);
}

Result<HistoryPage> SqlMetadataStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                       const std::optional<HistoryCursor>& after,
                                                       int64_t max_results) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  TAMGA_ASSIGN_OR_RETURN(auto run_pk, SqlFindRunPk(*db, run_id));
  if (!run_pk) return NotFound("Run with id=" + run_id + " not found");
  int64_t key_pk;
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT key_pk FROM metric_keys WHERE name = ?1"));
    stmt->Bind(1, key);
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return HistoryPage{};
    key_pk = stmt->Int(0);
  }
  HistoryCollector collector(after, max_results);
  if (max_results <= 0) {  // a whole history: size the buffer once instead of growing it
    TAMGA_ASSIGN_OR_RETURN(
        auto count,
        db->Prepare(
            "SELECT COALESCE(SUM(point_count), 0) FROM metric_chunks WHERE run_pk = ?1 AND key_pk = ?2"));
    count->Bind(1, *run_pk).Bind(2, key_pk);
    TAMGA_ASSIGN_OR_RETURN(bool row, count->Step());
    if (row) collector.Reserve(static_cast<size_t>(std::min<int64_t>(count->Int(0), 50000000)));
  }
  TAMGA_ASSIGN_OR_RETURN(
      auto stmt,
      db->Prepare(
          "SELECT min_step, points FROM metric_chunks WHERE run_pk = ?1 AND key_pk = ?2 AND max_step >= ?3 "
          "ORDER BY min_step"));
  stmt->Bind(1, *run_pk).Bind(2, key_pk).Bind(3, after ? after->step : INT64_MIN);
  std::vector<PackedPoint> chunk;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (!collector.WantsChunkWithMinStep(stmt->Int(0))) break;
    chunk.clear();
    if (!DecodeChunk(stmt->Blob(1), &chunk)) return Internal("corrupt metric chunk for key " + key);
    collector.Feed(chunk);
  }
  return collector.Finish();
}

Result<std::vector<HistoryPoint>> SqlMetadataStore::GetMetricRange(const std::string& run_id,
                                                                   const std::string& key, int64_t min_step,
                                                                   int64_t max_step) {
  TAMGA_ASSIGN_OR_RETURN(auto db, Reader());
  TAMGA_ASSIGN_OR_RETURN(auto run_pk, SqlFindRunPk(*db, run_id));
  if (!run_pk) return NotFound("Run with id=" + run_id + " not found");
  std::vector<HistoryPoint> out;
  if (min_step > max_step) return out;
  TAMGA_ASSIGN_OR_RETURN(
      auto stmt, db->Prepare("SELECT c.points FROM metric_chunks c JOIN metric_keys k ON k.key_pk = c.key_pk "
                             "WHERE c.run_pk = ?1 AND k.name = ?2 AND c.max_step >= ?3 AND c.min_step <= ?4 "
                             "ORDER BY c.min_step"));
  stmt->Bind(1, *run_pk).Bind(2, key).Bind(3, min_step).Bind(4, max_step);
  std::vector<PackedPoint> chunk;
  bool sorted = true;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    chunk.clear();
    if (!DecodeChunk(stmt->Blob(0), &chunk)) return Internal("corrupt metric chunk for key " + key);
    for (const PackedPoint& p : chunk) {
      if (p.step < min_step || p.step > max_step) continue;
      if (!out.empty() && PointLess(p, out.back())) sorted = false;
      out.push_back(p);
    }
  }
  if (!sorted) std::sort(out.begin(), out.end(), PointLess);
  out.erase(std::unique(out.begin(), out.end(), PointEqual), out.end());
  return out;
}

Result<std::unique_ptr<WriteTxn>> SqlMetadataStore::BeginWrite() {
  TAMGA_RETURN_IF_ERROR(writer_->BeginWrite());
  return NewSqlWriteTxn(writer_.get(), &writer_cache_);
}

Status SqlMetadataStore::Flush() {
  // SQLite: fold the WAL into the database file (a clean shutdown leaves one file); PostgreSQL: nothing to
  // do.
  if (writer_->dialect() == SqlDialect::kSqlite) return writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return Status::Ok();
}

}  // namespace tamga
