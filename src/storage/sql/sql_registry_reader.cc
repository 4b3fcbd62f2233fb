// RegistryReader on SQLite: each call borrows a connection (pooled reader, or the writer inside a txn).
#include <sstream>

#include "storage/sql/sql_registry.h"

namespace tamga {
namespace {

std::vector<std::string> SplitEvents(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

const char* const kSqlDeliveryFields =
    "delivery_pk, delivery_id, webhook_id, event_seq, event_type, state, attempts, next_attempt_at, "
    "last_status, last_error, created_at, updated_at, lease_owner, lease_until";
static const std::string kSqlDeliveryColumns =
    std::string("SELECT ") + kSqlDeliveryFields + " FROM webhook_deliveries ";

static WebhookDelivery DeliveryFromRow(SqlStmt& s) {
  WebhookDelivery d;
  d.delivery_pk = s.Int(0);
  d.delivery_id = s.Text(1);
  d.webhook_id = s.Text(2);
  d.event_seq = s.Int(3);
  d.event_type = s.Text(4);
  std::string state = s.Text(5);
  d.state = state == "succeeded" ? DeliveryState::kSucceeded
            : state == "failed"  ? DeliveryState::kFailed
                                 : DeliveryState::kPending;
  d.attempts = static_cast<int>(s.Int(6));
  d.next_attempt_at = s.Int(7);
  d.last_status = static_cast<int>(s.Int(8));
  d.last_error = s.Text(9);
  d.created_at = s.Int(10);
  d.updated_at = s.Int(11);
  d.lease_owner = s.Text(12);
  d.lease_until = s.Int(13);
  return d;
}

Result<std::vector<WebhookDelivery>> SqlDeliveries(SqlStmt& s) {
  std::vector<WebhookDelivery> out;
  TAMGA_RETURN_IF_ERROR(ForEachRow(s, [&](SqlStmt& r) { out.push_back(DeliveryFromRow(r)); }));
  return out;
}

namespace {

DeploymentRecord DeploymentFromRow(SqlStmt& s) {
  DeploymentRecord d;
  d.name = s.Text(0);
  d.model_name = s.Text(1);
  d.spec = s.Text(2);
  d.creation_timestamp = s.Int(3);
  d.last_updated_timestamp = s.Int(4);
  d.rendered_version = s.Text(5);
  d.rendered_event_seq = s.Int(6);
  return d;
}

constexpr const char* kDeploymentColumns =
    "SELECT name, model_name, spec, creation_timestamp, last_updated_timestamp, rendered_version, "
    "rendered_event_seq FROM deployments ";

// The seq where the history of the model now named ?1 starts: its creation, or the rename that gave it the
// name.
constexpr const char* kHistoryStart =
    "(SELECT COALESCE(MAX(seq), 0) FROM registry_events WHERE model_name = ?1 AND type IN "
    "('registered_model.created', 'registered_model.renamed'))";

class SqlRegistryReader final : public RegistryReader {
 public:
  explicit SqlRegistryReader(std::function<Result<SqlDbHandle>()> acquire) : acquire_(std::move(acquire)) {}

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db, name));
    return SqlLoadRegisteredModel(*db, pk);
  }
  Result<RegisteredModelPage> SearchRegisteredModels(const RegistryQuery& query) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    return SqlSearchRegisteredModels(*db, query);
  }
  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db, name));
    return SqlLoadModelVersion(*db, pk, version);
  }
  Result<ModelVersionPage> SearchModelVersions(const RegistryQuery& query) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    return SqlSearchModelVersions(*db, query);
  }
  Result<std::optional<int64_t>> GetAliasVersion(const std::string& name, const std::string& alias) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db, name));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           (*db).Prepare("SELECT version FROM registered_model_aliases WHERE model_pk = ?1 "
                                         "AND alias = ?2"));
    s->Bind(1, pk).Bind(2, alias);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(s->Int(0));
  }
  Result<std::string> ModelOfStorageLocation(const std::string& location) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           (*db).Prepare("SELECT m.name FROM model_versions v JOIN registered_models m ON "
                                         "m.model_pk = v.model_pk WHERE v.storage_location = ?1 LIMIT 1"));
    s->Bind(1, location);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("no model version is stored there");
    return s->Text(0);
  }
  Result<int64_t> MaxVersion(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db, name));
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE "
                                                 "model_pk = ?1"));
    s->Bind(1, pk);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }

  Result<std::vector<RegistryEvent>> ListEvents(int64_t after, int64_t limit) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           (*db).Prepare("SELECT seq, type, model_name, version, alias, timestamp, data FROM "
                                         "registry_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
    s->Bind(1, after).Bind(2, limit);
    std::vector<RegistryEvent> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6)});
    }));
    return out;
  }
  Result<std::vector<RegistryEvent>> ListModelEvents(const std::string& model_name, int64_t before,
                                                     int64_t limit) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(
        auto s, (*db).Prepare(std::string("SELECT seq, type, model_name, version, alias, timestamp, "
                                          "data FROM registry_events WHERE model_name = ?1 AND "
                                          "(?2 = 0 OR seq < ?2) AND seq >= ") +
                              kHistoryStart + " ORDER BY seq DESC LIMIT ?3"));
    s->Bind(1, model_name).Bind(2, before).Bind(3, limit);
    std::vector<RegistryEvent> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6)});
    }));
    return out;
  }
  Result<int64_t> ModelHistoryStart(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare(std::string("SELECT ") + kHistoryStart));
    s->Bind(1, name);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }
  Result<int64_t> LastEventSeq() override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare("SELECT COALESCE(MAX(seq), 0) FROM registry_events"));
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }
  Result<int64_t> GetEventCursor(const std::string& consumer) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare("SELECT seq FROM event_cursors WHERE consumer = ?1"));
    s->Bind(1, consumer);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }

  Result<std::vector<Webhook>> ListWebhooks() override { return LoadWebhooks("", ""); }
  Result<Webhook> GetWebhook(const std::string& webhook_id) override {
    TAMGA_ASSIGN_OR_RETURN(auto list, LoadWebhooks("WHERE webhook_id = ?1", webhook_id));
    if (list.empty()) return NotFound("Webhook with ID " + webhook_id + " not found");
    return list[0];
  }
  Result<std::vector<WebhookDelivery>> ListDeliveries(const std::string& webhook_id, int64_t before,
                                                      int64_t limit) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        (*db).Prepare(kSqlDeliveryColumns + "WHERE webhook_id = ?1 AND delivery_pk < ?2 ORDER BY delivery_pk "
                                            "DESC LIMIT ?3"));
    s->Bind(1, webhook_id).Bind(2, before > 0 ? before : INT64_MAX).Bind(3, limit);
    return SqlDeliveries(*s);
  }
  Result<std::vector<WebhookDelivery>> DueDeliveries(int64_t now, int64_t limit) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare(kSqlDeliveryColumns +
                                                 "WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY "
                                                 "next_attempt_at, delivery_pk LIMIT ?2"));
    s->Bind(1, now).Bind(2, limit);
    return SqlDeliveries(*s);
  }
  Result<std::optional<int64_t>> NextDeliveryDue() override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare("SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN "
                                                 "lease_until ELSE next_attempt_at END) FROM "
                                                 "webhook_deliveries WHERE state = 'pending'"));
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row || s->IsNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(s->Int(0));
  }

  Result<LoggedModel> GetLoggedModel(const std::string& model_id) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    return SqlLoadLoggedModel(*db, model_id);
  }
  Result<LoggedModelPage> SearchLoggedModels(const LoggedModelQuery& query) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    return SqlSearchLoggedModels(*db, query);
  }
  Result<std::vector<RunOutput>> GetRunOutputs(const std::string& run_id) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           (*db).Prepare("SELECT model_id, step FROM run_outputs WHERE run_id = ?1 ORDER "
                                         "BY model_id"));
    s->Bind(1, run_id);
    std::vector<RunOutput> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back({r.Text(0), r.Int(1)}); }));
    return out;
  }

  Result<std::vector<DeploymentRecord>> ListDeployments() override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare(std::string(kDeploymentColumns) + "ORDER BY name"));
    std::vector<DeploymentRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(DeploymentFromRow(r)); }));
    return out;
  }
  Result<DeploymentRecord> GetDeployment(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(auto s, (*db).Prepare(std::string(kDeploymentColumns) + "WHERE name = ?1"));
    s->Bind(1, name);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Deployment '" + name + "' not found");
    return DeploymentFromRow(*s);
  }

 private:
  Result<std::vector<Webhook>> LoadWebhooks(const std::string& where, const std::string& arg) {
    TAMGA_ASSIGN_OR_RETURN(auto db, acquire_());
    TAMGA_ASSIGN_OR_RETURN(
        auto s, (*db).Prepare("SELECT webhook_id, name, description, url, events, secret, status, "
                              "creation_timestamp, last_updated_timestamp, model_name FROM webhooks " +
                              where + " ORDER BY creation_timestamp, webhook_id"));
    if (!where.empty()) s->Bind(1, arg);
    std::vector<Webhook> out;
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      Webhook w;
      w.webhook_id = s->Text(0);
      w.name = s->Text(1);
      w.description = s->Text(2);
      w.url = s->Text(3);
      w.events = SplitEvents(s->Text(4));
      w.secret = s->Text(5);
      w.status = static_cast<WebhookStatus>(s->Int(6));
      w.creation_timestamp = s->Int(7);
      w.last_updated_timestamp = s->Int(8);
      w.model_name = s->Text(9);
      out.push_back(std::move(w));
    }
    return out;
  }

  std::function<Result<SqlDbHandle>()> acquire_;
};

}  // namespace

std::unique_ptr<RegistryReader> NewSqlRegistryReader(std::function<Result<SqlDbHandle>()> acquire) {
  return std::make_unique<SqlRegistryReader>(std::move(acquire));
}

}  // namespace tamga
