// SqlWriteTxn: the write half of SqlMetadataStore, used only by the group committer's thread.
#include <cmath>
#include <map>
#include <unordered_map>

#include "core/ids.h"
#include "storage/metric_series.h"
#include "storage/sql/sql_metadata_store.h"
#include "storage/sql/sql_registry.h"

namespace tamga {
namespace {

class SqlWriteTxn final : public WriteTxn {
 public:
  SqlWriteTxn(SqlDb* db, SqlMetadataStore::WriterCache* cache)
      : db_(db), cache_(cache), registry_(NewSqlRegistryTxn(db)) {}
  ~SqlWriteTxn() override {
    if (open_) (void)Rollback();
  }

  // Savepoints run once per request on the ingest path: prepared once, not re-parsed, and pipelined when
  // writes are deferred.
  Status Savepoint() override { return RunCachedLater("SAVEPOINT w"); }
  Status ReleaseSavepoint() override { return RunCachedLater("RELEASE w"); }
  bool AllowDeferredWrites(bool on) override {
    if (db_->dialect() != SqlDialect::kPostgres) return false;  // SQLite answers each write at once anyway
    db_->SetDeferWrites(on);
    buffer_metrics_ = on;
    return true;
  }
  bool DeferredWriteFailed() const override { return db_->DeferredWriteFailed(); }
  Status RollbackToSavepoint() override {
    run_infos_.clear();  // an entry read after a change this request made is gone with the change
    cache_->pending_run_pks.clear();
    cache_->pending_key_pks.clear();
    TAMGA_RETURN_IF_ERROR(RunCached("ROLLBACK TO w"));
    return RunCached("RELEASE w");
  }
  Status Commit() override {
    if (Status f = FlushMetrics(); !f.ok()) return f;
    Status s = db_->Exec("COMMIT");
    db_->SetDeferWrites(false);
    if (!s.ok()) return s;
    open_ = false;
    cache_->run_pks.merge(cache_->pending_run_pks);
    cache_->key_pks.merge(cache_->pending_key_pks);
    cache_->pending_run_pks.clear();
    cache_->pending_key_pks.clear();
    return s;
  }
  Status Rollback() override {
    open_ = false;
    chunk_rows_.clear();
    latest_rows_.clear();
    db_->SetDeferWrites(false);
    cache_->pending_run_pks.clear();
    cache_->pending_key_pks.clear();
    return db_->Exec("ROLLBACK");
  }

  RegistryTxn& registry() override { return *registry_; }

  Result<std::string> CreateExperiment(const Experiment& e) override {
    int64_t id = 0;
    const bool given = !e.experiment_id.empty() && ParseDecimalId(e.experiment_id, &id);
    // Without an id the engine assigns the next one (both statements number their parameters from 1).
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt,
        db_->Prepare(given
                         ? "INSERT INTO experiments(name, artifact_location, lifecycle_stage, creation_time, "
                           "last_update_time, experiment_id) VALUES (?1, ?2, 'active', ?3, ?4, ?5) "
                           "RETURNING experiment_id"
                         : "INSERT INTO experiments(name, artifact_location, lifecycle_stage, creation_time, "
                           "last_update_time) VALUES (?1, ?2, 'active', ?3, ?4) RETURNING experiment_id"));
    stmt->Bind(1, e.name).Bind(2, e.artifact_location).Bind(3, e.creation_time).Bind(4, e.last_update_time);
    if (given) stmt->Bind(5, id);
    auto inserted = RunReturningId(*stmt);
    if (inserted.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("Experiment(name=" + e.name + ") already exists.");
    }
    TAMGA_RETURN_IF_ERROR(inserted.status());
    std::string new_id = std::to_string(*inserted);
    for (const auto& tag : e.tags) TAMGA_RETURN_IF_ERROR(SetExperimentTag(new_id, tag));
    return new_id;
  }

  Result<Experiment> GetExperiment(const std::string& experiment_id) override {
    int64_t id;
    if (!ParseDecimalId(experiment_id, &id))
      return NotFound("No Experiment with id=" + experiment_id + " exists");
    auto e = SqlLoadExperiment(*db_, "experiment_id = CAST(?1 AS INTEGER)", experiment_id);
    if (!e.ok() && e.status().code() == StatusCode::kNotFound) {
      return NotFound("No Experiment with id=" + experiment_id + " exists");
    }
    return e;
  }

  Status SetExperimentArtifactLocation(const std::string& experiment_id, const std::string& loc) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt, db_->Prepare("UPDATE experiments SET artifact_location = ?2 WHERE experiment_id = ?1"));
    stmt->Bind(1, std::stoll(experiment_id)).Bind(2, loc);
    return stmt->Run();
  }

  Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage,
                                int64_t now) override {
    const char* name = LifecycleStageName(stage);
    run_infos_.clear();  // the experiment's runs follow it
    {
      TAMGA_ASSIGN_OR_RETURN(
          auto stmt,
          db_->Prepare(
              "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 WHERE experiment_id = ?1"));
      stmt->Bind(1, std::stoll(experiment_id)).Bind(2, name).Bind(3, now);
      TAMGA_RETURN_IF_ERROR(stmt->Run());
    }
    TAMGA_ASSIGN_OR_RETURN(auto runs,
                           db_->Prepare("UPDATE runs SET lifecycle_stage = ?2 WHERE experiment_id = ?1"));
    runs->Bind(1, std::stoll(experiment_id)).Bind(2, name);
    return runs->Run();
  }

  Status RenameExperiment(const std::string& experiment_id, const std::string& name, int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt,
        db_->Prepare("UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE experiment_id = ?1"));
    stmt->Bind(1, std::stoll(experiment_id)).Bind(2, name).Bind(3, now);
    Status s = stmt->Run();
    if (s.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("Experiment(name=" + name + ") already exists.");
    return s;
  }

  Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt, db_->Prepare("INSERT INTO experiment_tags(experiment_id, key, value) VALUES (?1, ?2, ?3) "
                                "ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value"));
    stmt->Bind(1, std::stoll(experiment_id)).Bind(2, tag.key).Bind(3, tag.value);
    return stmt->Run();
  }

  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(auto stmt,
                           db_->Prepare("DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2"));
    stmt->Bind(1, std::stoll(experiment_id)).Bind(2, key);
    TAMGA_RETURN_IF_ERROR(stmt->Run());
    if (db_->Changes() == 0) return NotFound("No tag with name: " + key + " in experiment " + experiment_id);
    return Status::Ok();
  }

  Status CreateRun(const RunInfo& info, const std::vector<KeyValue>& tags) override {
    run_infos_.erase(info.run_id);
    {
      TAMGA_ASSIGN_OR_RETURN(
          auto stmt,
          db_->Prepare("INSERT INTO runs(run_id, experiment_id, run_name, user_id, "
                       "status, start_time, end_time, artifact_uri, "
                       "lifecycle_stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING run_pk"));
      stmt->Bind(1, info.run_id).Bind(2, std::stoll(info.experiment_id)).Bind(3, info.run_name);
      stmt->Bind(4, info.user_id).Bind(5, static_cast<int>(info.status)).Bind(6, info.start_time);
      if (info.end_time)
        stmt->Bind(7, *info.end_time);
      else
        stmt->BindNull(7);
      stmt->Bind(8, info.artifact_uri).Bind(9, LifecycleStageName(info.lifecycle_stage));
      auto pk = RunReturningId(*stmt);
      if (pk.status().code() == StatusCode::kAlreadyExists)
        return AlreadyExists("Run " + info.run_id + " already exists");
      TAMGA_RETURN_IF_ERROR(pk.status());
      cache_->pending_run_pks[info.run_id] = *pk;
    }
    return SetTags(info.run_id, tags);
  }

  // Every write request reads its run first (is it active?): within one transaction the answer is kept until
  // this transaction changes the run, so a batch of requests to one run reads it once (and on PostgreSQL the
  // batch's writes stay in one pipeline).
  Result<RunInfo> GetRunInfo(const std::string& run_id) override {
    if (auto it = run_infos_.find(run_id); it != run_infos_.end()) return it->second;
    TAMGA_ASSIGN_OR_RETURN(auto found, SqlLoadRunInfo(*db_, run_id));
    if (!cache_->run_pks.count(run_id)) cache_->pending_run_pks[run_id] = found.second;
    if (run_infos_.size() > 4096) run_infos_.clear();
    run_infos_[run_id] = found.first;
    return std::move(found.first);
  }

  Status UpdateRunInfo(const RunInfo& info) override {
    run_infos_.erase(info.run_id);
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt,
        db_->Prepare("UPDATE runs SET status = ?2, end_time = ?3, run_name = ?4 WHERE run_id = ?1"));
    stmt->Bind(1, info.run_id).Bind(2, static_cast<int>(info.status));
    if (info.end_time)
      stmt->Bind(3, *info.end_time);
    else
      stmt->BindNull(3);
    stmt->Bind(4, info.run_name);
    return stmt->Run();
  }

  Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage) override {
    run_infos_.erase(run_id);
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE runs SET lifecycle_stage = ?2 WHERE run_id = ?1"));
    stmt->Bind(1, run_id).Bind(2, LifecycleStageName(stage));
    return stmt->Run();
  }

  Result<std::vector<KeyValue>> GetParams(const std::string& run_id,
                                          const std::vector<std::string>& keys) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    TAMGA_ASSIGN_OR_RETURN(auto stmt,
                           db_->Prepare("SELECT value FROM params WHERE run_pk = ?1 AND key = ?2"));
    std::vector<KeyValue> out;
    for (const auto& key : keys) {
      stmt->Reset();
      stmt->Bind(1, pk).Bind(2, key);
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) out.push_back({key, stmt->Text(0)});
    }
    return out;
  }

  Status InsertParams(const std::string& run_id, const std::vector<KeyValue>& params) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    TAMGA_ASSIGN_OR_RETURN(
        auto stmt,
        db_->Prepare("INSERT INTO params(run_pk, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"));
    for (const auto& p : params) {
      stmt->Reset();
      stmt->Bind(1, pk).Bind(2, p.key).Bind(3, p.value);
      TAMGA_RETURN_IF_ERROR(stmt->RunLater());
    }
    return Status::Ok();
  }

  Status SetTags(const std::string& run_id, const std::vector<KeyValue>& tags) override {
    if (tags.empty()) return Status::Ok();
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    TAMGA_ASSIGN_OR_RETURN(auto stmt,
                           db_->Prepare("INSERT INTO tags(run_pk, key, value) VALUES (?1, ?2, ?3) "
                                        "ON CONFLICT(run_pk, key) DO UPDATE SET value = excluded.value"));
    for (const auto& t : tags) {
      stmt->Reset();
      stmt->Bind(1, pk).Bind(2, t.key).Bind(3, t.value);
      TAMGA_RETURN_IF_ERROR(stmt->Run());
    }
    return Status::Ok();
  }

  Status DeleteTag(const std::string& run_id, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("DELETE FROM tags WHERE run_pk = ?1 AND key = ?2"));
    stmt->Bind(1, pk).Bind(2, key);
    TAMGA_RETURN_IF_ERROR(stmt->Run());
    if (db_->Changes() == 0) return NotFound("No tag with name: " + key + " in run with id " + run_id);
    return Status::Ok();
  }

  Result<std::optional<std::string>> GetTag(const std::string& run_id, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT value FROM tags WHERE run_pk = ?1 AND key = ?2"));
    stmt->Bind(1, pk).Bind(2, key);
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->Text(0));
  }

  Status LogMetrics(const std::string& run_id, const std::vector<MetricPoint>& points) override {
    if (points.empty()) return Status::Ok();
    TAMGA_ASSIGN_OR_RETURN(int64_t run_pk, RunPk(run_id));
    // Group by key, keeping each key's points in logged order.
    std::map<std::string_view, std::vector<PackedPoint>> by_key;
    for (const auto& p : points) by_key[p.key].push_back(PackedPoint{p.step, p.timestamp, p.value});
    for (const auto& [key, series] : by_key) {
      TAMGA_ASSIGN_OR_RETURN(int64_t key_pk, KeyPk(std::string(key)));
      int64_t min_step = series[0].step, max_step = series[0].step;
      const PackedPoint* best = &series[0];
      double lo = std::nan(""), hi = std::nan("");
      for (const auto& p : series) {
        min_step = std::min(min_step, p.step);
        max_step = std::max(max_step, p.step);
        if (PointLess(*best, p)) best = &p;
        if (!std::isnan(p.value)) {
          lo = std::isnan(lo) ? p.value : std::min(lo, p.value);
          hi = std::isnan(hi) ? p.value : std::max(hi, p.value);
        }
      }
      if (buffer_metrics_) {  // the optimistic pass on PostgreSQL: written at commit, many rows a statement
        chunk_rows_.push_back(
            {run_pk, key_pk, min_step, max_step, static_cast<int64_t>(series.size()), EncodeChunk(series)});
        BufferLatest(run_pk, key_pk, *best, lo, hi);
        continue;
      }
      {
        TAMGA_ASSIGN_OR_RETURN(
            auto stmt,
            db_->Prepare("INSERT INTO metric_chunks(run_pk, key_pk, min_step, max_step, point_count, points) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
        stmt->Bind(1, run_pk).Bind(2, key_pk).Bind(3, min_step).Bind(4, max_step);
        stmt->Bind(5, static_cast<int64_t>(series.size())).BindBlob(6, EncodeChunk(series));
        TAMGA_RETURN_IF_ERROR(stmt->RunLater());
      }
      TAMGA_RETURN_IF_ERROR(AdvanceLatest(run_pk, key_pk, *best, lo, hi));
    }
    return Status::Ok();
  }

  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunPk(run_id));
    int64_t position = 0;
    {
      TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT COALESCE(MAX(position) + 1, 0) FROM run_inputs "
                                                     "WHERE run_pk = ?1"));
      stmt->Bind(1, pk);
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) position = stmt->Int(0);
    }
    for (const auto& in : inputs) {
      const Dataset& d = in.dataset;
      TAMGA_ASSIGN_OR_RETURN(auto stmt,
                             db_->Prepare("INSERT INTO run_inputs(run_pk, position, "
                                          "name, digest, source_type, source, schema, profile) "
                                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"));
      stmt->Bind(1, pk).Bind(2, position++).Bind(3, d.name).Bind(4, d.digest).Bind(5, d.source_type);
      stmt->Bind(6, d.source).Bind(7, d.schema).Bind(8, d.profile);
      TAMGA_RETURN_IF_ERROR(stmt->Run());
      if (db_->Changes() == 0) continue;  // already linked
      for (const auto& t : in.tags) {
        TAMGA_ASSIGN_OR_RETURN(auto tag, db_->Prepare("INSERT INTO run_input_tags(run_pk, name, "
                                                      "digest, key, value) VALUES (?1, ?2, ?3, ?4, ?5) "
                                                      "ON CONFLICT(run_pk, name, digest, key) DO UPDATE SET "
                                                      "value = excluded.value"));
        tag->Bind(1, pk).Bind(2, d.name).Bind(3, d.digest).Bind(4, t.key).Bind(5, t.value);
        TAMGA_RETURN_IF_ERROR(tag->Run());
      }
    }
    return Status::Ok();
  }

 private:
  // The upsert of latest points: the stored point is replaced when the new one is later in (step, timestamp,
  // value) order, NaN above every number (as PointLess); the range widens by the new [min_value, max_value].
  static std::string LatestUpsertSql(const std::string& values) {
    static const std::string kLater =
        "(excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
        "(excluded.timestamp > latest_metrics.timestamp OR (excluded.timestamp = latest_metrics.timestamp "
        "AND "
        "((excluded.is_nan = 1 AND latest_metrics.is_nan = 0) OR (excluded.is_nan = 0 AND "
        "latest_metrics.is_nan = 0 AND excluded.value > latest_metrics.value))))))";
    return "INSERT INTO latest_metrics(run_pk, key_pk, value, is_nan, timestamp, step, min_value, max_value, "
           "range_known) VALUES " +
           values +
           " ON CONFLICT(run_pk, key_pk) DO UPDATE SET "
           "value = CASE WHEN " +
           kLater +
           " THEN excluded.value ELSE latest_metrics.value END, "
           "is_nan = CASE WHEN " +
           kLater +
           " THEN excluded.is_nan ELSE latest_metrics.is_nan END, "
           "timestamp = CASE WHEN " +
           kLater +
           " THEN excluded.timestamp ELSE latest_metrics.timestamp END, "
           "step = CASE WHEN " +
           kLater +
           " THEN excluded.step ELSE latest_metrics.step END, "
           "min_value = CASE WHEN excluded.min_value IS NULL THEN latest_metrics.min_value "
           "WHEN latest_metrics.min_value IS NULL OR excluded.min_value < latest_metrics.min_value "
           "THEN excluded.min_value ELSE latest_metrics.min_value END, "
           "max_value = CASE WHEN excluded.max_value IS NULL THEN latest_metrics.max_value "
           "WHEN latest_metrics.max_value IS NULL OR excluded.max_value > latest_metrics.max_value "
           "THEN excluded.max_value ELSE latest_metrics.max_value END, range_known = 1";
  }

  // AdvanceLatest as one upsert that compares in SQL (no read first, so it can be pipelined): the stored
  // point is replaced when the new one is later in (step, timestamp, value) order, NaN above every number (as
  // PointLess); the range widens by [lo, hi].
  Status AdvanceLatestInOneStatement(int64_t run_pk, int64_t key_pk, const PackedPoint& p, double lo,
                                     double hi) {
    static const std::string kSql = LatestUpsertSql("(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)");
    TAMGA_ASSIGN_OR_RETURN(auto up, db_->Prepare(kSql));
    up->Bind(1, run_pk).Bind(2, key_pk);
    if (std::isnan(p.value))
      up->BindNull(3);
    else
      up->Bind(3, p.value);
    up->Bind(4, std::isnan(p.value) ? 1 : 0).Bind(5, p.timestamp).Bind(6, p.step);
    if (std::isnan(lo))
      up->BindNull(7).BindNull(8);
    else
      up->Bind(7, lo).Bind(8, hi);
    return up->RunLater();
  }

  struct ChunkRow {
    int64_t run_pk, key_pk, min_step, max_step, count;
    std::string points;
  };
  struct LatestRow {
    PackedPoint p;
    double lo, hi;  // NaN: no number seen
  };

  void BufferLatest(int64_t run_pk, int64_t key_pk, const PackedPoint& p, double lo, double hi) {
    auto [it, fresh] = latest_rows_.try_emplace({run_pk, key_pk}, LatestRow{p, lo, hi});
    if (fresh) return;
    LatestRow& r = it->second;
    if (PointLess(r.p, p)) r.p = p;
    if (!std::isnan(lo) && (std::isnan(r.lo) || lo < r.lo)) r.lo = lo;
    if (!std::isnan(hi) && (std::isnan(r.hi) || hi > r.hi)) r.hi = hi;
  }

  // The buffered chunks and latest points, up to 100 rows a statement (pipelined).
  Status FlushMetrics() {
    constexpr size_t kRows = 100;
    for (size_t at = 0; at < chunk_rows_.size(); at += kRows) {
      size_t n = std::min(kRows, chunk_rows_.size() - at);
      std::string sql =
          "INSERT INTO metric_chunks(run_pk, key_pk, min_step, max_step, point_count, points) VALUES ";
      for (size_t k = 0; k < n; ++k) sql += k ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)";
      TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
      int pos = 0;
      for (size_t k = 0; k < n; ++k) {
        const ChunkRow& r = chunk_rows_[at + k];
        stmt->Bind(pos + 1, r.run_pk)
            .Bind(pos + 2, r.key_pk)
            .Bind(pos + 3, r.min_step)
            .Bind(pos + 4, r.max_step);
        stmt->Bind(pos + 5, r.count).BindBlob(pos + 6, r.points);
        pos += 6;
      }
      TAMGA_RETURN_IF_ERROR(stmt->RunLater());
    }
    chunk_rows_.clear();
    std::vector<std::pair<std::pair<int64_t, int64_t>, LatestRow>> rows(latest_rows_.begin(),
                                                                        latest_rows_.end());
    latest_rows_.clear();
    for (size_t at = 0; at < rows.size(); at += kRows) {
      size_t n = std::min(kRows, rows.size() - at);
      std::string values;
      for (size_t k = 0; k < n; ++k) values += k ? ",(?,?,?,?,?,?,?,?,1)" : "(?,?,?,?,?,?,?,?,1)";
      TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(LatestUpsertSql(values)));
      int pos = 0;
      for (size_t k = 0; k < n; ++k) {
        const auto& [pk, r] = rows[at + k];
        stmt->Bind(pos + 1, pk.first).Bind(pos + 2, pk.second);
        if (std::isnan(r.p.value))
          stmt->BindNull(pos + 3);
        else
          stmt->Bind(pos + 3, r.p.value);
        stmt->Bind(pos + 4, std::isnan(r.p.value) ? 1 : 0)
            .Bind(pos + 5, r.p.timestamp)
            .Bind(pos + 6, r.p.step);
        if (std::isnan(r.lo))
          stmt->BindNull(pos + 7).BindNull(pos + 8);
        else
          stmt->Bind(pos + 7, r.lo).Bind(pos + 8, r.hi);
        pos += 8;
      }
      TAMGA_RETURN_IF_ERROR(stmt->RunLater());
    }
    return Status::Ok();
  }

  Status RunCachedLater(const char* sql) {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
    return stmt->RunLater();
  }

  Status RunCached(const char* sql) {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
    return stmt->Run();
  }

  Result<int64_t> RunPk(const std::string& run_id) {
    if (auto it = cache_->run_pks.find(run_id); it != cache_->run_pks.end()) return it->second;
    if (auto it = cache_->pending_run_pks.find(run_id); it != cache_->pending_run_pks.end())
      return it->second;
    TAMGA_ASSIGN_OR_RETURN(auto pk, SqlFindRunPk(*db_, run_id));
    if (!pk) return NotFound("Run with id=" + run_id + " not found");
    cache_->pending_run_pks[run_id] = *pk;
    return *pk;
  }

  Result<int64_t> KeyPk(const std::string& key) {
    if (auto it = cache_->key_pks.find(key); it != cache_->key_pks.end()) return it->second;
    if (auto it = cache_->pending_key_pks.find(key); it != cache_->pending_key_pks.end()) return it->second;
    {
      TAMGA_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT key_pk FROM metric_keys WHERE name = ?1"));
      stmt->Bind(1, key);
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) {
        int64_t pk = stmt->Int(0);
        cache_->pending_key_pks[key] = pk;
        return pk;
      }
    }
    TAMGA_ASSIGN_OR_RETURN(auto ins,
                           db_->Prepare("INSERT INTO metric_keys(name) VALUES (?1) RETURNING key_pk"));
    ins->Bind(1, key);
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, RunReturningId(*ins));
    cache_->pending_key_pks[key] = pk;
    return pk;
  }

  // Moves the key's latest point forward when `p` is greater, and widens its [min, max] by [lo, hi] (the
  // batch's non-NaN extremes; NaN when it had none).
  Status AdvanceLatest(int64_t run_pk, int64_t key_pk, const PackedPoint& p, double lo, double hi) {
    if (db_->dialect() == SqlDialect::kPostgres)
      return AdvanceLatestInOneStatement(run_pk, key_pk, p, lo, hi);
    PackedPoint latest = p;
    {
      TAMGA_ASSIGN_OR_RETURN(auto stmt,
                             db_->Prepare("SELECT value, is_nan, timestamp, step, min_value, max_value "
                                          "FROM latest_metrics WHERE run_pk = ?1 AND key_pk = ?2"));
      stmt->Bind(1, run_pk).Bind(2, key_pk);
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (row) {
        double v = stmt->Int(1) ? std::nan("") : stmt->Double(0);
        PackedPoint cur{stmt->Int(3), stmt->Int(2), v};
        double old_lo = stmt->IsNull(4) ? std::nan("") : stmt->Double(4);
        double old_hi = stmt->IsNull(5) ? std::nan("") : stmt->Double(5);
        bool later = PointLess(cur, p);
        bool wider = (!std::isnan(lo) && (std::isnan(old_lo) || lo < old_lo)) ||
                     (!std::isnan(hi) && (std::isnan(old_hi) || hi > old_hi));
        if (!later && !wider) return Status::Ok();
        if (!later) latest = cur;
        if (!std::isnan(old_lo) && (std::isnan(lo) || old_lo < lo)) lo = old_lo;
        if (!std::isnan(old_hi) && (std::isnan(hi) || old_hi > hi)) hi = old_hi;
      }
    }
    TAMGA_ASSIGN_OR_RETURN(
        auto up, db_->Prepare("INSERT INTO latest_metrics(run_pk, key_pk, value, "
                              "is_nan, timestamp, step, min_value, max_value, range_known) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1) ON CONFLICT(run_pk, key_pk) "
                              "DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, "
                              "timestamp = excluded.timestamp, step = excluded.step, "
                              "min_value = excluded.min_value, max_value = excluded.max_value, "
                              "range_known = 1"));
    up->Bind(1, run_pk).Bind(2, key_pk);
    if (std::isnan(latest.value))
      up->BindNull(3);
    else
      up->Bind(3, latest.value);
    up->Bind(4, std::isnan(latest.value) ? 1 : 0).Bind(5, latest.timestamp).Bind(6, latest.step);
    if (std::isnan(lo))
      up->BindNull(7).BindNull(8);
    else
      up->Bind(7, lo).Bind(8, hi);
    return up->Run();
  }

  SqlDb* db_;
  SqlMetadataStore::WriterCache* cache_;
  std::unordered_map<std::string, RunInfo> run_infos_;  // this transaction's reads of runs (GetRunInfo)
  // The optimistic pass on PostgreSQL: metric rows wait for the commit (FlushMetrics).
  bool buffer_metrics_ = false;
  std::vector<ChunkRow> chunk_rows_;
  std::map<std::pair<int64_t, int64_t>, LatestRow> latest_rows_;
  std::unique_ptr<RegistryTxn> registry_;
  bool open_ = true;
};

}  // namespace

std::unique_ptr<WriteTxn> NewSqlWriteTxn(SqlDb* db, SqlMetadataStore::WriterCache* cache) {
  return std::make_unique<SqlWriteTxn>(db, cache);
}

}  // namespace tamga
