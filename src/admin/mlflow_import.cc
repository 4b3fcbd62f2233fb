#include "admin/mlflow_import.h"

#include <charconv>
#include <filesystem>
#include <map>

#include "admin/artifact_copy.h"
#include "admin/mlflow_rows_check.h"
#include "admin/store_migrate.h"
#include "core/dir_lock.h"
#include "core/store_uri.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/pg_stores.h"
#include "storage/sql/sql_metadata_store.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {
namespace {

constexpr size_t kPointsPerCall = 1000;  // metric points per LogMetrics: chunks as normal ingest makes them

// MLflow's database, read only. Every SQL text here is a constant; values are bound.
struct Mlflow {
  std::unique_ptr<SqlDb> db;

  Result<int64_t> Count(const char* sql) {
    TAMGA_ASSIGN_OR_RETURN(auto s, db->PrepareUncached(sql));
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row && !s->IsNull(0) ? s->Int(0) : 0;
  }
  std::string Text(SqlStmt& s, int col) { return s.IsNull(col) ? std::string() : s.Text(col); }
  std::optional<std::string> OptText(SqlStmt& s, int col) {
    return s.IsNull(col) ? std::nullopt : std::optional<std::string>(s.Text(col));
  }
  int64_t Int(SqlStmt& s, int col) { return s.IsNull(col) ? 0 : s.Int(col); }
  template <typename... Ids>
  Result<std::vector<KeyValue>> Pairs(const char* sql, const Ids&... ids) {
    TAMGA_ASSIGN_OR_RETURN(auto s, db->Prepare(sql));
    int at = 0;
    (s->Bind(++at, ids), ...);
    std::vector<KeyValue> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back({Text(r, 0), Text(r, 1)}); }));
    return out;
  }
};

Result<Mlflow> OpenMlflow(const std::string& text) {
  TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseBackendStoreUri(text));
  Mlflow m;
  if (uri.kind == StoreUri::Kind::kPostgres) {
    TAMGA_ASSIGN_OR_RETURN(auto db, PgDb::Open(uri));
    m.db = std::move(db);
  } else {
    if (!std::filesystem::exists(uri.path)) return NotFound("no MLflow database at " + uri.path);
    SqliteDb::Options o;
    o.path = uri.path;
    o.read_only = true;
    auto db = SqliteDb::Open(o);
    if (!db.ok())
      return InvalidArgument(uri.path + " is not a readable SQLite database (" + db.status().message() + ")");
    m.db = std::move(*db);
  }
  // MLflow's schema, or a clear refusal: its Alembic version table and the columns read below.
  auto version = m.db->PrepareUncached("SELECT version_num FROM alembic_version");
  auto columns = m.db->PrepareUncached(
      "SELECT r.run_uuid, r.name, r.lifecycle_stage, r.artifact_uri, m.is_nan, d.dataset_uuid, a.alias FROM "
      "runs r, "
      "metrics m, datasets d, inputs i, input_tags t, model_versions v, registered_model_aliases a WHERE 1 = "
      "0");
  if (!version.ok() || !columns.ok() || !(*columns)->Step().ok()) {
    return InvalidArgument(
        uri.Redacted() +
        " is not an MLflow 2.x tracking database (no alembic_version table, or tables/columns "
        "of MLflow's schema missing; run `mlflow db upgrade` on it first)");
  }
  return m;
}

// The Tamga store, migrated to the current schema, and a plain connection to it for counting.
struct Dest {
  std::unique_ptr<SqlMetadataStore> store;
  std::unique_ptr<SqlDb> db;
  std::unique_ptr<DirLock> lock;
};

// An id this import itself formatted from MLflow's integer column.
int64_t NumericId(const std::string& id) {
  int64_t v = 0;
  std::from_chars(id.data(), id.data() + id.size(), v);
  return v;
}

Result<Dest> OpenDest(const std::string& text) {
  TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseBackendStoreUri(text));
  Dest d;
  if (uri.kind == StoreUri::Kind::kPostgres) {
    TAMGA_ASSIGN_OR_RETURN(d.store, OpenPgMetadataStore(uri, 1));
    TAMGA_ASSIGN_OR_RETURN(auto db, PgDb::Open(uri));
    d.db = std::move(db);
    return d;
  }
  std::filesystem::path dir = std::filesystem::absolute(uri.path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TAMGA_ASSIGN_OR_RETURN(d.lock, DirLock::Acquire(dir.string()));  // no server on it meanwhile
  TAMGA_ASSIGN_OR_RETURN(d.store, OpenSqliteMetadataStore({uri.path}));
  TAMGA_ASSIGN_OR_RETURN(auto db, SqliteDb::Open({uri.path}));
  d.db = std::move(db);
  return d;
}

Result<int64_t> CountIn(SqlDb& db, const char* sql) {
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
  TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
  return row && !s->IsNull(0) ? s->Int(0) : 0;
}

Status Write(MetadataStore& store, const std::function<Status(WriteTxn&)>& fn) {
  TAMGA_ASSIGN_OR_RETURN(auto txn, store.BeginWrite());
  Status s = fn(*txn);
  if (!s.ok()) {
    (void)txn->Rollback();
    return s;
  }
  return txn->Commit();
}

class Importer {
 public:
  Importer(const MlflowImportOptions& o, Mlflow* src, Dest* dst, MlflowImportReport* report)
      : o_(o), src_(*src), dst_(*dst), report_(*report) {}

  void Say(const std::string& line) {
    if (o_.progress) o_.progress(line);
  }

  std::string Uri(const std::string& uri) {
    if (uri.empty()) return uri;
    bool rewritten = false;
    std::string out = RewriteMlflowArtifactUri(uri, o_.artifacts, &rewritten);
    if (rewritten) {
      ++report_.uris_rewritten;
    } else if (o_.artifacts.empty() && uri.rfind("mlflow-artifacts:", 0) == 0) {
      ++report_.uris_without_files;
    } else if (uri.rfind("mlflow-artifacts:", 0) != 0 && uri.rfind("runs:", 0) != 0 &&
               uri.rfind("models:", 0) != 0) {
      if (++report_.uris_kept <= 5)
        Say(std::string(o_.artifacts.empty() ? "artifact URI kept as it is (no --artifacts given): "
                                             : "artifact URI outside the artifact root, kept as it is: ") +
            uri);
    }
    return out;
  }

  Status Experiments() {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        src_.db->PrepareUncached("SELECT experiment_id, name, artifact_location, lifecycle_stage, "
                                 "creation_time, last_update_time FROM experiments ORDER BY experiment_id"));
    std::vector<Experiment> all;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      Experiment e;
      e.experiment_id = std::to_string(src_.Int(r, 0));
      e.name = src_.Text(r, 1);
      e.artifact_location = src_.Text(r, 2);
      e.lifecycle_stage = src_.Text(r, 3) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
      e.creation_time = src_.Int(r, 4);
      e.last_update_time = src_.Int(r, 5);
      all.push_back(std::move(e));
    }));
    for (auto& e : all) {
      e.artifact_location = Uri(e.artifact_location);
      TAMGA_ASSIGN_OR_RETURN(auto tags,
                             src_.Pairs("SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 "
                                        "ORDER BY key",
                                        NumericId(e.experiment_id)));
      auto have = dst_.store->GetExperiment(e.experiment_id);
      bool create = !have.ok();
      if (have.ok() && have->name != e.name && e.experiment_id != "0") {
        return FailedPrecondition("experiment " + e.experiment_id + " is '" + have->name +
                                  "' in the destination but '" + e.name +
                                  "' in MLflow: import into a new Tamga store");
      }
      TAMGA_RETURN_IF_ERROR(Write(*dst_.store, [&](WriteTxn& t) -> Status {
        if (create) {
          TAMGA_RETURN_IF_ERROR(t.CreateExperiment(e).status());
        } else {  // resumed, or the destination's own Default experiment (id 0): MLflow's wins
          if (have->name != e.name)
            TAMGA_RETURN_IF_ERROR(t.RenameExperiment(e.experiment_id, e.name, e.last_update_time));
          TAMGA_RETURN_IF_ERROR(t.SetExperimentArtifactLocation(e.experiment_id, e.artifact_location));
        }
        for (const auto& tag : tags) TAMGA_RETURN_IF_ERROR(t.SetExperimentTag(e.experiment_id, tag));
        if (e.lifecycle_stage == LifecycleStage::kDeleted)
          TAMGA_RETURN_IF_ERROR(
              t.SetExperimentLifecycle(e.experiment_id, LifecycleStage::kDeleted, e.last_update_time));
        return Status::Ok();
      }));
      if (create) ++report_.imported.experiments;
    }
    Say("experiments: " + std::to_string(all.size()));
    return Status::Ok();
  }

  Result<std::vector<DatasetInput>> Inputs(const std::string& run_id) {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        src_.db->Prepare("SELECT i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, "
                         "d.dataset_schema, d.dataset_profile FROM inputs i JOIN datasets d ON "
                         "d.dataset_uuid = i.source_id WHERE i.destination_type = 'RUN' AND "
                         "i.destination_id = ?1 AND i.source_type = 'DATASET' ORDER BY i.input_uuid"));
    s->Bind(1, run_id);
    std::vector<std::pair<std::string, DatasetInput>> rows;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      DatasetInput in;
      in.dataset = {src_.Text(r, 1), src_.Text(r, 2), src_.Text(r, 3),
                    src_.Text(r, 4), src_.Text(r, 5), src_.Text(r, 6)};
      rows.emplace_back(src_.Text(r, 0), std::move(in));
    }));
    std::vector<DatasetInput> out;
    for (auto& [uuid, in] : rows) {
      TAMGA_ASSIGN_OR_RETURN(in.tags, src_.Pairs("SELECT name, value FROM input_tags WHERE input_uuid = ?1 "
                                                 "ORDER BY name",
                                                 uuid));
      out.push_back(std::move(in));
    }
    return out;
  }

  Status Metrics(WriteTxn& t, const std::string& run_id, int64_t* points) {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        src_.db->Prepare("SELECT key, value, timestamp, step, CASE WHEN is_nan THEN 1 ELSE 0 END FROM "
                         "metrics WHERE run_uuid = ?1 ORDER BY key, step, timestamp"));
    s->Bind(1, run_id);
    std::vector<MetricPoint> batch;
    Status failed = Status::Ok();
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      if (!failed.ok()) return;
      MetricPoint p;
      p.key = src_.Text(r, 0);
      p.value = src_.Int(r, 4) != 0 ? std::nan("") : (r.IsNull(1) ? 0.0 : r.Double(1));
      p.timestamp = src_.Int(r, 2);
      p.step = src_.Int(r, 3);
      batch.push_back(std::move(p));
      if (batch.size() >= kPointsPerCall) {
        failed = t.LogMetrics(run_id, batch);
        *points += static_cast<int64_t>(batch.size());
        batch.clear();
      }
    }));
    TAMGA_RETURN_IF_ERROR(failed);
    if (!batch.empty()) {
      TAMGA_RETURN_IF_ERROR(t.LogMetrics(run_id, batch));
      *points += static_cast<int64_t>(batch.size());
    }
    return Status::Ok();
  }

  Status Runs() {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        src_.db->PrepareUncached("SELECT run_uuid, experiment_id, name, user_id, status, start_time, "
                                 "end_time, lifecycle_stage, artifact_uri FROM runs ORDER BY start_time, "
                                 "run_uuid"));
    std::vector<RunInfo> runs;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      RunInfo info;
      info.run_id = src_.Text(r, 0);
      info.experiment_id = std::to_string(src_.Int(r, 1));
      info.run_name = src_.Text(r, 2);
      info.user_id = src_.Text(r, 3);
      if (!ParseRunStatus(src_.Text(r, 4), &info.status)) info.status = RunStatus::kFinished;
      info.start_time = src_.Int(r, 5);
      if (!r.IsNull(6)) info.end_time = r.Int(6);
      info.lifecycle_stage =
          src_.Text(r, 7) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
      info.artifact_uri = src_.Text(r, 8);
      runs.push_back(std::move(info));
    }));
    int64_t done = 0;
    for (auto& info : runs) {
      if (auto have = dst_.store->GetRunInfo(info.run_id); have.ok()) {  // imported by an earlier run
        run_artifacts_[info.run_id] = have->artifact_uri;
        ++report_.runs_skipped;
        continue;
      }
      info.artifact_uri = Uri(info.artifact_uri);
      run_artifacts_[info.run_id] = info.artifact_uri;
      TAMGA_ASSIGN_OR_RETURN(
          auto tags, src_.Pairs("SELECT key, value FROM tags WHERE run_uuid = ?1 ORDER BY key", info.run_id));
      TAMGA_ASSIGN_OR_RETURN(auto params,
                             src_.Pairs("SELECT key, value FROM params WHERE run_uuid = ?1 ORDER "
                                        "BY key",
                                        info.run_id));
      TAMGA_ASSIGN_OR_RETURN(auto inputs, Inputs(info.run_id));
      int64_t points = 0;
      TAMGA_RETURN_IF_ERROR(Write(*dst_.store, [&](WriteTxn& t) -> Status {
        points = 0;
        TAMGA_RETURN_IF_ERROR(t.CreateRun(info, tags));
        if (!params.empty()) TAMGA_RETURN_IF_ERROR(t.InsertParams(info.run_id, params));
        TAMGA_RETURN_IF_ERROR(Metrics(t, info.run_id, &points));
        if (!inputs.empty()) TAMGA_RETURN_IF_ERROR(t.LogInputs(info.run_id, inputs));
        if (info.lifecycle_stage == LifecycleStage::kDeleted)
          TAMGA_RETURN_IF_ERROR(t.SetRunLifecycle(info.run_id, LifecycleStage::kDeleted));
        return Status::Ok();
      }));
      ++report_.imported.runs;
      report_.imported.params += static_cast<int64_t>(params.size());
      report_.imported.tags += static_cast<int64_t>(tags.size());
      report_.imported.metric_points += points;
      report_.imported.inputs += static_cast<int64_t>(inputs.size());
      if (++done % 1000 == 0) Say("runs: " + std::to_string(done) + " of " + std::to_string(runs.size()));
    }
    Say("runs: " + std::to_string(runs.size()) + " (" + std::to_string(report_.runs_skipped) +
        " already there)");
    return Status::Ok();
  }

  Status Models() {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           src_.db->PrepareUncached("SELECT name, creation_time, last_updated_time, "
                                                    "description FROM registered_models ORDER BY name"));
    std::vector<RegisteredModel> models;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      RegisteredModel m;
      m.name = src_.Text(r, 0);
      m.creation_timestamp = src_.Int(r, 1);
      m.last_updated_timestamp = r.IsNull(2) ? m.creation_timestamp : r.Int(2);
      m.description = src_.OptText(r, 3);
      if (m.description && m.description->empty()) m.description.reset();  // MLflow answers without it
      models.push_back(std::move(m));
    }));
    for (const auto& m : models) {
      if (dst_.store->registry().GetRegisteredModel(m.name).ok()) continue;  // resumed
      TAMGA_ASSIGN_OR_RETURN(auto tags,
                             src_.Pairs("SELECT key, value FROM registered_model_tags WHERE name = ?1 "
                                        "ORDER BY key",
                                        m.name));
      TAMGA_ASSIGN_OR_RETURN(auto versions, Versions(m.name));
      TAMGA_ASSIGN_OR_RETURN(
          auto va,
          src_.db->Prepare("SELECT alias, version FROM registered_model_aliases WHERE name = ?1 ORDER "
                           "BY alias"));
      va->Bind(1, m.name);
      std::vector<std::pair<std::string, int64_t>> aliases;
      TAMGA_RETURN_IF_ERROR(
          ForEachRow(*va, [&](SqlStmt& r) { aliases.emplace_back(src_.Text(r, 0), src_.Int(r, 1)); }));
      TAMGA_RETURN_IF_ERROR(Write(*dst_.store, [&](WriteTxn& w) -> Status {
        RegistryTxn& t = w.registry();
        TAMGA_RETURN_IF_ERROR(t.CreateRegisteredModel(m));
        for (const auto& tag : tags) TAMGA_RETURN_IF_ERROR(t.SetRegisteredModelTag(m.name, tag));
        for (const auto& [v, deleted] : versions) {
          TAMGA_RETURN_IF_ERROR(t.CreateModelVersion(v));
          if (deleted)
            TAMGA_RETURN_IF_ERROR(t.DeleteModelVersion(m.name, v.version, v.last_updated_timestamp));
        }
        for (const auto& [alias, version] : aliases)
          TAMGA_RETURN_IF_ERROR(t.SetAlias(m.name, alias, version));
        return Status::Ok();
      }));
      ++report_.imported.models;
      report_.imported.versions += static_cast<int64_t>(versions.size());
      report_.imported.aliases += static_cast<int64_t>(aliases.size());
    }
    Say("registered models: " + std::to_string(models.size()));
    return Status::Ok();
  }

  // The model's versions, each with whether MLflow soft-deleted it (its Deleted_Internal stage).
  Result<std::vector<std::pair<ModelVersion, bool>>> Versions(const std::string& name) {
    TAMGA_ASSIGN_OR_RETURN(
        auto s, src_.db->Prepare("SELECT version, creation_time, last_updated_time, description, user_id, "
                                 "current_stage, source, run_id, status, status_message, run_link, "
                                 "storage_location FROM model_versions WHERE name = ?1 ORDER BY version"));
    s->Bind(1, name);
    std::vector<std::pair<ModelVersion, bool>> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      ModelVersion v;
      v.name = name;
      v.version = src_.Int(r, 0);
      v.creation_timestamp = src_.Int(r, 1);
      v.last_updated_timestamp = r.IsNull(2) ? v.creation_timestamp : r.Int(2);
      v.description = src_.OptText(r, 3);
      v.user_id = src_.Text(r, 4);
      std::string stage = src_.Text(r, 5);
      bool deleted = stage == "Deleted_Internal";
      v.current_stage = deleted || stage.empty() ? "None" : stage;
      v.source = src_.Text(r, 6);
      v.run_id = src_.OptText(r, 7);
      std::string status = src_.Text(r, 8);
      v.status = status == "PENDING_REGISTRATION"  ? ModelVersionStatus::kPendingRegistration
                 : status == "FAILED_REGISTRATION" ? ModelVersionStatus::kFailedRegistration
                                                   : ModelVersionStatus::kReady;
      v.status_message = src_.OptText(r, 9);
      v.run_link = src_.OptText(r, 10);
      v.storage_location = src_.Text(r, 11);
      out.emplace_back(std::move(v), deleted);
    }));
    for (auto& [v, deleted] : out) {
      TAMGA_ASSIGN_OR_RETURN(v.tags,
                             src_.Pairs("SELECT key, value FROM model_version_tags WHERE name = ?1 AND "
                                        "version = ?2 ORDER BY key",
                                        name, v.version));
      if (deleted) continue;  // MLflow redacted its source and run id when it deleted it
      v.source = Uri(v.source);
      v.storage_location = v.storage_location.empty() ? v.source : Uri(v.storage_location);
      // Where the files are: a runs:/<run>/<path> location resolves to the run's artifacts now, as MLflow
      // resolves it when asked for a download URI (Tamga serves versions from their storage location).
      if (v.storage_location.rfind("runs:/", 0) == 0) {
        std::string rest = v.storage_location.substr(6);
        size_t slash = rest.find('/');
        auto run = run_artifacts_.find(rest.substr(0, slash));
        if (run != run_artifacts_.end() && !run->second.empty()) {
          v.storage_location = run->second + (slash == std::string::npos ? "" : rest.substr(slash));
        }
      }
    }
    return out;
  }

 private:
  const MlflowImportOptions& o_;
  Mlflow& src_;
  Dest& dst_;
  MlflowImportReport& report_;
  std::map<std::string, std::string> run_artifacts_;  // run id -> its artifact URI as stored in Tamga
};

Result<MlflowImportCounts> SourceCounts(Mlflow& m) {
  MlflowImportCounts c;
  TAMGA_ASSIGN_OR_RETURN(c.experiments, m.Count("SELECT COUNT(*) FROM experiments"));
  TAMGA_ASSIGN_OR_RETURN(c.runs, m.Count("SELECT COUNT(*) FROM runs"));
  // Rows of runs that do not exist are not imported (nothing could show them), nor counted.
  TAMGA_ASSIGN_OR_RETURN(c.params,
                         m.Count("SELECT COUNT(*) FROM params p JOIN runs r ON r.run_uuid = p.run_uuid"));
  TAMGA_ASSIGN_OR_RETURN(c.tags,
                         m.Count("SELECT COUNT(*) FROM tags t JOIN runs r ON r.run_uuid = t.run_uuid"));
  TAMGA_ASSIGN_OR_RETURN(c.metric_points,
                         m.Count("SELECT COUNT(*) FROM metrics x JOIN runs r ON r.run_uuid = x.run_uuid"));
  TAMGA_ASSIGN_OR_RETURN(c.inputs,
                         m.Count("SELECT COUNT(*) FROM inputs i JOIN datasets d ON d.dataset_uuid = "
                                 "i.source_id JOIN runs r ON r.run_uuid = i.destination_id WHERE "
                                 "i.destination_type = 'RUN' AND i.source_type = 'DATASET'"));
  TAMGA_ASSIGN_OR_RETURN(c.models, m.Count("SELECT COUNT(*) FROM registered_models"));
  TAMGA_ASSIGN_OR_RETURN(c.versions, m.Count("SELECT COUNT(*) FROM model_versions"));
  TAMGA_ASSIGN_OR_RETURN(c.aliases, m.Count("SELECT COUNT(*) FROM registered_model_aliases"));
  return c;
}

Result<MlflowImportCounts> DestCounts(SqlDb& db) {
  MlflowImportCounts c;
  TAMGA_ASSIGN_OR_RETURN(c.experiments, CountIn(db, "SELECT COUNT(*) FROM experiments"));
  TAMGA_ASSIGN_OR_RETURN(c.runs, CountIn(db, "SELECT COUNT(*) FROM runs"));
  TAMGA_ASSIGN_OR_RETURN(c.params, CountIn(db, "SELECT COUNT(*) FROM params"));
  TAMGA_ASSIGN_OR_RETURN(c.tags, CountIn(db, "SELECT COUNT(*) FROM tags"));
  TAMGA_ASSIGN_OR_RETURN(c.metric_points, CountIn(db, "SELECT SUM(point_count) FROM metric_chunks"));
  TAMGA_ASSIGN_OR_RETURN(c.inputs, CountIn(db, "SELECT COUNT(*) FROM run_inputs"));
  TAMGA_ASSIGN_OR_RETURN(c.models, CountIn(db, "SELECT COUNT(*) FROM registered_models"));
  TAMGA_ASSIGN_OR_RETURN(c.versions, CountIn(db, "SELECT COUNT(*) FROM model_versions"));
  TAMGA_ASSIGN_OR_RETURN(c.aliases, CountIn(db, "SELECT COUNT(*) FROM registered_model_aliases"));
  return c;
}

}  // namespace

std::string RewriteMlflowArtifactUri(const std::string& uri, const std::string& root, bool* rewritten) {
  *rewritten = false;
  if (root.empty() || uri.empty() || uri.rfind("mlflow-artifacts:", 0) == 0) return uri;
  std::vector<std::string> prefixes;
  if (root.rfind("s3://", 0) == 0) {
    std::string r = root;
    while (!r.empty() && r.back() == '/') r.pop_back();
    prefixes.push_back(r + "/");
  } else {
    std::string path = root.rfind("file://", 0) == 0 ? root.substr(7) : root;
    std::error_code ec;
    std::string abs = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec).string();
    if (ec) abs = std::filesystem::absolute(path).lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    prefixes = {abs + "/", "file://" + abs + "/", "file:" + abs + "/"};
  }
  for (const auto& p : prefixes) {
    if (uri.size() > p.size() && uri.compare(0, p.size(), p) == 0) {
      *rewritten = true;
      return "mlflow-artifacts:/" + uri.substr(p.size());
    }
  }
  return uri;
}

Result<MlflowImportReport> ImportMlflow(const MlflowImportOptions& o, Clock* clock, Random* random) {
  if (o.backend_store_uri.empty() || o.to.empty())
    return InvalidArgument(
        "import-mlflow needs MLflow's --backend-store-uri and the Tamga store (--to or --data-dir)");
  if (!o.artifacts.empty() && o.artifacts_to.empty())
    return InvalidArgument("--artifacts needs Tamga's artifact destination (--artifacts-to or --data-dir)");
  MlflowImportReport report;
  TAMGA_ASSIGN_OR_RETURN(Mlflow src, OpenMlflow(o.backend_store_uri));
  TAMGA_RETURN_IF_ERROR(CheckMlflowRows(*src.db, o.artifacts));
  TAMGA_ASSIGN_OR_RETURN(report.source, SourceCounts(src));
  TAMGA_ASSIGN_OR_RETURN(Dest dst, OpenDest(o.to));
  TAMGA_RETURN_IF_ERROR(CheckImportDestination(*src.db, *dst.db));
  {
    Importer im(o, &src, &dst, &report);
    TAMGA_RETURN_IF_ERROR(im.Experiments());
    TAMGA_RETURN_IF_ERROR(im.Runs());
    TAMGA_RETURN_IF_ERROR(im.Models());
  }
  TAMGA_RETURN_IF_ERROR(dst.store->Flush());
  TAMGA_RETURN_IF_ERROR(MovePgSequencesPast(*dst.db));  // new experiments continue after MLflow's ids

  // Verification: the destination holds exactly what MLflow's database does (its own Default experiment
  // aside, when MLflow had none).
  TAMGA_ASSIGN_OR_RETURN(MlflowImportCounts got, DestCounts(*dst.db));
  TAMGA_ASSIGN_OR_RETURN(int64_t zero, src.Count("SELECT COUNT(*) FROM experiments WHERE experiment_id = 0"));
  if (zero == 0 && dst.store->GetExperiment("0").ok()) --got.experiments;
  const MlflowImportCounts& want = report.source;
  std::string diff;
  auto check = [&](const char* what, int64_t a, int64_t b) {
    if (a != b)
      diff += std::string(diff.empty() ? "" : ", ") + what + " " + std::to_string(a) + " in MLflow vs " +
              std::to_string(b) + " in Tamga";
  };
  check("experiments", want.experiments, got.experiments);
  check("runs", want.runs, got.runs);
  check("params", want.params, got.params);
  check("run tags", want.tags, got.tags);
  check("metric points", want.metric_points, got.metric_points);
  check("dataset inputs", want.inputs, got.inputs);
  check("registered models", want.models, got.models);
  check("model versions", want.versions, got.versions);
  check("aliases", want.aliases, got.aliases);
  if (!diff.empty()) {
    return FailedPrecondition("the destination does not match MLflow's database after the import (" + diff +
                              "): was something written to it meanwhile? Import into a new Tamga store");
  }

  if (dst.lock) {  // a SQLite destination: the server's user only, as the server leaves it
    std::error_code ec;
    TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseBackendStoreUri(o.to));
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::permissions(uri.path + suffix,
                                   std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::replace, ec);
    }
  }
  if (report.uris_without_files > 0 && o.progress) {
    o.progress("warning: " + std::to_string(report.uris_without_files) +
               " artifact URIs point at MLflow's proxy (mlflow-artifacts:) but no --artifacts was given, so "
               "their files were not copied; run again with --artifacts <MLflow's --artifacts-destination>");
  }
  if (!o.artifacts.empty()) {
    TAMGA_ASSIGN_OR_RETURN(
        auto copied, CopyArtifacts(o.artifacts, o.artifacts_to, clock, random, [&](const std::string& line) {
          if (o.progress) o.progress(line);
        }));
    report.artifacts_copied = copied.copied;
    report.artifacts_skipped = copied.skipped;
    report.artifact_bytes = copied.bytes;
  }
  return report;
}

}  // namespace tamga
