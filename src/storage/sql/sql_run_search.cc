// Compiles a RunQuery to one SQLite SELECT. The statement's shape comes from the parsed query (field
// kinds, operators, number of terms); every key and value the user wrote is bound as a parameter.
#include <cmath>
#include <variant>

#include "core/ids.h"
#include "storage/sql/sql_filter.h"
#include "storage/sql/sql_metadata_store.h"

namespace tamga {
namespace {

using Bind = SqlBind;

struct Sql {
  std::string from;
  std::string joins;
  std::vector<Bind> join_binds;
  std::string where;
  std::vector<Bind> where_binds;
  std::string order;  // order-only joins put their binds in join_binds
};

constexpr const char* kKeyPk = "(SELECT key_pk FROM metric_keys WHERE name = ?)";
constexpr const char* kStatusName =
    "(CASE r.status WHEN 1 THEN 'RUNNING' WHEN 2 THEN 'SCHEDULED' WHEN 3 THEN 'FINISHED' WHEN 4 THEN "
    "'FAILED' "
    "ELSE 'KILLED' END)";

void AndWhere(Sql& sql, const std::string& cond) { sql.where += sql.where.empty() ? cond : " AND " + cond; }

std::string AttributeColumn(const std::string& key) {
  if (key == "status") return kStatusName;
  if (key == "run_id" || key == "run_name" || key == "user_id" || key == "artifact_uri" ||
      key == "start_time" || key == "end_time")
    return "r." + key;
  return "";
}

Status AddFilter(Sql& sql, const Comparison& c, int index, std::string* metric_alias_for_first_order,
                 const RunQuery& q) {
  std::string n = std::to_string(index);
  switch (c.kind) {
    case FieldKind::kMetric: {
      std::string a = "m" + n;
      bool drives = metric_alias_for_first_order->empty() && !q.order.empty() &&
                    q.order[0].kind == FieldKind::kMetric && q.order[0].key == c.key &&
                    c.op != CompareOp::kNe;
      if (drives) {
        // The first sort key is a metric this filter requires: scan its value index in sort order.
        *metric_alias_for_first_order = a;
        sql.from = "latest_metrics " + a + " CROSS JOIN runs r";
        AndWhere(sql, "r.run_pk = " + a + ".run_pk AND " + a + ".key_pk = " + kKeyPk);
        sql.where_binds.emplace_back(c.key);
      } else {
        sql.joins +=
            " JOIN latest_metrics " + a + " ON " + a + ".run_pk = r.run_pk AND " + a + ".key_pk = " + kKeyPk;
        sql.join_binds.emplace_back(c.key);
      }
      double v = std::get<double>(c.value);
      if (c.op == CompareOp::kNe) {
        AndWhere(sql, "(" + a + ".value != ? OR " + a + ".is_nan = 1)");
      } else {
        AndWhere(sql, a + ".value" + SqlCompareOp(c.op) + "?");
      }
      sql.where_binds.emplace_back(v);
      return Status::Ok();
    }
    case FieldKind::kParam:
    case FieldKind::kTag: {
      std::string table = c.kind == FieldKind::kParam ? "params" : "tags";
      std::string a = "x" + n;
      std::string exists = "EXISTS (SELECT 1 FROM " + table + " " + a + " WHERE " + a +
                           ".run_pk = r.run_pk AND " + a + ".key = ?";
      sql.where_binds.emplace_back(c.key);
      if (c.op == CompareOp::kIsNull) {
        AndWhere(sql, "NOT " + exists + ")");
        return Status::Ok();
      }
      if (c.op == CompareOp::kIsNotNull) {
        AndWhere(sql, exists + ")");
        return Status::Ok();
      }
      AndWhere(sql, exists + " AND " + SqlStringCondition(a + ".value", c, sql.where_binds) + ")");
      return Status::Ok();
    }
    case FieldKind::kAttribute: {
      std::string col = AttributeColumn(c.key);
      if (col.empty()) return InvalidArgument("Invalid attribute key '" + c.key + "' specified.");
      if (std::holds_alternative<double>(c.value)) {
        AndWhere(sql, col + SqlCompareOp(c.op) + "?");
        sql.where_binds.push_back(SqlNumberBind(std::get<double>(c.value)));
      } else {
        AndWhere(sql, SqlStringCondition(col, c, sql.where_binds));
      }
      return Status::Ok();
    }
    case FieldKind::kDataset: {
      std::string a = "d" + n;
      if (c.key == "context") {
        AndWhere(sql, "EXISTS (SELECT 1 FROM run_input_tags " + a + " WHERE " + a +
                          ".run_pk = r.run_pk AND " + a + ".key = 'mlflow.data.context' AND " +
                          SqlStringCondition(a + ".value", c, sql.where_binds) + ")");
      } else {
        AndWhere(sql, "EXISTS (SELECT 1 FROM run_inputs " + a + " WHERE " + a + ".run_pk = r.run_pk AND " +
                          SqlStringCondition(a + "." + (c.key == "digest" ? "digest" : "name"), c,
                                             sql.where_binds) +
                          ")");
      }
      return Status::Ok();
    }
  }
  return InvalidArgument("unsupported filter");
}

void AddOrder(Sql& sql, const std::string& term) { sql.order += sql.order.empty() ? term : ", " + term; }

Status AddOrderKey(Sql& sql, const OrderKey& o, int index, const std::string& driving_alias) {
  const char* dir = o.ascending ? " ASC" : " DESC";
  std::string n = std::to_string(index);
  switch (o.kind) {
    case FieldKind::kMetric: {
      if (index == 0 && !driving_alias.empty() && o.agg == MetricAgg::kLast) {
        AddOrder(sql, driving_alias + ".value" + dir);
        return Status::Ok();
      }
      std::string a = "o" + n;
      sql.joins += " LEFT JOIN latest_metrics " + a + " ON " + a + ".run_pk = r.run_pk AND " + a +
                   ".key_pk = " + kKeyPk;
      sql.join_binds.emplace_back(o.key);
      if (o.agg != MetricAgg::kLast) {
        std::string col = a + (o.agg == MetricAgg::kMin ? ".min_value" : ".max_value");
        AddOrder(sql, "(" + col + " IS NULL), " + col + dir);  // no value (or only NaN): last
        return Status::Ok();
      }
      // Missing values sort last in both directions, NaN after every number.
      AddOrder(sql, "(" + a + ".run_pk IS NULL), " + a + ".is_nan, " + a + ".value" + dir);
      return Status::Ok();
    }
    case FieldKind::kParam:
    case FieldKind::kTag: {
      std::string a = "o" + n;
      sql.joins += " LEFT JOIN " + std::string(o.kind == FieldKind::kParam ? "params " : "tags ") + a +
                   " ON " + a + ".run_pk = r.run_pk AND " + a + ".key = ?";
      sql.join_binds.emplace_back(o.key);
      AddOrder(sql, "(" + a + ".value IS NULL), " + a + ".value" + dir);
      return Status::Ok();
    }
    case FieldKind::kAttribute: {
      std::string col = AttributeColumn(o.key);
      if (col.empty()) return InvalidArgument("Invalid order_by attribute key '" + o.key + "'");
      if (o.key == "end_time") AddOrder(sql, "(r.end_time IS NULL)");
      AddOrder(sql, col + dir);
      return Status::Ok();
    }
    case FieldKind::kDataset:
      return InvalidArgument("Invalid order_by entity: datasets");
  }
  return Status::Ok();
}

}  // namespace

Result<RunPage> SqlSearchRuns(SqlDb& db, const RunQuery& q) {
  Sql sql;
  sql.from = "runs r";
  std::string driving;
  for (size_t i = 0; i < q.filter.size(); ++i) {
    TAMGA_RETURN_IF_ERROR(AddFilter(sql, q.filter[i], static_cast<int>(i), &driving, q));
  }
  if (!q.experiment_ids.empty()) {
    std::string in = "r.experiment_id IN (";
    for (size_t i = 0; i < q.experiment_ids.size(); ++i) {
      int64_t id;
      if (!ParseDecimalId(q.experiment_ids[i], &id)) id = -1;
      in += i ? ",?" : "?";
      sql.where_binds.emplace_back(id);
    }
    AndWhere(sql, in + ")");
  }
  if (q.view == ViewType::kActiveOnly) AndWhere(sql, "r.lifecycle_stage = 'active'");
  if (q.view == ViewType::kDeletedOnly) AndWhere(sql, "r.lifecycle_stage = 'deleted'");

  const std::string filter_joins = sql.joins;
  const std::vector<Bind> filter_join_binds = sql.join_binds;
  bool ordered_by_start = false;
  for (size_t i = 0; i < q.order.size(); ++i) {
    TAMGA_RETURN_IF_ERROR(AddOrderKey(sql, q.order[i], static_cast<int>(i), driving));
    if (q.order[i].kind == FieldKind::kAttribute && q.order[i].key == "start_time") ordered_by_start = true;
  }
  if (!ordered_by_start) AddOrder(sql, "r.start_time DESC");
  AddOrder(sql, "r.run_id ASC");

  std::string text = "SELECT r.run_pk FROM " + sql.from + sql.joins;
  if (!sql.where.empty()) text += " WHERE " + sql.where;
  text += " ORDER BY " + sql.order + " LIMIT ? OFFSET ?";

  TAMGA_ASSIGN_OR_RETURN(auto stmt, db.PrepareUncached(text));
  int pos = 0;
  SqlBindAll(*stmt, sql.join_binds, &pos);
  SqlBindAll(*stmt, sql.where_binds, &pos);
  stmt->Bind(++pos, q.max_results);
  stmt->Bind(++pos, q.offset);
  std::vector<int64_t> pks;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    pks.push_back(stmt->Int(0));
  }
  RunPage page;
  page.has_more = static_cast<int64_t>(pks.size()) == q.max_results;
  if (q.count_total) {
    // Only the filter's joins can change the count; the order-only LEFT JOINs are left out.
    std::string count = "SELECT COUNT(*) FROM " + sql.from + filter_joins;
    if (!sql.where.empty()) count += " WHERE " + sql.where;
    TAMGA_ASSIGN_OR_RETURN(auto cs, db.PrepareUncached(count));
    int cpos = 0;
    SqlBindAll(*cs, filter_join_binds, &cpos);
    SqlBindAll(*cs, sql.where_binds, &cpos);
    TAMGA_ASSIGN_OR_RETURN(bool row, cs->Step());
    page.total = row ? cs->Int(0) : 0;
  }
  TAMGA_ASSIGN_OR_RETURN(page.runs, SqlLoadRuns(db, pks));
  return page;
}

Result<RunKeys> SqlListRunKeys(SqlDb& db, const std::vector<std::string>& experiment_ids, int64_t recent_runs,
                               int64_t max_keys) {
  RunKeys keys;
  if (experiment_ids.empty()) return keys;
  std::string in;
  for (size_t i = 0; i < experiment_ids.size(); ++i) in += i ? ",?" : "?";
  // The recent runs first (runs_by_experiment is ordered by start time), then their keys.
  std::string recent =
      "SELECT run_pk FROM runs WHERE experiment_id IN (" + in + ") ORDER BY start_time DESC LIMIT ?";
  const char* kinds[3][2] = {
      {"params",
       "SELECT DISTINCT key FROM params WHERE run_pk IN (SELECT run_pk FROM sample) ORDER BY key LIMIT ?"},
      {"tags",
       "SELECT DISTINCT key FROM tags WHERE run_pk IN (SELECT run_pk FROM sample) ORDER BY key LIMIT ?"},
      {"metrics",
       "SELECT DISTINCT k.name FROM latest_metrics l JOIN metric_keys k ON k.key_pk = l.key_pk "
       "WHERE l.run_pk IN (SELECT run_pk FROM sample) ORDER BY k.name LIMIT ?"}};
  // The experiment ids and the sample size, bound the same way in every statement built on `recent`.
  auto bind_recent = [&](SqlStmt& stmt) {
    int pos = 0;
    for (const auto& id : experiment_ids) {
      int64_t n;
      stmt.Bind(++pos, ParseDecimalId(id, &n) ? n : int64_t{-1});
    }
    stmt.Bind(++pos, recent_runs);
    return pos;
  };
  for (auto& [kind, query] : kinds) {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.PrepareUncached("WITH sample AS (" + recent + ") " + query));
    int pos = bind_recent(*stmt);
    stmt->Bind(++pos, max_keys);
    std::vector<std::string>& out = std::string_view(kind) == "params" ? keys.params
                                    : std::string_view(kind) == "tags" ? keys.tags
                                                                       : keys.metrics;
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      out.push_back(stmt->Text(0));
    }
  }
  {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, db.PrepareUncached("SELECT COUNT(*) FROM (" + recent + ") AS sampled"));
    bind_recent(*stmt);
    TAMGA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) keys.runs_sampled = stmt->Int(0);
  }
  return keys;
}

}  // namespace tamga
