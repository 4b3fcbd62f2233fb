#pragma once
// DeployService: deployments as data, and the follower that keeps a GitOps folder in step with the
// registry. When an alias a deployment follows is set (model_version_alias.created in the outbox), the
// follower renders the new version's manifests and writes them (one git commit per change). Its outbox
// cursor is stored, so after a restart it resumes where it stopped; rendering is idempotent (same
// version, same bytes, no commit), so replaying an event is harmless. Removing an alias leaves the last
// rendered version in place: losing an alias must not take a running service down. With several replicas
// one follows the outbox at a time (a lease on its cursor), so each event is rendered once.
//
// Thread-safe. Start() launches the follower thread; Shutdown() stops it. Borrows every dependency.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/mutex.h"
#include "deploy/deployment_spec.h"
#include "deploy/gitops_writer.h"
#include "deploy/manifest_renderer.h"
#include "registry/event_hub.h"
#include "registry/registry_service.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"

namespace tamga {

struct RenderOutcome {
  int64_t version = 0;
  std::vector<RenderedFile> files;
  bool changed = false;
  std::string commit;
};

class DeployService {
 public:
  struct Options {
    std::string tamga_version;
    int64_t idle_poll_ms = 1000;
    std::string replica_id = "local";  // owner of this process's follower lease (unique per replica)
    int64_t follow_lease_ms = 30000;   // how long the lease outlives its holder's last batch
  };
  using Done = std::function<void(Status)>;

  DeployService(const Options& options, MetadataStore* store, GroupCommitter* writer,
                RegistryService* registry, EventHub* hub, GitOpsWriter* gitops, Clock* clock);
  ~DeployService();

  // Creates or replaces a deployment (spec JSON, deployment_spec.h); it is rendered in the background
  // as soon as its alias resolves. NotFound when the registered model does not exist, unless allow_missing
  // (a deployment set up before its model is registered).
  void Put(const std::string& spec_json, bool allow_missing,
           std::function<void(Result<DeploymentRecord>)> done);
  // Deletes the deployment and its files from the GitOps folder.
  void Delete(const std::string& name, Done done);
  Result<std::vector<DeploymentRecord>> List();
  Result<DeploymentRecord> Get(const std::string& name);
  // Renders the version the deployment's alias points to now and writes it. NotFound when the alias is
  // not set. Blocking (file and git I/O).
  Result<RenderOutcome> Render(const std::string& name, const std::string& reason);
  // Renders a model URI with an ad-hoc spec (JSON; name and model_name may be omitted) without writing.
  // What the GitOps folder holds for a deployment now, and the commits that changed it (newest first).
  struct Written {
    std::vector<RenderedFile> files;
    std::vector<GitOpsWriter::CommitInfo> commits;
  };
  Result<Written> WrittenFiles(const std::string& name);
  Result<std::vector<RenderedFile>> RenderUri(const std::string& model_uri, const std::string& spec_json);

  void Start();
  void Shutdown();

 private:
  void FollowLoop();
  Status HandleEvent(const RegistryEvent& e);
  Status FillRuntime(const ResolvedModel& resolved, RenderInput* in);
  Result<RenderOutcome> RenderSpec(const DeploymentSpec& spec, const std::string& reason, int64_t event_seq);

  const Options options_;
  MetadataStore* store_;
  GroupCommitter* writer_;
  RegistryService* registry_;
  EventHub* hub_;
  GitOpsWriter* gitops_;
  Clock* clock_;

  std::atomic<bool> stopping_{false};
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pending_ GUARDED_BY(mu_);  // deployments to render after Put
  std::thread thread_;
};

}  // namespace tamga
