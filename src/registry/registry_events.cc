#include "registry/registry_events.h"

#include "core/json_writer.h"

namespace tamga {
namespace {

void TagsObject(JsonWriter& w, const std::vector<KeyValue>& tags) {
  w.Key("tags");
  w.BeginObject();
  for (const auto& t : tags) w.Field(t.key, t.value);
  w.EndObject();
}

void OptString(JsonWriter& w, const char* key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v)
    w.String(*v);
  else
    w.Null();
}

RegistryEvent Event(const char* type, const std::string& name, const std::string& version,
                    const std::string& alias, int64_t now, std::string data) {
  RegistryEvent e;
  e.type = type;
  e.model_name = name;
  e.version = version;
  e.alias = alias;
  e.timestamp = now;
  e.data = std::move(data);
  return e;
}

}  // namespace

const std::vector<std::string>& MlflowWebhookEventTypes() {
  static const std::vector<std::string> kTypes = {event_type::kModelCreated,  event_type::kVersionCreated,
                                                  event_type::kVersionTagSet, event_type::kVersionTagDeleted,
                                                  event_type::kAliasCreated,  event_type::kAliasDeleted};
  return kTypes;
}

RegistryEvent ModelCreatedEvent(const RegisteredModel& m, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", m.name);
  TagsObject(w, m.tags);
  OptString(w, "description", m.description);
  w.EndObject();
  return Event(event_type::kModelCreated, m.name, "", "", now, std::move(data));
}

RegistryEvent ModelUpdatedEvent(const std::string& name, const std::optional<std::string>& description,
                                int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  OptString(w, "description", description);
  w.EndObject();
  return Event(event_type::kModelUpdated, name, "", "", now, std::move(data));
}

RegistryEvent ModelRenamedEvent(const std::string& name, const std::string& new_name, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("new_name", new_name);
  w.EndObject();
  return Event(event_type::kModelRenamed, new_name, "", "", now, std::move(data));
}

RegistryEvent ModelDeletedEvent(const std::string& name, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.EndObject();
  return Event(event_type::kModelDeleted, name, "", "", now, std::move(data));
}

RegistryEvent ModelTagEvent(const char* type, const std::string& name, const KeyValue& tag, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("key", tag.key);
  if (std::string(type) == event_type::kModelTagSet) w.Field("value", tag.value);
  w.EndObject();
  return Event(type, name, "", "", now, std::move(data));
}

RegistryEvent VersionCreatedEvent(const ModelVersion& v, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", v.name);
  w.Field("version", std::to_string(v.version));
  w.Field("source", v.source);
  OptString(w, "run_id", v.run_id);
  TagsObject(w, v.tags);
  OptString(w, "description", v.description);
  w.EndObject();
  return Event(event_type::kVersionCreated, v.name, std::to_string(v.version), "", now, std::move(data));
}

RegistryEvent VersionUpdatedEvent(const std::string& name, int64_t version,
                                  const std::optional<std::string>& description, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("version", std::to_string(version));
  OptString(w, "description", description);
  w.EndObject();
  return Event(event_type::kVersionUpdated, name, std::to_string(version), "", now, std::move(data));
}

RegistryEvent VersionStageEvent(const std::string& name, int64_t version, const std::string& from,
                                const std::string& to, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("version", std::to_string(version));
  w.Field("from_stage", from);
  w.Field("to_stage", to);
  w.EndObject();
  return Event(event_type::kVersionStageChanged, name, std::to_string(version), "", now, std::move(data));
}

RegistryEvent VersionDeletedEvent(const std::string& name, int64_t version, int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("version", std::to_string(version));
  w.EndObject();
  return Event(event_type::kVersionDeleted, name, std::to_string(version), "", now, std::move(data));
}

RegistryEvent VersionTagEvent(const char* type, const std::string& name, int64_t version, const KeyValue& tag,
                              int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("version", std::to_string(version));
  w.Field("key", tag.key);
  if (std::string(type) == event_type::kVersionTagSet) w.Field("value", tag.value);
  w.EndObject();
  return Event(type, name, std::to_string(version), "", now, std::move(data));
}

RegistryEvent AliasEvent(const char* type, const std::string& name, const std::string& alias, int64_t version,
                         int64_t now) {
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Field("name", name);
  w.Field("alias", alias);
  if (std::string(type) == event_type::kAliasCreated) w.Field("version", std::to_string(version));
  w.EndObject();
  return Event(type, name, std::to_string(version), alias, now, std::move(data));
}

}  // namespace tamga
