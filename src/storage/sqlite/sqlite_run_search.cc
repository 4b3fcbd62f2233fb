// Compiles a RunQuery to one SQLite SELECT. The statement's shape comes from the parsed query (field
// kinds, operators, number of terms); every key and value the user wrote is bound as a parameter.
#include <cmath>
#include <variant>

#include "core/ids.h"
#include "storage/sqlite/sqlite_filter_sql.h"
#include "storage/sqlite/sqlite_metadata_store.h"

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
      if (index == 0 && !driving_alias.empty()) {
        AddOrder(sql, driving_alias + ".value" + dir);
        return Status::Ok();
      }
      std::string a = "o" + n;
      sql.joins += " LEFT JOIN latest_metrics " + a + " ON " + a + ".run_pk = r.run_pk AND " + a +
                   ".key_pk = " + kKeyPk;
      sql.join_binds.emplace_back(o.key);
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

Result<RunPage> SqliteSearchRuns(SqliteDb& db, const RunQuery& q) {
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
  TAMGA_ASSIGN_OR_RETURN(page.runs, SqliteLoadRuns(db, pks));
  return page;
}

}  // namespace tamga
