// Loads full Run entities (info, latest metrics, params, tags, inputs, model outputs) for a list of run pks
// in a few set-oriented queries, preserving the caller's order. Used by GetRun and SearchRuns.
#include <cmath>
#include <unordered_map>

#include "storage/sql/sql_metadata_store.h"

namespace tamga {
namespace {

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s;
}

// Runs `sql` (whose first column is run_pk) over the pks in chunks, calling row(stmt, run_index).
template <typename RowFn>
Status ForEachRow(SqlDb& db, const std::string& sql_prefix, const std::string& sql_suffix,
                  const std::vector<int64_t>& pks, const std::unordered_map<int64_t, size_t>& index,
                  RowFn row_fn) {
  constexpr size_t kChunk = 500;
  for (size_t start = 0; start < pks.size(); start += kChunk) {
    size_t n = std::min(kChunk, pks.size() - start);
    // Placeholder counts are rounded up to a few sizes so the statement cache stays small; the spare
    // slots are bound to -1, which is never a run pk.
    size_t slots = n <= 1 ? 1 : n <= 10 ? 10 : n <= 100 ? 100 : kChunk;
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql_prefix + Placeholders(slots) + sql_suffix));
    for (size_t i = 0; i < slots; ++i)
      stmt->Bind(static_cast<int>(i + 1), i < n ? pks[start + i] : int64_t{-1});
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      auto it = index.find(stmt->Int(0));
      if (it != index.end()) row_fn(*stmt, it->second);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Run>> SqlLoadRuns(SqlDb& db, const std::vector<int64_t>& run_pks) {
  std::vector<Run> runs(run_pks.size());
  std::vector<bool> found(run_pks.size(), false);
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < run_pks.size(); ++i) index.emplace(run_pks[i], i);

  TAMGA_RETURN_IF_ERROR(ForEachRow(
      db,
      "SELECT run_pk, run_id, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, "
      "lifecycle_stage FROM runs WHERE run_pk IN (",
      ")", run_pks, index, [&](SqlStmt& s, size_t i) {
        RunInfo& info = runs[i].info;
        info.run_id = s.Text(1);
        info.experiment_id = std::to_string(s.Int(2));
        info.run_name = s.Text(3);
        info.user_id = s.Text(4);
        info.status = static_cast<RunStatus>(s.Int(5));
        info.start_time = s.Int(6);
        if (!s.IsNull(7)) info.end_time = s.Int(7);
        info.artifact_uri = s.Text(8);
        info.lifecycle_stage = s.Text(9) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
        found[i] = true;
      }));
  TAMGA_RETURN_IF_ERROR(
      ForEachRow(db,
                 "SELECT l.run_pk, k.name, l.value, l.is_nan, l.timestamp, l.step, l.min_value, l.max_value "
                 "FROM latest_metrics l JOIN metric_keys k ON k.key_pk = l.key_pk WHERE l.run_pk IN (",
                 ") ORDER BY l.run_pk, k.name", run_pks, index, [&](SqlStmt& s, size_t i) {
                   double v = s.Int(3) ? std::nan("") : s.Double(2);
                   runs[i].metrics.push_back(MetricPoint{s.Text(1), v, s.Int(4), s.Int(5)});
                   double lo = s.IsNull(6) ? std::nan("") : s.Double(6);
                   double hi = s.IsNull(7) ? std::nan("") : s.Double(7);
                   runs[i].metric_ranges.emplace_back(lo, hi);
                 }));
  TAMGA_RETURN_IF_ERROR(ForEachRow(db, "SELECT run_pk, key, value FROM params WHERE run_pk IN (",
                                   ") ORDER BY run_pk, key", run_pks, index, [&](SqlStmt& s, size_t i) {
                                     runs[i].params.push_back({s.Text(1), s.Text(2)});
                                   }));
  TAMGA_RETURN_IF_ERROR(ForEachRow(db, "SELECT run_pk, key, value FROM tags WHERE run_pk IN (",
                                   ") ORDER BY run_pk, key", run_pks, index, [&](SqlStmt& s, size_t i) {
                                     runs[i].tags.push_back({s.Text(1), s.Text(2)});
                                   }));
  TAMGA_RETURN_IF_ERROR(ForEachRow(
      db,
      "SELECT run_pk, name, digest, source_type, source, schema, profile FROM run_inputs WHERE run_pk IN (",
      ") ORDER BY run_pk, position", run_pks, index, [&](SqlStmt& s, size_t i) {
        DatasetInput in;
        in.dataset = Dataset{s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)};
        runs[i].inputs.push_back(std::move(in));
      }));
  TAMGA_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT run_pk, name, digest, key, value FROM run_input_tags WHERE run_pk IN (",
                 ") ORDER BY run_pk, key", run_pks, index, [&](SqlStmt& s, size_t i) {
                   std::string name = s.Text(1), digest = s.Text(2);
                   for (auto& in : runs[i].inputs) {
                     if (in.dataset.name == name && in.dataset.digest == digest)
                       in.tags.push_back({s.Text(3), s.Text(4)});
                   }
                 }));
  TAMGA_RETURN_IF_ERROR(ForEachRow(db,
                                   "SELECT r.run_pk, o.model_id, o.step FROM run_outputs o JOIN runs r ON "
                                   "r.run_id = o.run_id WHERE r.run_pk IN (",
                                   ") ORDER BY r.run_pk, o.step, o.model_id", run_pks, index,
                                   [&](SqlStmt& s, size_t i) {
                                     runs[i].outputs.push_back(RunOutput{s.Text(1), s.Int(2)});
                                   }));

  std::vector<Run> out;
  out.reserve(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (found[i]) out.push_back(std::move(runs[i]));
  }
  return out;
}

}  // namespace tamga
