// SqlWriteTxn: the write half of SqlMetadataStore, used only by the group committer's thread.
#include <cmath>
#include <map>

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

  // Savepoints run once per request on the ingest path: prepared once, not re-parsed.
  Status Savepoint() override { return RunCached("SAVEPOINT w"); }
  Status ReleaseSavepoint() override { return RunCached("RELEASE w"); }
  Status RollbackToSavepoint() override {
    cache_->pending_run_pks.clear();
    cache_->pending_key_pks.clear();
    TAMGA_RETURN_IF_ERROR(RunCached("ROLLBACK TO w"));
    return RunCached("RELEASE w");
  }
  Status Commit() override {
    Status s = db_->Exec("COMMIT");
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

  Result<RunInfo> GetRunInfo(const std::string& run_id) override {
    TAMGA_ASSIGN_OR_RETURN(auto found, SqlLoadRunInfo(*db_, run_id));
    if (!cache_->run_pks.count(run_id)) cache_->pending_run_pks[run_id] = found.second;
    return std::move(found.first);
  }

  Status UpdateRunInfo(const RunInfo& info) override {
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
      TAMGA_RETURN_IF_ERROR(stmt->Run());
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
      {
        TAMGA_ASSIGN_OR_RETURN(
            auto stmt,
            db_->Prepare("INSERT INTO metric_chunks(run_pk, key_pk, min_step, max_step, point_count, points) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
        stmt->Bind(1, run_pk).Bind(2, key_pk).Bind(3, min_step).Bind(4, max_step);
        stmt->Bind(5, static_cast<int64_t>(series.size())).BindBlob(6, EncodeChunk(series));
        TAMGA_RETURN_IF_ERROR(stmt->Run());
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
  std::unique_ptr<RegistryTxn> registry_;
  bool open_ = true;
};

}  // namespace

std::unique_ptr<WriteTxn> NewSqlWriteTxn(SqlDb* db, SqlMetadataStore::WriterCache* cache) {
  return std::make_unique<SqlWriteTxn>(db, cache);
}

}  // namespace tamga
