#pragma once
// Registry entities as stored and returned by a RegistryReader: registered models, versions, aliases,
// the events outbox, webhooks and their deliveries, MLflow 3.x logged models, and deployments.
// Plain values with MLflow's field semantics (times in ms since the epoch, versions as integers here and
// as decimal strings on the wire). Optional fields that MLflow omits when unset are std::optional.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/entities.h"

namespace tamga {

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
};

enum class ModelVersionStatus { kPendingRegistration = 1, kFailedRegistration = 2, kReady = 3 };

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage = "None";  // None | Staging | Production | Archived
  std::optional<std::string> description;
  std::string source;  // as registered (e.g. mlflow-artifacts:/1/<run>/artifacts/model)
  std::optional<std::string> run_id;
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::optional<std::string> status_message;
  std::optional<std::string> run_link;
  std::string storage_location;  // where the files are served from (a registry-owned copy, or `source`)
  std::optional<std::string> model_id;  // MLflow 3.x logged model
  std::vector<KeyValue> tags;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::optional<std::string> description;
  std::vector<ModelVersion> latest_versions;  // highest live version per stage
  std::vector<KeyValue> tags;
  std::vector<ModelAlias> aliases;
};

// One row of the outbox. `type` is "<entity>.<action>" (MLflow webhook names where MLflow has one);
// `data` is the JSON object MLflow puts in a webhook payload's "data".
struct RegistryEvent {
  int64_t seq = 0;
  std::string type;
  std::string model_name;
  std::string version;  // "" when not about one version
  std::string alias;    // "" when not about an alias
  int64_t timestamp = 0;
  std::string data;
};

enum class WebhookStatus { kActive = 1, kDisabled = 2 };

struct Webhook {
  std::string webhook_id;
  std::string name;
  std::string description;
  std::string url;
  std::vector<std::string> events;  // "<entity>.<action>", e.g. "model_version_alias.created"
  std::string secret;               // never returned by the API
  WebhookStatus status = WebhookStatus::kActive;
  std::string model_name;  // "" = every model (global); else only this registered model's events
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
};

enum class DeliveryState { kPending, kSucceeded, kFailed };
const char* DeliveryStateName(DeliveryState s);  // "pending" | "succeeded" | "failed"

struct WebhookDelivery {
  int64_t delivery_pk = 0;
  std::string delivery_id;  // X-MLflow-Delivery-Id: stable across retries of one delivery
  std::string webhook_id;
  int64_t event_seq = 0;
  std::string event_type;
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  int64_t next_attempt_at = 0;  // ms; when a pending delivery is due
  int last_status = 0;          // HTTP status of the last attempt (0: no response)
  std::string last_error;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // The replica that claimed it for an attempt ('' when unclaimed) and until when (ms).
  std::string lease_owner;
  int64_t lease_until = 0;
};

enum class LoggedModelStatus { kPending = 1, kReady = 2, kUploadFailed = 3 };

struct LoggedModel {
  std::string model_id;  // "m-" + 32 hex
  std::string experiment_id;
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string creator_id;
  std::string model_type;
  std::string source_run_id;
  std::string status_message;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  std::vector<KeyValue> tags;
  std::vector<KeyValue> params;
  std::vector<std::pair<std::string, int64_t>> registrations;  // live model versions created from it
};

// A deployment as stored: the deploy domain owns the meaning of `spec` (a JSON object).
struct DeploymentRecord {
  std::string name;
  std::string model_name;
  std::string spec;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string rendered_version;    // last version written to the GitOps folder ("" = never)
  int64_t rendered_event_seq = 0;  // outbox seq of the change that rendered it
};

}  // namespace tamga
