// Registered models and model versions: loading with tags/aliases/latest versions, and search compiled to
// one SELECT whose shape comes from the parsed query; every user value is bound.
#include <cmath>
#include <variant>

#include "core/json_writer.h"
#include "storage/sql/sql_filter.h"
#include "storage/sql/sql_registry.h"

namespace tamga {
namespace {

using Bind = SqlBind;

constexpr const char* kVersionColumns =
    "SELECT m.name, v.version, v.creation_timestamp, v.last_updated_timestamp, v.user_id, v.current_stage, "
    "v.description, v.source, v.run_id, v.status, v.status_message, v.run_link, v.storage_location, "
    "v.model_id "
    "FROM model_versions v JOIN registered_models m ON m.model_pk = v.model_pk ";

std::optional<std::string> OptText(SqlStmt& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return s.Text(col);
}

ModelVersion VersionFromRow(SqlStmt& s) {
  ModelVersion v;
  v.name = s.Text(0);
  v.version = s.Int(1);
  v.creation_timestamp = s.Int(2);
  v.last_updated_timestamp = s.Int(3);
  v.user_id = s.Text(4);
  v.current_stage = s.Text(5);
  v.description = OptText(s, 6);
  v.source = s.Text(7);
  v.run_id = OptText(s, 8);
  v.status = static_cast<ModelVersionStatus>(s.Int(9));
  v.status_message = OptText(s, 10);
  v.run_link = OptText(s, 11);
  v.storage_location = s.Text(12);
  v.model_id = OptText(s, 13);
  return v;
}

Status LoadVersionExtras(SqlDb& db, int64_t model_pk, ModelVersion& v) {
  {
    TAMGA_ASSIGN_OR_RETURN(auto t,
                           db.Prepare("SELECT key, value FROM model_version_tags WHERE model_pk = ?1 AND "
                                      "version = ?2 ORDER BY key"));
    t->Bind(1, model_pk).Bind(2, v.version);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*t, [&](SqlStmt& r) { v.tags.push_back({r.Text(0), r.Text(1)}); }));
  }
  TAMGA_ASSIGN_OR_RETURN(auto a,
                         db.Prepare("SELECT alias FROM registered_model_aliases WHERE model_pk = ?1 AND "
                                    "version = ?2 ORDER BY alias"));
  a->Bind(1, model_pk).Bind(2, v.version);
  TAMGA_RETURN_IF_ERROR(ForEachRow(*a, [&](SqlStmt& r) { v.aliases.push_back(r.Text(0)); }));
  return Status::Ok();
}

// Column for a canonical attribute key (validated by the domain's parser; unknown keys are a bug).
std::string Column(const std::string& key) {
  if (key == "name") return "m.name";
  if (key == "creation_timestamp") return "v.creation_timestamp";
  if (key == "last_updated_timestamp") return "v.last_updated_timestamp";
  if (key == "run_id") return "v.run_id";
  if (key == "source_path") return "v.source";
  if (key == "version_number") return "v.version";
  return "";
}

struct Compiled {
  std::string where;
  std::vector<Bind> binds;
};

Result<Compiled> CompileFilter(const std::vector<Comparison>& filter, bool versions) {
  Compiled out;
  for (const auto& c : filter) {
    std::string cond;
    if (c.kind == FieldKind::kTag) {
      bool list = c.op == CompareOp::kIn || c.op == CompareOp::kNotIn;
      if (list ? !std::holds_alternative<std::vector<std::string>>(c.value)
               : !std::holds_alternative<std::string>(c.value)) {
        return InvalidArgument("Invalid comparator for tag '" + c.key +
                               "'");  // the parser refuses these first
      }
      out.binds.emplace_back(c.key);
      std::string tag_cond = SqlStringCondition("t.value", c, out.binds);
      cond = versions ? "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_pk = v.model_pk AND "
                        "t.version = v.version AND t.key = ? AND " +
                            tag_cond + ")"
                      : "EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_pk = m.model_pk AND "
                        "t.key = ? AND " +
                            tag_cond + ")";
    } else {
      std::string col = Column(c.key);
      if (col.empty() || (!versions && col[0] == 'v'))
        return InvalidArgument("Invalid search key '" + c.key + "'");
      if (std::holds_alternative<double>(c.value)) {
        cond = col + SqlCompareOp(c.op) + "?";
        out.binds.push_back(SqlNumberBind(std::get<double>(c.value)));
      } else {
        cond = SqlStringCondition(col, c, out.binds);
      }
    }
    out.where += " AND " + cond;
  }
  return out;
}

std::string CompileOrder(const std::vector<OrderKey>& order, bool versions) {
  std::string sql;
  bool has_name = false, has_version = false;
  for (const auto& o : order) {
    std::string col = Column(o.key);
    if (!versions && col[0] == 'v') col = "m" + col.substr(1);
    has_name |= o.key == "name";
    has_version |= o.key == "version_number";
    sql += (sql.empty() ? "" : ", ") + col + (o.ascending ? " ASC" : " DESC");
  }
  if (!has_name) sql += (sql.empty() ? "" : ", ") + std::string("m.name ASC");
  if (versions && !has_version) sql += ", v.version DESC";
  return " ORDER BY " + sql;
}

}  // namespace

Result<int64_t> SqlModelPk(SqlDb& db, const std::string& name) {
  TAMGA_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT model_pk FROM registered_models WHERE name = ?1"));
  s->Bind(1, name);
  TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return NotFound("Registered Model with name=" + name + " not found");
  return s->Int(0);
}

Result<ModelVersion> SqlLoadModelVersion(SqlDb& db, int64_t model_pk, int64_t version) {
  ModelVersion v;
  {
    TAMGA_ASSIGN_OR_RETURN(auto s, db.Prepare(std::string(kVersionColumns) +
                                              "WHERE v.model_pk = ?1 AND v.version = ?2 AND v.deleted = 0"));
    s->Bind(1, model_pk).Bind(2, version);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("model version not found");
    v = VersionFromRow(*s);
  }
  TAMGA_RETURN_IF_ERROR(LoadVersionExtras(db, model_pk, v));
  return v;
}

Result<RegisteredModel> SqlLoadRegisteredModel(SqlDb& db, int64_t model_pk) {
  RegisteredModel m;
  {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db.Prepare("SELECT name, creation_timestamp, last_updated_timestamp, user_id, "
                                      "description FROM registered_models WHERE model_pk = ?1"));
    s->Bind(1, model_pk);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("registered model not found");
    m.name = s->Text(0);
    m.creation_timestamp = s->Int(1);
    m.last_updated_timestamp = s->Int(2);
    m.user_id = s->Text(3);
    m.description = OptText(*s, 4);
  }
  {
    TAMGA_ASSIGN_OR_RETURN(auto t,
                           db.Prepare("SELECT key, value FROM registered_model_tags WHERE model_pk = ?1 "
                                      "ORDER BY key"));
    t->Bind(1, model_pk);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*t, [&](SqlStmt& r) { m.tags.push_back({r.Text(0), r.Text(1)}); }));
  }
  {
    TAMGA_ASSIGN_OR_RETURN(auto a, db.Prepare("SELECT alias, version FROM registered_model_aliases WHERE "
                                              "model_pk = ?1 ORDER BY alias"));
    a->Bind(1, model_pk);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*a, [&](SqlStmt& r) { m.aliases.push_back({r.Text(0), r.Int(1)}); }));
  }
  std::vector<int64_t> latest;
  {
    TAMGA_ASSIGN_OR_RETURN(auto l,
                           db.Prepare("SELECT MAX(version) FROM model_versions WHERE model_pk = ?1 AND "
                                      "deleted = 0 GROUP BY current_stage ORDER BY 1"));
    l->Bind(1, model_pk);
    TAMGA_RETURN_IF_ERROR(ForEachRow(*l, [&](SqlStmt& r) { latest.push_back(r.Int(0)); }));
  }
  for (int64_t v : latest) {
    TAMGA_ASSIGN_OR_RETURN(auto mv, SqlLoadModelVersion(db, model_pk, v));
    m.latest_versions.push_back(std::move(mv));
  }
  return m;
}

// The access-control scope: one bound JSON array of names, however many.
static std::string ScopeSql(const RegistryQuery& q, SqlDialect dialect) {
  if (!q.scope) return "";
  const char* names = dialect == SqlDialect::kPostgres ? "(SELECT json_array_elements_text(CAST(? AS json)))"
                                                       : "(SELECT value FROM json_each(?))";
  return std::string(q.scope->only ? " AND m.name IN " : " AND m.name NOT IN ") + names;
}

static std::string ScopeJson(const RegistryQuery::NameScope& scope) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const auto& n : scope.names) w.String(n);
  w.EndArray();
  return out;
}

Result<RegisteredModelPage> SqlSearchRegisteredModels(SqlDb& db, const RegistryQuery& q) {
  TAMGA_ASSIGN_OR_RETURN(Compiled c, CompileFilter(q.filter, false));
  std::string prompts = q.exclude_prompts
                            ? " AND NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE "
                              "p.model_pk = m.model_pk AND p.key = 'mlflow.prompt.is_prompt' AND "
                              "p.value = 'true')"
                            : "";
  std::string sql = "SELECT m.model_pk FROM registered_models m WHERE 1 = 1" + c.where + prompts +
                    ScopeSql(q, db.dialect()) + CompileOrder(q.order, false) + " LIMIT ? OFFSET ?";
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
  int pos = 0;
  SqlBindAll(*s, c.binds, &pos);
  if (q.scope) s->Bind(++pos, ScopeJson(*q.scope));
  s->Bind(++pos, q.max_results + 1);
  s->Bind(++pos, q.offset);
  std::vector<int64_t> pks;
  TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { pks.push_back(r.Int(0)); }));
  RegisteredModelPage page;
  if (static_cast<int64_t>(pks.size()) > q.max_results) {
    page.has_more = true;
    pks.resize(q.max_results);
  }
  for (int64_t pk : pks) {
    TAMGA_ASSIGN_OR_RETURN(auto m, SqlLoadRegisteredModel(db, pk));
    page.models.push_back(std::move(m));
  }
  return page;
}

Result<ModelVersionPage> SqlSearchModelVersions(SqlDb& db, const RegistryQuery& q) {
  TAMGA_ASSIGN_OR_RETURN(Compiled c, CompileFilter(q.filter, true));
  std::string sql =
      "SELECT m.name, v.version, v.creation_timestamp, v.last_updated_timestamp, v.user_id, v.current_stage, "
      "v.description, v.source, v.run_id, v.status, v.status_message, v.run_link, v.storage_location, "
      "v.model_id, v.model_pk FROM model_versions v JOIN registered_models m ON m.model_pk = v.model_pk "
      "WHERE v.deleted = 0" +
      c.where +
      (q.exclude_prompts
           ? " AND NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.model_pk = v.model_pk AND "
             "p.version = v.version AND p.key = 'mlflow.prompt.is_prompt' AND p.value = 'true')"
           : "") +
      ScopeSql(q, db.dialect()) + CompileOrder(q.order, true) + " LIMIT ? OFFSET ?";
  TAMGA_ASSIGN_OR_RETURN(auto s, db.PrepareUncached(sql));
  int pos = 0;
  SqlBindAll(*s, c.binds, &pos);
  if (q.scope) s->Bind(++pos, ScopeJson(*q.scope));
  s->Bind(++pos, q.max_results + 1);
  s->Bind(++pos, q.offset);
  ModelVersionPage page;
  std::vector<int64_t> pks;
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (static_cast<int64_t>(page.versions.size()) == q.max_results) {
      page.has_more = true;
      break;
    }
    page.versions.push_back(VersionFromRow(*s));
    pks.push_back(s->Int(14));
  }
  for (size_t i = 0; i < page.versions.size(); ++i) {
    TAMGA_RETURN_IF_ERROR(LoadVersionExtras(db, pks[i], page.versions[i]));
  }
  return page;
}

}  // namespace tamga
