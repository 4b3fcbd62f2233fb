#pragma once
// Builders for outbox events. Event types use MLflow's webhook names where MLflow has the event
// (registered_model.created, model_version.created, model_version_tag.set|deleted,
// model_version_alias.created|deleted) and `data` is exactly MLflow's webhook payload for them, so a
// delivery needs no translation. Tamga adds events MLflow lacks (rename, delete, stage change ...);
// those are visible in /api/2.0/tamga/events but are not offered to MLflow-style webhooks.
#include <optional>
#include <string>
#include <vector>

#include "storage/registry_entities.h"

namespace tamga {

namespace event_type {
inline constexpr const char* kModelCreated = "registered_model.created";
inline constexpr const char* kModelUpdated = "registered_model.updated";
inline constexpr const char* kModelRenamed = "registered_model.renamed";
inline constexpr const char* kModelDeleted = "registered_model.deleted";
inline constexpr const char* kModelTagSet = "registered_model_tag.set";
inline constexpr const char* kModelTagDeleted = "registered_model_tag.deleted";
inline constexpr const char* kVersionCreated = "model_version.created";
inline constexpr const char* kVersionUpdated = "model_version.updated";
inline constexpr const char* kVersionStageChanged = "model_version.stage_transitioned";
inline constexpr const char* kVersionDeleted = "model_version.deleted";
inline constexpr const char* kVersionTagSet = "model_version_tag.set";
inline constexpr const char* kVersionTagDeleted = "model_version_tag.deleted";
inline constexpr const char* kAliasCreated = "model_version_alias.created";
inline constexpr const char* kAliasDeleted = "model_version_alias.deleted";
}  // namespace event_type

// The six event names MLflow 3 webhooks can subscribe to.
const std::vector<std::string>& MlflowWebhookEventTypes();

RegistryEvent ModelCreatedEvent(const RegisteredModel& m, int64_t now);
RegistryEvent ModelUpdatedEvent(const std::string& name, const std::optional<std::string>& description,
                                int64_t now);
RegistryEvent ModelRenamedEvent(const std::string& name, const std::string& new_name, int64_t now);
RegistryEvent ModelDeletedEvent(const std::string& name, int64_t now);
RegistryEvent ModelTagEvent(const char* type, const std::string& name, const KeyValue& tag, int64_t now);
RegistryEvent VersionCreatedEvent(const ModelVersion& v, int64_t now);
RegistryEvent VersionUpdatedEvent(const std::string& name, int64_t version,
                                  const std::optional<std::string>& description, int64_t now);
RegistryEvent VersionStageEvent(const std::string& name, int64_t version, const std::string& from,
                                const std::string& to, int64_t now);
RegistryEvent VersionDeletedEvent(const std::string& name, int64_t version, int64_t now);
RegistryEvent VersionTagEvent(const char* type, const std::string& name, int64_t version, const KeyValue& tag,
                              int64_t now);
// alias_deleted: version is the version the alias pointed to (kept in the event row, not in `data`).
RegistryEvent AliasEvent(const char* type, const std::string& name, const std::string& alias, int64_t version,
                         int64_t now);

}  // namespace tamga
