#pragma once
// The registry half of the metadata store: registered models, versions, tags, aliases, the events
// outbox and its consumer cursors, webhooks and deliveries, logged models, run outputs, deployments.
//
// RegistryReader serves reads. MetadataStore::registry() reads committed data from any thread;
// WriteTxn::registry().reader() reads through the open write transaction (it sees that transaction's own
// uncommitted changes), so the registry service can check state and write atomically.
// RegistryTxn holds the writes; like WriteTxn it is used only by the group committer's thread.
//
// Why one transaction for a change and its event: an outbox row exists if and only if the change it
// describes committed, so consumers (webhooks, deploy, serving hot reload) never miss or invent a change.
//
// Error codes: NotFound for unknown names/ids/versions, AlreadyExists for duplicate names/ids,
// Internal for storage failures.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/registry_entities.h"
#include "storage/search_query.h"

namespace tamga {

// Registered-model filter keys: attribute "name"; tags. Order keys: name, creation_timestamp,
// last_updated_timestamp. Model-version filter keys: name, run_id, source_path, version_number; tags.
struct RegistryQuery {
  std::vector<Comparison> filter;  // conjunction
  // MLflow 3.x prompts are registered models (and versions) tagged mlflow.prompt.is_prompt = 'true'.
  // Searches leave them out unless they ask for prompts (registry_service.cc decides).
  bool exclude_prompts = false;
  // Access control (docs/identity.md): when set, only models whose name is in `names` (only = true) or not in
  // it (only = false) match, in SQL, so pages stay full.
  struct NameScope {
    bool only = true;
    std::vector<std::string> names;
  };
  std::optional<NameScope> scope;
  std::vector<OrderKey> order;  // implicit tie-breakers: name ASC (then version DESC for versions)
  int64_t offset = 0;
  int64_t max_results = 100;
};

struct RegisteredModelPage {
  std::vector<RegisteredModel> models;
  bool has_more = false;
};

struct ModelVersionPage {
  std::vector<ModelVersion> versions;
  bool has_more = false;
};

// Logged-model search (MLflow 3.x). Filter attribute keys: name, model_id, model_type, source_run_id,
// status (numeric LoggedModelStatus), creation_timestamp, last_updated_timestamp; params and tags.
// Order keys: the same attributes. Implicit tie-breakers: creation_timestamp DESC, model_id ASC.
struct LoggedModelQuery {
  std::vector<std::string> experiment_ids;  // non-empty
  std::vector<Comparison> filter;           // conjunction
  std::vector<OrderKey> order;
  int64_t offset = 0;
  int64_t max_results = 50;
};

struct LoggedModelPage {
  std::vector<LoggedModel> models;
  bool has_more = false;
};

class RegistryReader {
 public:
  virtual ~RegistryReader() = default;

  // With tags, aliases and latest_versions. NotFound.
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  virtual Result<RegisteredModelPage> SearchRegisteredModels(const RegistryQuery& query) = 0;
  // Live (not deleted) versions only, with tags and aliases. NotFound.
  virtual Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) = 0;
  virtual Result<ModelVersionPage> SearchModelVersions(const RegistryQuery& query) = 0;
  // The registered model one of whose versions is stored at `storage_location` (access checks on the
  // registry's own copies). NotFound.
  virtual Result<std::string> ModelOfStorageLocation(const std::string& storage_location) = 0;
  // The version an alias points to; nullopt when the alias is not set. NotFound when the model is unknown.
  virtual Result<std::optional<int64_t>> GetAliasVersion(const std::string& name,
                                                         const std::string& alias) = 0;
  // Highest version number ever assigned for the model (deleted versions included); 0 when none.
  virtual Result<int64_t> MaxVersion(const std::string& name) = 0;

  // Events with seq > after, oldest first, at most `limit`.
  virtual Result<std::vector<RegistryEvent>> ListEvents(int64_t after, int64_t limit) = 0;
  // The seq from which events under `name` belong to the model that now has that name: its creation or the
  // rename that gave it the name (0 when neither is recorded). Older events under the name were another
  // model's (deleted, or renamed away) and are not its history.
  virtual Result<int64_t> ModelHistoryStart(const std::string& name) = 0;
  // The current model's events (seq >= ModelHistoryStart) with seq < before (0: no bound), newest first, at
  // most `limit`.
  virtual Result<std::vector<RegistryEvent>> ListModelEvents(const std::string& model_name, int64_t before,
                                                             int64_t limit) = 0;
  virtual Result<int64_t> LastEventSeq() = 0;
  // 0 when the consumer has never stored a cursor.
  virtual Result<int64_t> GetEventCursor(const std::string& consumer) = 0;

  virtual Result<std::vector<Webhook>> ListWebhooks() = 0;  // ordered by creation time, then id
  virtual Result<Webhook> GetWebhook(const std::string& webhook_id) = 0;
  // A webhook's deliveries, newest first, with delivery_pk < before (0: from the newest).
  virtual Result<std::vector<WebhookDelivery>> ListDeliveries(const std::string& webhook_id, int64_t before,
                                                              int64_t limit) = 0;
  // Pending deliveries due at or before `now`, oldest first.
  virtual Result<std::vector<WebhookDelivery>> DueDeliveries(int64_t now, int64_t limit) = 0;
  // When the earliest pending delivery can next be claimed (its next_attempt_at, or its claim's end when
  // later); nullopt when none are pending.
  virtual Result<std::optional<int64_t>> NextDeliveryDue() = 0;

  // Deleted ones included (check lifecycle_stage), with tags, params and registrations. NotFound.
  virtual Result<LoggedModel> GetLoggedModel(const std::string& model_id) = 0;
  // Active logged models only.
  virtual Result<LoggedModelPage> SearchLoggedModels(const LoggedModelQuery& query) = 0;
  virtual Result<std::vector<RunOutput>> GetRunOutputs(const std::string& run_id) = 0;

  virtual Result<std::vector<DeploymentRecord>> ListDeployments() = 0;  // by name
  virtual Result<DeploymentRecord> GetDeployment(const std::string& name) = 0;
};

class RegistryTxn {
 public:
  virtual ~RegistryTxn() = default;
  virtual RegistryReader& reader() = 0;

  // Registered models.
  virtual Status CreateRegisteredModel(const RegisteredModel& m) = 0;  // AlreadyExists
  virtual Status RenameRegisteredModel(const std::string& name, const std::string& new_name, int64_t now) = 0;
  virtual Status SetRegisteredModelDescription(const std::string& name, const std::optional<std::string>& d,
                                               int64_t now) = 0;
  virtual Status TouchRegisteredModel(const std::string& name, int64_t now) = 0;
  // Removes the model with its versions, tags and aliases.
  virtual Status DeleteRegisteredModel(const std::string& name) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag) = 0;
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;  // NotFound

  // Model versions. The caller assigns v.version (MaxVersion + 1).
  virtual Status CreateModelVersion(const ModelVersion& v) = 0;
  virtual Status SetModelVersionDescription(const std::string& name, int64_t version,
                                            const std::optional<std::string>& d, int64_t now) = 0;
  virtual Status SetModelVersionStage(const std::string& name, int64_t version, const std::string& stage,
                                      int64_t now) = 0;
  // Soft delete: hidden from reads, number never reused; its aliases are removed.
  virtual Status DeleteModelVersion(const std::string& name, int64_t version, int64_t now) = 0;
  virtual Status SetModelVersionTag(const std::string& name, int64_t version, const KeyValue& tag) = 0;
  virtual Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key) = 0;

  // Aliases (upsert / remove; DeleteAlias returns whether it existed).
  virtual Status SetAlias(const std::string& name, const std::string& alias, int64_t version) = 0;
  virtual Result<bool> DeleteAlias(const std::string& name, const std::string& alias) = 0;

  // Outbox. Returns the new event's seq.
  virtual Result<int64_t> AppendEvent(const RegistryEvent& e) = 0;
  virtual Status SetEventCursor(const std::string& consumer, int64_t seq) = 0;
  // Consumer leases (several replicas, one follower per consumer): takes or renews the consumer's lease for
  // `owner` until `lease_until` when it is free, expired or already owner's, and returns the stored cursor
  // (0 when never stored); nullopt while another owner's lease runs. On PostgreSQL the cursor row stays
  // locked until the transaction ends, so a fan-out in the same transaction happens once.
  virtual Result<std::optional<int64_t>> ClaimEventCursor(const std::string& consumer,
                                                          const std::string& owner, int64_t now,
                                                          int64_t lease_until) = 0;

  // Webhooks (insert or replace) and deliveries.
  virtual Status PutWebhook(const Webhook& w) = 0;
  virtual Status DeleteWebhook(const std::string& webhook_id) = 0;  // NotFound; deliveries are kept
  virtual Status InsertDelivery(const WebhookDelivery& d) = 0;
  // Claims up to `limit` pending deliveries due at `now` whose lease has run out, for `owner` until
  // `lease_until`, oldest first. Rows another replica is claiming at this moment are skipped, not waited for.
  virtual Result<std::vector<WebhookDelivery>> ClaimDeliveries(int64_t now, const std::string& owner,
                                                               int64_t lease_until, int64_t limit) = 0;
  // By delivery_pk, only while d.lease_owner still holds it (Aborted otherwise: the lease ran out and another
  // replica took the delivery); the lease is released.
  virtual Status UpdateDelivery(const WebhookDelivery& d) = 0;

  // Logged models (MLflow 3.x) and run outputs.
  virtual Status CreateLoggedModel(const LoggedModel& m) = 0;
  virtual Status UpdateLoggedModel(const LoggedModel& m) = 0;  // status, status_message, stage, timestamp
  virtual Status SetLoggedModelTags(const std::string& model_id, const std::vector<KeyValue>& tags) = 0;
  virtual Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) = 0;  // NotFound
  virtual Status SetLoggedModelParams(const std::string& model_id, const std::vector<KeyValue>& params) = 0;
  virtual Status AddRunOutputs(const std::string& run_id, const std::vector<RunOutput>& outputs) = 0;

  // Deployments.
  virtual Status PutDeployment(const DeploymentRecord& d) = 0;   // insert or replace
  virtual Status DeleteDeployment(const std::string& name) = 0;  // NotFound
};

}  // namespace tamga
