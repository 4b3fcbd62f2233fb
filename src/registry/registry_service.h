#pragma once
// RegistryService: MLflow model-registry semantics (registered models, versions, tags, aliases, stages)
// over the metadata store, with every change and its outbox event committed in one transaction.
//
// No HTTP, no SQL. Reads return directly; writes go through the GroupCommitter and complete through a
// callback once durable; after a commit that appended events the EventHub is told the new sequence.
// Validation happens before submission; existence checks happen inside the transaction.
//
// Registered versions own their files: creating a version whose source lies in Tamga's artifact store
// copies the files to a registry-owned location (hard links on a local store), so deleting the run or
// its artifacts cannot break a registered version. Sources outside the store (s3://, https://...) are
// referenced as given. See docs/registry.md.
//
// Thread-safe. Borrows every dependency; they must outlive it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/blob_store.h"
#include "core/clock.h"
#include "core/random.h"
#include "registry/event_hub.h"
#include "registry/model_uri.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"

namespace tamga {

struct CreateRegisteredModelRequest {
  std::string name;
  std::vector<KeyValue> tags;
  std::optional<std::string> description;
  std::string user_id;
};

struct CreateModelVersionRequest {
  std::string name;
  std::string source;
  std::optional<std::string> run_id;
  std::vector<KeyValue> tags;
  std::optional<std::string> run_link;
  std::optional<std::string> description;
  std::optional<std::string> model_id;
  std::string user_id;
};

struct RegistrySearchRequest {
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max_results = 100;
  std::string page_token;
  std::optional<RegistryQuery::NameScope> scope;  // access control: the models the caller may read
};

struct RegisteredModelSearchResult {
  std::vector<RegisteredModel> models;
  std::string next_page_token;
};

struct ModelVersionSearchResult {
  std::vector<ModelVersion> versions;
  std::string next_page_token;
};

class RegistryService {
 public:
  using Done = std::function<void(Status)>;
  template <typename T>
  using DoneWith = std::function<void(Result<T>)>;

  RegistryService(MetadataStore* store, GroupCommitter* writer, BlobStore* blobs, EventHub* hub, Clock* clock,
                  Random* random);

  // Registered models.
  void CreateRegisteredModel(CreateRegisteredModelRequest req, DoneWith<RegisteredModel> done);
  Result<RegisteredModel> GetRegisteredModel(const std::string& name);
  void RenameRegisteredModel(const std::string& name, std::string new_name, DoneWith<RegisteredModel> done);
  void UpdateRegisteredModel(const std::string& name, std::optional<std::string> description,
                             DoneWith<RegisteredModel> done);
  void DeleteRegisteredModel(const std::string& name, Done done);
  Result<RegisteredModelSearchResult> SearchRegisteredModels(const RegistrySearchRequest& req);
  // Newest version per requested stage (all stages when empty). InvalidArgument on an unknown stage.
  Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                      const std::vector<std::string>& stages);
  void SetRegisteredModelTag(const std::string& name, KeyValue tag, Done done);
  void DeleteRegisteredModelTag(const std::string& name, std::string key, Done done);

  // Aliases. `version` is the wire string (decimal).
  void SetAlias(const std::string& name, std::string alias, const std::string& version, Done done);
  // The server restoring an alias (a rollout rolled back): no reference-test policy check.
  void RestoreAlias(const std::string& name, std::string alias, const std::string& version, Done done);
  void DeleteAlias(const std::string& name, std::string alias, Done done);
  Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias);

  // Model versions.
  void CreateModelVersion(CreateModelVersionRequest req, DoneWith<ModelVersion> done);
  Result<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  void UpdateModelVersion(const std::string& name, const std::string& version,
                          std::optional<std::string> description, DoneWith<ModelVersion> done);
  void TransitionStage(const std::string& name, const std::string& version, const std::string& stage,
                       bool archive_existing_versions, DoneWith<ModelVersion> done);
  void DeleteModelVersion(const std::string& name, const std::string& version, Done done);
  Result<ModelVersionSearchResult> SearchModelVersions(const RegistrySearchRequest& req);
  Result<std::string> GetDownloadUri(const std::string& name, const std::string& version);
  void SetModelVersionTag(const std::string& name, const std::string& version, KeyValue tag, Done done);
  void DeleteModelVersionTag(const std::string& name, const std::string& version, std::string key, Done done);
  // The server's own tags (reserved prefixes such as kReferenceTestTagPrefix), in one transaction; never
  // reachable from a client request.
  void SetSystemVersionTags(const std::string& name, const std::string& version, std::vector<KeyValue> tags,
                            Done done);

  // Model URIs (model_uri.h) against committed data.
  Result<ResolvedModel> Resolve(const std::string& uri);

  RegistryReader& reader() { return store_->registry(); }
  BlobStore& blobs() { return *blobs_; }

 private:
  void SetAliasImpl(const std::string& name, std::string alias, const std::string& version, bool check_policy,
                    Done done);
  // Runs `fn` in a write transaction; events it appends are published to the hub after commit.
  using TxnFn = std::function<Status(WriteTxn&, std::vector<RegistryEvent>* events)>;
  void Write(TxnFn fn, Done done);
  // Validates a version source as MLflow does and returns its storage location: a registry-owned copy
  // of the files when they are in Tamga's store, else the resolved or given location.
  struct PreparedSource {
    std::string location;
    bool copied = false;  // `location` is a new registry-owned copy (removed if the create fails)
  };
  Result<PreparedSource> PrepareSource(const CreateModelVersionRequest& req);

  MetadataStore* store_;
  GroupCommitter* writer_;
  BlobStore* blobs_;
  EventHub* hub_;
  Clock* clock_;
  Random* random_;
};

}  // namespace tamga
