// RegistryTxn on the SQLite writer connection (group committer thread only).
#include <algorithm>

#include "storage/sql/sql_registry.h"

namespace tamga {
namespace {

void BindOpt(SqlStmt& s, int i, const std::optional<std::string>& v) {
  if (v)
    s.Bind(i, *v);
  else
    s.BindNull(i);
}

std::string JoinEvents(const std::vector<std::string>& events) {
  std::string out;
  for (const auto& e : events) out += (out.empty() ? "" : ",") + e;
  return out;
}

class SqlRegistryTxn final : public RegistryTxn {
 public:
  explicit SqlRegistryTxn(SqlDb* db)
      : db_(db),
        reader_(NewSqlRegistryReader([db]() -> Result<SqlDbHandle> { return SqlDbHandle(db, nullptr); })) {}

  RegistryReader& reader() override { return *reader_; }

  Status CreateRegisteredModel(const RegisteredModel& m) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT INTO registered_models(name, creation_timestamp, "
                             "last_updated_timestamp, user_id, description) VALUES (?1,?2,?3,?4,?5)"));
    s->Bind(1, m.name).Bind(2, m.creation_timestamp).Bind(3, m.last_updated_timestamp).Bind(4, m.user_id);
    BindOpt(*s, 5, m.description);
    Status st = s->Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("Registered Model (name=" + m.name + ") already exists.");
    }
    TAMGA_RETURN_IF_ERROR(st);
    for (const auto& t : m.tags) TAMGA_RETURN_IF_ERROR(SetRegisteredModelTag(m.name, t));
    return Status::Ok();
  }

  Status RenameRegisteredModel(const std::string& name, const std::string& new_name, int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE registered_models SET name = ?1, last_updated_timestamp = ?2 "
                                        "WHERE model_pk = ?3"));
    s->Bind(1, new_name).Bind(2, now).Bind(3, pk);
    Status st = s->Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("Registered Model (name=" + new_name + ") already exists.");
    }
    TAMGA_RETURN_IF_ERROR(st);
    // Deployments and model-scoped webhooks follow the model, never its old name (a new model of that name
    // must not inherit them).
    TAMGA_ASSIGN_OR_RETURN(
        auto d,
        db_->Prepare(
            db_->dialect() == SqlDialect::kPostgres
                ? "UPDATE deployments SET model_name = ?1, spec = CAST(jsonb_set(CAST(spec AS jsonb), "
                  "'{model_name}', to_jsonb(CAST(?1 AS text))) AS text) WHERE model_name = ?2"
                : "UPDATE deployments SET model_name = ?1, spec = json_set(spec, "
                  "'$.model_name', ?1) WHERE model_name = ?2"));
    d->Bind(1, new_name).Bind(2, name);
    TAMGA_RETURN_IF_ERROR(d->Run());
    TAMGA_ASSIGN_OR_RETURN(auto w, db_->Prepare("UPDATE webhooks SET model_name = ?1 WHERE model_name = ?2"));
    w->Bind(1, new_name).Bind(2, name);
    return w->Run();
  }

  Status SetRegisteredModelDescription(const std::string& name, const std::optional<std::string>& desc,
                                       int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE registered_models SET description = ?1, "
                                                "last_updated_timestamp = ?2 WHERE model_pk = ?3"));
    BindOpt(*s, 1, desc);
    s->Bind(2, now).Bind(3, pk);
    return s->Run();
  }

  Status TouchRegisteredModel(const std::string& name, int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE registered_models SET last_updated_timestamp = ?1 WHERE "
                                        "name = ?2"));
    s->Bind(1, now).Bind(2, name);
    return s->Run();
  }

  Status DeleteRegisteredModel(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    // A deployment follows the model by name: deleting the model under it would hand the deployment to the
    // next model of that name. Its webhooks go with it.
    TAMGA_ASSIGN_OR_RETURN(auto dep,
                           db_->Prepare("SELECT name FROM deployments WHERE model_name = ?1 LIMIT 5"));
    dep->Bind(1, name);
    std::string names;
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(bool row, dep->Step());
      if (!row) break;
      names += (names.empty() ? "" : ", ") + dep->Text(0);
    }
    if (!names.empty()) {
      return FailedPrecondition("Registered model '" + name + "' is deployed (" + names +
                                "); delete those deployments first.");
    }
    TAMGA_ASSIGN_OR_RETURN(auto hooks, db_->Prepare("DELETE FROM webhooks WHERE model_name = ?1"));
    hooks->Bind(1, name);
    TAMGA_RETURN_IF_ERROR(hooks->Run());
    for (const char* table : {"model_version_tags", "model_versions", "registered_model_aliases",
                              "registered_model_tags", "registered_models"}) {
      TAMGA_ASSIGN_OR_RETURN(auto s,
                             db_->Prepare(std::string("DELETE FROM ") + table + " WHERE model_pk = ?1"));
      s->Bind(1, pk);
      TAMGA_RETURN_IF_ERROR(s->Run());
    }
    return Status::Ok();
  }

  Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT INTO registered_model_tags(model_pk, key, value) VALUES "
                             "(?1,?2,?3) ON CONFLICT(model_pk, key) DO UPDATE SET value = excluded.value"));
    s->Bind(1, pk).Bind(2, tag.key).Bind(3, tag.value);
    return s->Run();
  }

  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("DELETE FROM registered_model_tags WHERE model_pk = ?1 AND key = ?2"));
    s->Bind(1, pk).Bind(2, key);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0) return NotFound("No tag with name: " + key + " in registered model " + name);
    return Status::Ok();
  }

  Status CreateModelVersion(const ModelVersion& v) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, v.name));
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO model_versions(model_pk, version, "
                                                "creation_timestamp, last_updated_timestamp, user_id, "
                                                "current_stage, description, source, run_id, status, "
                                                "status_message, run_link, storage_location, model_id) "
                                                "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"));
    s->Bind(1, pk).Bind(2, v.version).Bind(3, v.creation_timestamp).Bind(4, v.last_updated_timestamp);
    s->Bind(5, v.user_id).Bind(6, v.current_stage);
    BindOpt(*s, 7, v.description);
    s->Bind(8, v.source);
    BindOpt(*s, 9, v.run_id);
    s->Bind(10, static_cast<int64_t>(v.status));
    BindOpt(*s, 11, v.status_message);
    BindOpt(*s, 12, v.run_link);
    s->Bind(13, v.storage_location);
    BindOpt(*s, 14, v.model_id);
    TAMGA_RETURN_IF_ERROR(s->Run());
    for (const auto& t : v.tags) TAMGA_RETURN_IF_ERROR(SetModelVersionTag(v.name, v.version, t));
    return Status::Ok();
  }

  Status SetModelVersionDescription(const std::string& name, int64_t version,
                                    const std::optional<std::string>& d, int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE model_versions SET description = ?1, last_updated_timestamp "
                                        "= ?2 WHERE model_pk = ?3 AND version = ?4"));
    BindOpt(*s, 1, d);
    s->Bind(2, now).Bind(3, pk).Bind(4, version);
    return s->Run();
  }

  Status SetModelVersionStage(const std::string& name, int64_t version, const std::string& stage,
                              int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE model_versions SET current_stage = ?1, "
                                        "last_updated_timestamp = ?2 WHERE model_pk = ?3 AND version = ?4"));
    s->Bind(1, stage).Bind(2, now).Bind(3, pk).Bind(4, version);
    return s->Run();
  }

  Status DeleteModelVersion(const std::string& name, int64_t version, int64_t now) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE model_versions SET deleted = 1, current_stage = "
                                        "'Deleted_Internal', last_updated_timestamp = ?1 WHERE model_pk = ?2 "
                                        "AND version = ?3"));
    s->Bind(1, now).Bind(2, pk).Bind(3, version);
    TAMGA_RETURN_IF_ERROR(s->Run());
    for (const char* table : {"registered_model_aliases", "model_version_tags"}) {
      TAMGA_ASSIGN_OR_RETURN(auto d, db_->Prepare(std::string("DELETE FROM ") + table +
                                                  " WHERE model_pk = ?1 AND version = ?2"));
      d->Bind(1, pk).Bind(2, version);
      TAMGA_RETURN_IF_ERROR(d->Run());
    }
    return Status::Ok();
  }

  Status SetModelVersionTag(const std::string& name, int64_t version, const KeyValue& tag) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO model_version_tags(model_pk, version, key, value) "
                                        "VALUES (?1,?2,?3,?4) ON CONFLICT(model_pk, version, key) DO UPDATE "
                                        "SET value = excluded.value"));
    s->Bind(1, pk).Bind(2, version).Bind(3, tag.key).Bind(4, tag.value);
    return s->Run();
  }

  Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM model_version_tags WHERE model_pk = ?1 AND version = ?2 "
                                        "AND key = ?3"));
    s->Bind(1, pk).Bind(2, version).Bind(3, key);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0) {
      return NotFound("No tag with name: " + key + " in model version " + name + " version " +
                      std::to_string(version));
    }
    return Status::Ok();
  }

  Status SetAlias(const std::string& name, const std::string& alias, int64_t version) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, LiveVersion(name, version));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO registered_model_aliases(model_pk, alias, version) "
                                        "VALUES (?1,?2,?3) ON CONFLICT(model_pk, alias) DO UPDATE SET "
                                        "version = excluded.version"));
    s->Bind(1, pk).Bind(2, alias).Bind(3, version);
    return s->Run();
  }

  Result<bool> DeleteAlias(const std::string& name, const std::string& alias) override {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM registered_model_aliases WHERE model_pk = ?1 AND "
                                        "alias = ?2"));
    s->Bind(1, pk).Bind(2, alias);
    TAMGA_RETURN_IF_ERROR(s->Run());
    return db_->Changes() > 0;
  }

  Result<int64_t> AppendEvent(const RegistryEvent& e) override {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO registry_events(type, model_name, version, alias, "
                                        "timestamp, data) VALUES (?1,?2,?3,?4,?5,?6) RETURNING seq"));
    s->Bind(1, e.type)
        .Bind(2, e.model_name)
        .Bind(3, e.version)
        .Bind(4, e.alias)
        .Bind(5, e.timestamp)
        .Bind(6, e.data);
    return RunReturningId(*s);
  }

  Result<std::optional<int64_t>> ClaimEventCursor(const std::string& consumer, const std::string& owner,
                                                  int64_t now, int64_t lease_until) override {
    {
      TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO event_cursors(consumer, seq) VALUES (?1, 0) "
                                                  "ON CONFLICT(consumer) DO NOTHING"));
      s->Bind(1, consumer);
      TAMGA_RETURN_IF_ERROR(s->Run());
    }
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE event_cursors SET lease_owner = ?2, lease_until = ?4 "
                                        "WHERE consumer = ?1 AND (lease_owner = ?2 OR lease_owner = '' "
                                        "OR lease_until <= ?3) RETURNING seq"));
    s->Bind(1, consumer).Bind(2, owner).Bind(3, now).Bind(4, lease_until);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<int64_t>();
    std::optional<int64_t> seq = s->Int(0);
    TAMGA_ASSIGN_OR_RETURN(bool more, s->Step());  // to the end: the statement is done
    (void)more;
    return seq;
  }

  Status SetEventCursor(const std::string& consumer, int64_t seq) override {
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO event_cursors(consumer, seq) VALUES (?1, ?2) ON "
                                                "CONFLICT(consumer) DO UPDATE SET seq = excluded.seq"));
    s->Bind(1, consumer).Bind(2, seq);
    return s->Run();
  }

  Status PutWebhook(const Webhook& w) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO webhooks(webhook_id, name, description, url, events, secret, status, "
            "creation_timestamp, last_updated_timestamp, model_name) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(webhook_id) DO UPDATE SET name = excluded.name, "
            "description = excluded.description, url = excluded.url, events = excluded.events, "
            "secret = excluded.secret, status = excluded.status, creation_timestamp = "
            "excluded.creation_timestamp, "
            "last_updated_timestamp = excluded.last_updated_timestamp, model_name = excluded.model_name"));
    s->Bind(1, w.webhook_id)
        .Bind(2, w.name)
        .Bind(3, w.description)
        .Bind(4, w.url)
        .Bind(5, JoinEvents(w.events));
    s->Bind(6, w.secret).Bind(7, static_cast<int64_t>(w.status)).Bind(8, w.creation_timestamp);
    s->Bind(9, w.last_updated_timestamp).Bind(10, w.model_name);
    return s->Run();
  }

  Status DeleteWebhook(const std::string& webhook_id) override {
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM webhooks WHERE webhook_id = ?1"));
    s->Bind(1, webhook_id);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0) return NotFound("Webhook with ID " + webhook_id + " not found");
    // Pending deliveries of a deleted webhook are cancelled, not sent.
    TAMGA_ASSIGN_OR_RETURN(auto d,
                           db_->Prepare("UPDATE webhook_deliveries SET state = 'failed', last_error = "
                                        "'webhook deleted' WHERE webhook_id = ?1 AND state = 'pending'"));
    d->Bind(1, webhook_id);
    return d->Run();
  }

  Status InsertDelivery(const WebhookDelivery& d) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO webhook_deliveries(delivery_id, webhook_id, event_seq, event_type, state, attempts, "
            "next_attempt_at, last_status, last_error, created_at, updated_at) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"));
    s->Bind(1, d.delivery_id).Bind(2, d.webhook_id).Bind(3, d.event_seq).Bind(4, d.event_type);
    s->Bind(5, DeliveryStateName(d.state))
        .Bind(6, d.attempts)
        .Bind(7, d.next_attempt_at)
        .Bind(8, d.last_status);
    s->Bind(9, d.last_error).Bind(10, d.created_at).Bind(11, d.updated_at);
    return s->Run();
  }

  Status UpdateDelivery(const WebhookDelivery& d) override {
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE webhook_deliveries SET state = ?1, attempts = ?2, "
                                                "next_attempt_at = ?3, last_status = ?4, last_error = ?5, "
                                                "updated_at = ?6, lease_owner = '', lease_until = 0 "
                                                "WHERE delivery_pk = ?7 AND lease_owner = ?8"));
    s->Bind(1, DeliveryStateName(d.state))
        .Bind(2, d.attempts)
        .Bind(3, d.next_attempt_at)
        .Bind(4, d.last_status);
    s->Bind(5, d.last_error).Bind(6, d.updated_at).Bind(7, d.delivery_pk).Bind(8, d.lease_owner);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0)
      return Aborted("delivery " + d.delivery_id + " is no longer claimed by " + d.lease_owner);
    return Status::Ok();
  }

  Result<std::vector<WebhookDelivery>> ClaimDeliveries(int64_t now, const std::string& owner,
                                                       int64_t lease_until, int64_t limit) override {
    // PostgreSQL: rows another replica is claiming right now are skipped (SKIP LOCKED), so two replicas never
    // wait on each other nor take the same row. SQLite has one writer: the subquery alone is enough.
    std::string pick =
        "SELECT delivery_pk FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 AND "
        "lease_until <= ?1 ORDER BY next_attempt_at, delivery_pk LIMIT ?4";
    if (db_->dialect() == SqlDialect::kPostgres) pick += " FOR UPDATE SKIP LOCKED";
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE webhook_deliveries SET lease_owner = ?2, lease_until = ?3 "
                                        "WHERE delivery_pk IN (" +
                                        pick + ") RETURNING " + kSqlDeliveryFields));
    s->Bind(1, now).Bind(2, owner).Bind(3, lease_until).Bind(4, limit);
    TAMGA_ASSIGN_OR_RETURN(auto rows, SqlDeliveries(*s));
    std::sort(rows.begin(), rows.end(), [](const WebhookDelivery& a, const WebhookDelivery& b) {
      return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at
                                                    : a.delivery_pk < b.delivery_pk;
    });
    return rows;
  }

  Status CreateLoggedModel(const LoggedModel& m) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO logged_models(model_id, experiment_id, name, creation_timestamp, "
            "last_updated_timestamp, "
            "artifact_uri, status, creator_id, model_type, source_run_id, status_message, lifecycle_stage) "
            "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,'active')"));
    s->Bind(1, m.model_id).Bind(2, m.experiment_id).Bind(3, m.name).Bind(4, m.creation_timestamp);
    s->Bind(5, m.last_updated_timestamp).Bind(6, m.artifact_uri).Bind(7, static_cast<int64_t>(m.status));
    s->Bind(8, m.creator_id).Bind(9, m.model_type).Bind(10, m.source_run_id).Bind(11, m.status_message);
    TAMGA_RETURN_IF_ERROR(s->Run());
    TAMGA_RETURN_IF_ERROR(SetLoggedModelTags(m.model_id, m.tags));
    return SetLoggedModelParams(m.model_id, m.params);
  }

  Status UpdateLoggedModel(const LoggedModel& m) override {
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE logged_models SET status = ?1, status_message = ?2, "
                                                "lifecycle_stage = ?3, last_updated_timestamp = ?4 "
                                                "WHERE model_id = ?5"));
    s->Bind(1, static_cast<int64_t>(m.status)).Bind(2, m.status_message);
    s->Bind(3, LifecycleStageName(m.lifecycle_stage)).Bind(4, m.last_updated_timestamp).Bind(5, m.model_id);
    return s->Run();
  }

  Status SetLoggedModelTags(const std::string& model_id, const std::vector<KeyValue>& tags) override {
    return Upsert("logged_model_tags", model_id, tags);
  }

  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) override {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM logged_model_tags WHERE model_id = ?1 AND key = ?2"));
    s->Bind(1, model_id).Bind(2, key);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0) return NotFound("No tag with key '" + key + "' on logged model " + model_id);
    return Status::Ok();
  }

  Status SetLoggedModelParams(const std::string& model_id, const std::vector<KeyValue>& params) override {
    return Upsert("logged_model_params", model_id, params);
  }

  Status AddRunOutputs(const std::string& run_id, const std::vector<RunOutput>& outputs) override {
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO run_outputs(run_id, model_id, step) VALUES (?1,?2,?3) "
                                        "ON CONFLICT(run_id, model_id) DO UPDATE SET step = excluded.step"));
    for (const auto& o : outputs) {
      s->Bind(1, run_id).Bind(2, o.model_id).Bind(3, o.step);
      TAMGA_RETURN_IF_ERROR(s->Run());
      s->Reset();
    }
    return Status::Ok();
  }

  Status PutDeployment(const DeploymentRecord& d) override {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO deployments(name, model_name, spec, creation_timestamp, "
            "last_updated_timestamp, rendered_version, rendered_event_seq) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(name) DO UPDATE SET model_name = excluded.model_name, "
            "spec = excluded.spec, creation_timestamp = excluded.creation_timestamp, "
            "last_updated_timestamp = excluded.last_updated_timestamp, "
            "rendered_version = excluded.rendered_version, "
            "rendered_event_seq = excluded.rendered_event_seq"));
    s->Bind(1, d.name).Bind(2, d.model_name).Bind(3, d.spec).Bind(4, d.creation_timestamp);
    s->Bind(5, d.last_updated_timestamp).Bind(6, d.rendered_version).Bind(7, d.rendered_event_seq);
    return s->Run();
  }

  Status DeleteDeployment(const std::string& name) override {
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM deployments WHERE name = ?1"));
    s->Bind(1, name);
    TAMGA_RETURN_IF_ERROR(s->Run());
    if (db_->Changes() == 0) return NotFound("Deployment '" + name + "' not found");
    return Status::Ok();
  }

 private:
  // The model's pk when `version` is a live version of it; NotFound otherwise.
  Result<int64_t> LiveVersion(const std::string& name, int64_t version) {
    TAMGA_ASSIGN_OR_RETURN(int64_t pk, SqlModelPk(*db_, name));
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT 1 FROM model_versions WHERE model_pk = ?1 AND version = ?2 "
                                        "AND deleted = 0"));
    s->Bind(1, pk).Bind(2, version);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      return NotFound("Model Version (name=" + name + ", version=" + std::to_string(version) + ") not found");
    }
    return pk;
  }

  Status Upsert(const char* table, const std::string& model_id, const std::vector<KeyValue>& kvs) {
    if (kvs.empty()) return Status::Ok();
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("INSERT INTO ") + table +
                                        "(model_id, key, value) VALUES (?1,?2,?3) ON CONFLICT(model_id, "
                                        "key) DO UPDATE SET value = excluded.value"));
    for (const auto& kv : kvs) {
      s->Bind(1, model_id).Bind(2, kv.key).Bind(3, kv.value);
      TAMGA_RETURN_IF_ERROR(s->Run());
      s->Reset();
    }
    return Status::Ok();
  }

  SqlDb* db_;
  std::unique_ptr<RegistryReader> reader_;
};

}  // namespace

std::unique_ptr<RegistryTxn> NewSqlRegistryTxn(SqlDb* db) { return std::make_unique<SqlRegistryTxn>(db); }

const char* DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kSucceeded:
      return "succeeded";
    case DeliveryState::kFailed:
      return "failed";
    default:
      return "pending";
  }
}

}  // namespace tamga
