#include "http/registry_json.h"

#include "http/mlflow_json.h"

namespace tamga {

const char* ModelVersionStatusName(ModelVersionStatus s) {
  switch (s) {
    case ModelVersionStatus::kPendingRegistration:
      return "PENDING_REGISTRATION";
    case ModelVersionStatus::kFailedRegistration:
      return "FAILED_REGISTRATION";
    default:
      return "READY";
  }
}

const char* LoggedModelStatusName(LoggedModelStatus s) {
  switch (s) {
    case LoggedModelStatus::kReady:
      return "LOGGED_MODEL_READY";
    case LoggedModelStatus::kUploadFailed:
      return "LOGGED_MODEL_UPLOAD_FAILED";
    default:
      return "LOGGED_MODEL_PENDING";
  }
}

void WriteModelVersion(JsonWriter& w, const ModelVersion& v) {
  w.BeginObject();
  w.Field("name", v.name);
  w.Field("version", std::to_string(v.version));
  w.FieldInt("creation_timestamp", v.creation_timestamp);
  w.FieldInt("last_updated_timestamp", v.last_updated_timestamp);
  if (!v.user_id.empty()) w.Field("user_id", v.user_id);
  w.Field("current_stage", v.current_stage);
  if (v.description) w.Field("description", *v.description);
  w.Field("source", v.source);
  if (v.run_id) w.Field("run_id", *v.run_id);
  w.Field("status", ModelVersionStatusName(v.status));
  if (v.status_message) w.Field("status_message", *v.status_message);
  WriteKeyValueList(w, "tags", v.tags);
  if (v.run_link) w.Field("run_link", *v.run_link);
  if (!v.aliases.empty()) {
    w.Key("aliases");
    w.BeginArray();
    for (const auto& a : v.aliases) w.String(a);
    w.EndArray();
  }
  if (v.model_id) w.Field("model_id", *v.model_id);
  w.Field("storage_location", v.storage_location);
  w.EndObject();
}

void WriteRegisteredModel(JsonWriter& w, const RegisteredModel& m) {
  w.BeginObject();
  w.Field("name", m.name);
  w.FieldInt("creation_timestamp", m.creation_timestamp);
  w.FieldInt("last_updated_timestamp", m.last_updated_timestamp);
  if (!m.user_id.empty()) w.Field("user_id", m.user_id);
  if (m.description) w.Field("description", *m.description);
  if (!m.latest_versions.empty()) {
    w.Key("latest_versions");
    w.BeginArray();
    for (const auto& v : m.latest_versions) WriteModelVersion(w, v);
    w.EndArray();
  }
  WriteKeyValueList(w, "tags", m.tags);
  if (!m.aliases.empty()) {
    w.Key("aliases");
    w.BeginArray();
    for (const auto& a : m.aliases) {
      w.BeginObject();
      w.Field("alias", a.alias);
      w.Field("version", std::to_string(a.version));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void WriteRegistryEvent(JsonWriter& w, const RegistryEvent& e) {
  w.BeginObject();
  w.FieldInt("seq", e.seq);
  w.Field("type", e.type);
  w.Field("model_name", e.model_name);
  if (!e.version.empty()) w.Field("version", e.version);
  if (!e.alias.empty()) w.Field("alias", e.alias);
  w.FieldInt("timestamp", e.timestamp);
  w.Key("data");
  w.Raw(e.data);
  w.EndObject();
}

void WriteWebhook(JsonWriter& w, const Webhook& h) {
  w.BeginObject();
  w.Field("webhook_id", h.webhook_id);
  w.Field("name", h.name);
  if (!h.description.empty()) w.Field("description", h.description);
  w.Field("url", h.url);
  w.Key("events");
  w.BeginArray();
  for (const auto& e : h.events) {
    size_t dot = e.find('.');
    std::string entity = e.substr(0, dot), action = e.substr(dot + 1);
    for (auto& c : entity) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (auto& c : action) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    w.BeginObject();
    w.Field("entity", entity);
    w.Field("action", action);
    w.EndObject();
  }
  w.EndArray();
  w.Field("status", h.status == WebhookStatus::kActive ? "ACTIVE" : "DISABLED");
  if (!h.model_name.empty()) w.Field("model_name", h.model_name);
  w.FieldInt("creation_timestamp", h.creation_timestamp);
  w.FieldInt("last_updated_timestamp", h.last_updated_timestamp);
  w.EndObject();
}

void WriteWebhookDelivery(JsonWriter& w, const WebhookDelivery& d) {
  w.BeginObject();
  w.Field("delivery_id", d.delivery_id);
  w.Field("webhook_id", d.webhook_id);
  w.FieldInt("event_seq", d.event_seq);
  w.Field("event", d.event_type);
  w.Field("state", DeliveryStateName(d.state));
  w.FieldInt("attempts", d.attempts);
  if (d.state == DeliveryState::kPending) w.FieldInt("next_attempt_at", d.next_attempt_at);
  if (d.last_status) w.FieldInt("last_status", d.last_status);
  if (!d.last_error.empty()) w.Field("last_error", d.last_error);
  w.FieldInt("created_at", d.created_at);
  w.FieldInt("updated_at", d.updated_at);
  w.EndObject();
}

void WriteLoggedModel(JsonWriter& w, const LoggedModel& m) {
  w.BeginObject();
  w.Key("info");
  w.BeginObject();
  w.Field("model_id", m.model_id);
  w.Field("experiment_id", m.experiment_id);
  w.Field("name", m.name);
  w.FieldInt("creation_timestamp_ms", m.creation_timestamp);
  w.FieldInt("last_updated_timestamp_ms", m.last_updated_timestamp);
  w.Field("artifact_uri", m.artifact_uri);
  w.Field("status", LoggedModelStatusName(m.status));
  // creator_id is an int64 in MLflow's proto; Tamga has no numeric user ids, so it is never sent.
  if (!m.model_type.empty()) w.Field("model_type", m.model_type);
  if (!m.source_run_id.empty()) w.Field("source_run_id", m.source_run_id);
  if (!m.status_message.empty()) w.Field("status_message", m.status_message);
  WriteKeyValueList(w, "tags", m.tags);
  if (!m.registrations.empty()) {
    w.Key("registrations");
    w.BeginArray();
    for (const auto& [name, version] : m.registrations) {
      w.BeginObject();
      w.Field("name", name);
      w.Field("version", std::to_string(version));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("data");
  w.BeginObject();
  WriteKeyValueList(w, "params", m.params);
  w.EndObject();
  w.EndObject();
}

}  // namespace tamga
