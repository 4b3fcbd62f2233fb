// MLflow 3.x logged models: loading (with tags, params and the model versions registered from them) and
// search compiled to one SELECT whose shape comes from the parsed query; every user value is bound.
#include <variant>

#include "storage/sql/sql_filter.h"
#include "storage/sql/sql_registry.h"

namespace tamga {
namespace {

constexpr const char* kLoggedModelColumns =
    "SELECT model_id, experiment_id, name, creation_timestamp, last_updated_timestamp, artifact_uri, status, "
    "creator_id, model_type, source_run_id, status_message, lifecycle_stage FROM logged_models ";

LoggedModel LoggedModelFromRow(SqlStmt& s) {
  LoggedModel m;
  m.model_id = s.Text(0);
  m.experiment_id = std::to_string(s.Int(1));
  m.name = s.Text(2);
  m.creation_timestamp = s.Int(3);
  m.last_updated_timestamp = s.Int(4);
  m.artifact_uri = s.Text(5);
  m.status = static_cast<LoggedModelStatus>(s.Int(6));
  m.creator_id = s.Text(7);
  m.model_type = s.Text(8);
  m.source_run_id = s.Text(9);
  m.status_message = s.Text(10);
  m.lifecycle_stage = s.Text(11) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  return m;
}

Status LoadExtras(SqlDb& db, LoggedModel& m) {
  for (bool tags : {true, false}) {
    TAMGA_ASSIGN_OR_RETURN(auto t,
                           db.Prepare(tags ? "SELECT key, value FROM logged_model_tags WHERE model_id = ?1 "
                                             "ORDER BY key"
                                           : "SELECT key, value FROM logged_model_params WHERE model_id = "
                                             "?1 ORDER BY key"));
    t->Bind(1, m.model_id);
    auto& list = tags ? m.tags : m.params;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*t, [&](SqlStmt& r) { list.push_back({r.Text(0), r.Text(1)}); }));
  }
  TAMGA_ASSIGN_OR_RETURN(auto r,
                         db.Prepare("SELECT m.name, v.version FROM model_versions v JOIN registered_models "
                                    "m ON m.model_pk = v.model_pk WHERE v.model_id = ?1 AND v.deleted = 0 "
                                    "ORDER BY m.name, v.version"));
  r->Bind(1, m.model_id);
  return ForEachRow(*r, [&](SqlStmt& row) { m.registrations.emplace_back(row.Text(0), row.Int(1)); });
}

// Column for a canonical attribute key (validated by the domain's parser; unknown keys are a bug).
const char* Column(const std::string& key) {
  if (key == "name") return "name";
  if (key == "model_id") return "model_id";
  if (key == "model_type") return "model_type";
  if (key == "source_run_id") return "source_run_id";
  if (key == "status") return "status";
  if (key == "creation_timestamp") return "creation_timestamp";
  if (key == "last_updated_timestamp") return "last_updated_timestamp";
  return nullptr;
}

struct Compiled {
  std::string where;
  std::vector<SqlBind> binds;
};

Result<Compiled> CompileFilter(const std::vector<Comparison>& filter) {
  Compiled out;
  for (const auto& c : filter) {
    std::string cond;
    if (c.kind == FieldKind::kTag || c.kind == FieldKind::kParam) {
      std::string table = c.kind == FieldKind::kTag ? "logged_model_tags" : "logged_model_params";
      std::string exists =
          "EXISTS (SELECT 1 FROM " + table + " x WHERE x.model_id = logged_models.model_id AND x.key = ?";
      out.binds.emplace_back(c.key);
      if (c.op == CompareOp::kIsNull)
        cond = "NOT " + exists + ")";
      else if (c.op == CompareOp::kIsNotNull)
        cond = exists + ")";
      else
        cond = exists + " AND " + SqlStringCondition("x.value", c, out.binds) + ")";
    } else if (c.kind == FieldKind::kAttribute && Column(c.key)) {
      std::string col = Column(c.key);
      if (std::holds_alternative<double>(c.value)) {
        cond = col + SqlCompareOp(c.op) + "?";
        out.binds.push_back(SqlNumberBind(std::get<double>(c.value)));
      } else {
        cond = SqlStringCondition(col, c, out.binds);
      }
    } else {
      return InvalidArgument("Invalid logged model search key '" + c.key + "'");
    }
    out.where += " AND " + cond;
  }
  return out;
}

Result<std::string> CompileOrder(const std::vector<OrderKey>& order) {
  std::string sql;
  bool has_created = false, has_id = false;
  for (const auto& o : order) {
    const char* col = o.kind == FieldKind::kAttribute ? Column(o.key) : nullptr;
    if (!col) return InvalidArgument("Invalid logged model order key '" + o.key + "'");
    has_created |= o.key == "creation_timestamp";
    has_id |= o.key == "model_id";
    sql += (sql.empty() ? "" : ", ") + std::string(col) + (o.ascending ? " ASC" : " DESC");
  }
  if (!has_created) sql += (sql.empty() ? "" : ", ") + std::string("creation_timestamp DESC");
  if (!has_id) sql += ", model_id ASC";
  return " ORDER BY " + sql;
}

}  // namespace

Result<LoggedModel> SqlLoadLoggedModel(SqlDb& db, const std::string& model_id) {
  LoggedModel m;
  {
    TAMGA_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string(kLoggedModelColumns) + "WHERE model_id = ?1"));
    s->Bind(1, model_id);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Logged model with ID '" + model_id + "' not found.");
    m = LoggedModelFromRow(*s);
  }
  TAMGA_RETURN_IF_ERROR(LoadExtras(db, m));
  return m;
}

Result<LoggedModelPage> SqlSearchLoggedModels(SqlDb& db, const LoggedModelQuery& q) {
  if (q.experiment_ids.empty()) return InvalidArgument("experiment_ids must not be empty");
  TAMGA_ASSIGN_OR_RETURN(Compiled c, CompileFilter(q.filter));
  TAMGA_ASSIGN_OR_RETURN(std::string order, CompileOrder(q.order));
  std::string sql =
      std::string(kLoggedModelColumns) + "WHERE lifecycle_stage = 'active' AND experiment_id IN (";
  for (size_t i = 0; i < q.experiment_ids.size(); ++i) sql += i ? ",?" : "?";
  sql += ")" + c.where + order + " LIMIT ? OFFSET ?";
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
  int pos = 0;
  for (const auto& id : q.experiment_ids) s->Bind(++pos, id);
  SqlBindAll(*s, c.binds, &pos);
  s->Bind(++pos, q.max_results + 1);
  s->Bind(++pos, q.offset);
  LoggedModelPage page;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (static_cast<int64_t>(page.models.size()) == q.max_results) {
      page.has_more = true;
      break;
    }
    page.models.push_back(LoggedModelFromRow(*s));
  }
  for (auto& m : page.models) TAMGA_RETURN_IF_ERROR(LoadExtras(db, m));
  return page;
}

}  // namespace tamga
