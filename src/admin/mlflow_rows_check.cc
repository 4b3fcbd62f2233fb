#include "admin/mlflow_rows_check.h"

#include <set>
#include <vector>

#include "admin/mlflow_import.h"
#include "artifacts/artifact_path.h"
#include "core/utf8.h"
#include "registry/registry_validation.h"
#include "tracking/validation.h"

namespace tamga {
namespace {

constexpr size_t kListed = 20;
constexpr size_t kMaxParamValue = 8000;  // MLflow's column (its API allows 6000)
constexpr size_t kMaxTagValue = 8000;

class Problems {
 public:
  void Add(const std::string& where, const Status& s) {
    if (s.ok()) return;
    if (++count_ <= kListed) lines_.push_back(where + ": " + s.message());
  }
  void Text(const std::string& where, const std::string& what, const std::string& v) {
    if (v.find('\0') != std::string::npos) Add(where, InvalidArgument(what + " contains a NUL byte"));
  }
  Status Result() const {
    if (count_ == 0) return Status::Ok();
    std::string out =
        std::to_string(count_) +
        " rows of the MLflow database break the rules Tamga's API enforces; fix or remove them in "
        "MLflow, then run the import again (nothing was imported):";
    for (const auto& l : lines_) out += "\n  " + l;
    if (count_ > kListed) out += "\n  ... and " + std::to_string(count_ - kListed) + " more";
    return InvalidArgument(out);
  }

 private:
  size_t count_ = 0;
  std::vector<std::string> lines_;
};

std::string Show(const std::string& s) { return "'" + std::string(Utf8Prefix(s, 80)) + "'"; }

// An artifact URI as the import will store it must, when Tamga's proxy serves it, stay inside the
// destination.
Status CheckUri(const std::string& uri, const std::string& root) {
  if (uri.empty()) return Status::Ok();
  if (uri.find('\0') != std::string::npos) return InvalidArgument("artifact URI contains a NUL byte");
  bool rewritten = false;
  std::string stored = RewriteMlflowArtifactUri(uri, root, &rewritten);
  if (stored.rfind("mlflow-artifacts:", 0) != 0)
    return Status::Ok();  // kept as it is: not served by the proxy
  auto path = ProxiedArtifactPath(stored);
  if (!path) return InvalidArgument("artifact URI " + Show(uri) + " is malformed");
  auto valid = ValidateArtifactPath(*path, /*allow_root=*/true);
  if (!valid.ok()) return InvalidArgument("artifact URI " + Show(uri) + ": " + valid.status().message());
  return Status::Ok();
}

template <typename Fn>
Status Each(SqlDb& db, const char* sql, Fn fn) {
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
  return ForEachRow(*s, fn);
}

std::string Col(SqlStmt& r, int c) { return r.IsNull(c) ? std::string() : r.Text(c); }

}  // namespace

Status CheckMlflowRows(SqlDb& db, const std::string& root) {
  Problems p;
  TAMGA_RETURN_IF_ERROR(
      Each(db, "SELECT experiment_id, name, artifact_location FROM experiments", [&](SqlStmt& r) {
        std::string where = "experiment " + Col(r, 0);
        p.Text(where, "name", Col(r, 1));
        p.Add(where, ValidateExperimentName(Col(r, 1)));
        p.Add(where, CheckUri(Col(r, 2), root));
      }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT experiment_id, key, value FROM experiment_tags", [&](SqlStmt& r) {
    std::string where = "experiment " + Col(r, 0) + " tag " + Show(Col(r, 1));
    p.Text(where, "key or value", Col(r, 1) + Col(r, 2));
    p.Add(where, ValidateExperimentTag({Col(r, 1), Col(r, 2)}));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT run_uuid, name, user_id, artifact_uri FROM runs", [&](SqlStmt& r) {
    std::string where = "run " + Show(Col(r, 0));
    p.Add(where, ValidateRunIdFormat(Col(r, 0)));
    p.Text(where, "name or user", Col(r, 1) + Col(r, 2));
    if (Col(r, 1).size() > TrackingLimits::kMaxRunName)
      p.Add(where, InvalidArgument("run name longer than " + std::to_string(TrackingLimits::kMaxRunName)));
    p.Add(where, CheckUri(Col(r, 3), root));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT run_uuid, key, value FROM params", [&](SqlStmt& r) {
    std::string where = "run " + Show(Col(r, 0)) + " param " + Show(Col(r, 1));
    p.Add(where, ValidateEntityKey("param", Col(r, 1)));
    p.Text(where, "value", Col(r, 2));
    if (Col(r, 2).size() > kMaxParamValue)
      p.Add(where, InvalidArgument("value longer than " + std::to_string(kMaxParamValue) + " bytes"));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT run_uuid, key, value FROM tags", [&](SqlStmt& r) {
    std::string where = "run " + Show(Col(r, 0)) + " tag " + Show(Col(r, 1));
    p.Add(where, ValidateEntityKey("tag", Col(r, 1)));
    p.Text(where, "value", Col(r, 2));
    if (Col(r, 2).size() > kMaxTagValue)
      p.Add(where, InvalidArgument("value longer than " + std::to_string(kMaxTagValue) + " bytes"));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT DISTINCT key FROM metrics", [&](SqlStmt& r) {
    p.Add("metric " + Show(Col(r, 0)), ValidateEntityKey("metric", Col(r, 0)));
  }));
  TAMGA_RETURN_IF_ERROR(Each(
      db,
      "SELECT d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile "
      "FROM datasets d WHERE d.dataset_uuid IN (SELECT source_id FROM inputs WHERE source_type = 'DATASET')",
      [&](SqlStmt& r) {
        DatasetInput in;
        in.dataset = {Col(r, 0), Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4), Col(r, 5)};
        std::string where = "dataset " + Show(Col(r, 0));
        p.Text(where, "a field", Col(r, 0) + Col(r, 1) + Col(r, 2) + Col(r, 3) + Col(r, 4) + Col(r, 5));
        p.Add(where, ValidateDatasetInput(in));
      }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT input_uuid, name, value FROM input_tags", [&](SqlStmt& r) {
    std::string where = "input " + Show(Col(r, 0)) + " tag " + Show(Col(r, 1));
    p.Text(where, "name or value", Col(r, 1) + Col(r, 2));
    if (Col(r, 1).empty() || Col(r, 1).size() > TrackingLimits::kMaxInputTagKey ||
        Col(r, 2).size() > TrackingLimits::kMaxInputTagValue)
      p.Add(where, InvalidArgument("empty or over-long name or value"));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT name, description FROM registered_models", [&](SqlStmt& r) {
    std::string where = "registered model " + Show(Col(r, 0));
    p.Text(where, "name or description", Col(r, 0) + Col(r, 1));
    p.Add(where, ValidateModelName(Col(r, 0)));
    p.Add(where, ValidateDescription(Col(r, 1)));
  }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT name, key, value FROM registered_model_tags", [&](SqlStmt& r) {
    std::string where = "registered model " + Show(Col(r, 0)) + " tag " + Show(Col(r, 1));
    p.Text(where, "key or value", Col(r, 1) + Col(r, 2));
    p.Add(where, ValidateRegistryTag({Col(r, 1), Col(r, 2)}));
  }));
  TAMGA_RETURN_IF_ERROR(Each(
      db,
      "SELECT v.name, v.version, v.current_stage, v.source, v.storage_location, v.description, v.run_id, "
      "(SELECT COUNT(*) FROM registered_models m WHERE m.name = v.name) FROM model_versions v",
      [&](SqlStmt& r) {
        std::string where = "model version " + Show(Col(r, 0)) + " " + Col(r, 1);
        if (r.IsNull(1) || r.Int(1) < 1) p.Add(where, InvalidArgument("version numbers start at 1"));
        if (r.Int(7) == 0) p.Add(where, InvalidArgument("its registered model does not exist"));
        std::string stage = Col(r, 2);
        if (stage == "Deleted_Internal") return;  // MLflow redacted it; imported as deleted
        if (!stage.empty()) p.Add(where, CanonicalStage(stage).status());
        p.Text(where, "a field", Col(r, 3) + Col(r, 4) + Col(r, 5) + Col(r, 6));
        p.Add(where, ValidateDescription(Col(r, 5)));
        if (Col(r, 3).rfind("runs:/", 0) != 0) p.Add(where, CheckUri(Col(r, 3), root));
        if (Col(r, 4).rfind("runs:/", 0) != 0) p.Add(where, CheckUri(Col(r, 4), root));
      }));
  TAMGA_RETURN_IF_ERROR(Each(db, "SELECT name, version, key, value FROM model_version_tags", [&](SqlStmt& r) {
    std::string where = "model version " + Show(Col(r, 0)) + " " + Col(r, 1) + " tag " + Show(Col(r, 2));
    p.Text(where, "key or value", Col(r, 2) + Col(r, 3));
    p.Add(where, ValidateRegistryTag({Col(r, 2), Col(r, 3)}));
  }));
  TAMGA_RETURN_IF_ERROR(Each(
      db,
      "SELECT a.name, a.alias, a.version, (SELECT COUNT(*) FROM model_versions v WHERE v.name = a.name AND "
      "v.version = a.version AND (v.current_stage IS NULL OR v.current_stage <> 'Deleted_Internal')) FROM "
      "registered_model_aliases a",
      [&](SqlStmt& r) {
        std::string where = "alias " + Show(Col(r, 1)) + " of " + Show(Col(r, 0));
        p.Add(where, ValidateAlias(Col(r, 1)));
        if (r.Int(3) == 0)
          p.Add(where, InvalidArgument("points at version " + Col(r, 2) + ", which does not exist"));
      }));
  return p.Result();
}

Status CheckImportDestination(SqlDb& src, SqlDb& dst) {
  auto ids = [](SqlDb& db, const char* sql) -> Result<std::set<std::string>> {
    TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
    std::set<std::string> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.insert(r.IsNull(0) ? "" : r.Text(0)); }));
    return out;
  };
  std::string found;
  auto extra = [&](const char* what, const std::set<std::string>& have, const std::set<std::string>& theirs,
                   const std::string& allowed) {
    int64_t n = 0;
    std::string first;
    for (const auto& id : have) {
      if (theirs.count(id) || id == allowed) continue;
      if (n++ == 0) first = id;
    }
    if (n > 0)
      found += std::string(found.empty() ? "" : ", ") + std::to_string(n) + " " + what + " (e.g. '" +
               std::string(Utf8Prefix(first, 64)) + "')";
  };
  TAMGA_ASSIGN_OR_RETURN(auto src_runs, ids(src, "SELECT run_uuid FROM runs"));
  TAMGA_ASSIGN_OR_RETURN(auto dst_runs, ids(dst, "SELECT run_id FROM runs"));
  extra("runs", dst_runs, src_runs, "");
  TAMGA_ASSIGN_OR_RETURN(auto src_exps, ids(src, "SELECT CAST(experiment_id AS TEXT) FROM experiments"));
  TAMGA_ASSIGN_OR_RETURN(auto dst_exps, ids(dst, "SELECT CAST(experiment_id AS TEXT) FROM experiments"));
  extra("experiments", dst_exps, src_exps, "0");
  TAMGA_ASSIGN_OR_RETURN(auto src_models, ids(src, "SELECT name FROM registered_models"));
  TAMGA_ASSIGN_OR_RETURN(auto dst_models, ids(dst, "SELECT name FROM registered_models"));
  extra("registered models", dst_models, src_models, "");
  if (found.empty()) return Status::Ok();
  return FailedPrecondition("the destination already holds " + found +
                            " not from this MLflow database: import into a new Tamga store (or the one an "
                            "interrupted import of this database left); nothing was imported");
}

}  // namespace tamga
