// The access rule of every route (docs/identity.md, "Who may do what"). MLflow's table for MLflow routes:
// READ reads, EDIT updates and logs, MANAGE deletes and grants; the creator of an experiment or registered
// model gets MANAGE. Stricter than MLflow where the issue asks: alias and stage moves need MANAGE. Routes of
// the platform: jobs need EDIT on their queue, deployments MANAGE (and a capability to run code on the
// server), webhooks MANAGE on their model (admin for global hooks). A route without a row here stops the
// server at start-up (RoutesWithoutRule).
#include "http/access_control.h"

namespace tamga {
namespace {

using K = AccessRule::Kind;
constexpr HttpMethod GET = HttpMethod::kGet;
constexpr HttpMethod POST = HttpMethod::kPost;
constexpr HttpMethod PATCH = HttpMethod::kPatch;
constexpr HttpMethod DELETE = HttpMethod::kDelete;
constexpr HttpMethod PUT = HttpMethod::kPut;
constexpr Permission R = Permission::kRead;
constexpr Permission E = Permission::kEdit;
constexpr Permission M = Permission::kManage;

AccessRule Public() { return {K::kPublic, R, {}}; }
AccessRule Signed() { return {K::kAuthenticated, R, {}}; }
AccessRule Admin() { return {K::kAdmin, M, {}}; }
AccessRule Exp(Permission p, std::vector<std::string> f = {"experiment_id"}) {
  return {K::kExperiment, p, f};
}
AccessRule Run(Permission p) { return {K::kRun, p, {"run_id", "run_uuid"}}; }
AccessRule Model(Permission p) { return {K::kModel, p, {"name"}}; }
AccessRule Dataset(Permission p) { return {K::kDataset, p, {"name"}}; }

std::vector<AccessRuleRow> Build() {
  const std::string ml = "/api/2.0/mlflow";
  const std::string ex = ml + "/experiments/";
  const std::string rn = ml + "/runs/";
  const std::string rm = ml + "/registered-models/";
  const std::string mv = ml + "/model-versions/";
  const std::string lm = ml + "/logged-models";
  const std::string art = "/api/2.0/mlflow-artifacts/artifacts";
  const std::string tg = "/api/2.0/tamga";
  return {
      // operations
      {GET, "/health", Public()},
      {GET, "/version", Public()},
      {GET, "/ping", Public()},
      {GET, "/metrics", {K::kMetrics, R, {}}},
      {GET, tg + "/version", Signed()},
      {GET, "/api/3.0/mlflow/server-info", Signed()},
      // experiments
      {POST, ex + "create", {K::kCreateExperiment, R, {}}},
      {GET, ex + "get", Exp(R)},
      {GET, ex + "get-by-name", {K::kExperimentByName, R, {"experiment_name"}}},
      {POST, ex + "search", Signed()},
      {GET, ex + "search", Signed()},
      {POST, ex + "delete", Exp(M)},
      {POST, ex + "restore", Exp(M)},
      {POST, ex + "update", Exp(E)},
      {POST, ex + "set-experiment-tag", Exp(E)},
      {POST, ex + "delete-experiment-tag", Exp(E)},
      {POST, ex + "search-datasets", Exp(R, {"experiment_ids"})},
      // runs
      {POST, rn + "create", {K::kExperiment, E, {"experiment_id"}, "0"}},
      {POST, rn + "update", Run(E)},
      {POST, rn + "delete", Run(M)},
      {POST, rn + "restore", Run(M)},
      {GET, rn + "get", Run(R)},
      {POST, rn + "search", Exp(R, {"experiment_ids"})},
      {GET, rn + "search", Exp(R, {"experiment_ids"})},
      {POST, rn + "set-tag", Run(E)},
      {POST, rn + "delete-tag", Run(E)},
      {POST, rn + "log-parameter", Run(E)},
      {POST, rn + "log-inputs", Run(E)},
      {POST, rn + "log-model", Run(E)},
      {POST, rn + "log-metric", Run(E)},
      {POST, rn + "log-batch", Run(E)},
      {POST, rn + "outputs", Run(E)},
      {POST, rn + "create-promptlab-run", Exp(E)},
      {GET, ml + "/metrics/get-history", Run(R)},
      {GET, ml + "/metrics/get-history-bulk", {K::kRuns, R, {"run_id"}}},
      {GET, ml + "/metrics/get-history-bulk-interval", {K::kRuns, R, {"run_ids"}}},
      // artifacts
      {PUT, art + "/*", {K::kArtifactPath, E, {}}},
      {GET, art + "/*", {K::kArtifactPath, R, {}}},
      {DELETE, art + "/*", {K::kArtifactPath, M, {}}},
      {GET, art, {K::kArtifactPath, R, {"path"}}},
      {POST, "/api/2.0/mlflow-artifacts/mpu/create/*", {K::kArtifactPath, E, {}}},
      {POST, "/api/2.0/mlflow-artifacts/mpu/complete/*", {K::kArtifactPath, E, {}}},
      {POST, "/api/2.0/mlflow-artifacts/mpu/abort/*", {K::kArtifactPath, E, {}}},
      {GET, ml + "/artifacts/list", Run(R)},
      {POST, ml + "/upload-artifact", Run(E)},
      {GET, "/get-artifact", Run(R)},
      {GET, "/model-versions/get-artifact", Model(R)},
      // registered models
      {POST, rm + "create", Signed()},
      {GET, rm + "get", Model(R)},
      {POST, rm + "rename", Model(E)},
      {PATCH, rm + "update", Model(E)},
      {DELETE, rm + "delete", Model(M)},
      {GET, rm + "search", Signed()},
      {POST, rm + "get-latest-versions", Model(R)},
      {GET, rm + "get-latest-versions", Model(R)},
      {POST, rm + "set-tag", Model(E)},
      {DELETE, rm + "delete-tag", Model(E)},
      {POST, rm + "alias", Model(M)},
      {DELETE, rm + "alias", Model(M)},
      {GET, rm + "alias", Model(R)},
      // model versions
      {POST, mv + "create", {K::kModelVersionCreate, E, {"name"}}},
      {GET, mv + "get", Model(R)},
      {PATCH, mv + "update", Model(E)},
      {POST, mv + "transition-stage", Model(M)},
      {DELETE, mv + "delete", Model(M)},
      {GET, mv + "search", Signed()},
      {GET, mv + "get-download-uri", Model(R)},
      {POST, mv + "set-tag", Model(E)},
      {DELETE, mv + "delete-tag", Model(E)},
      // MLflow 3.x logged models: the experiment named in the body, or the model's experiment
      {POST, lm, Exp(E)},
      {POST, lm + "/search", Exp(R, {"experiment_ids"})},
      {GET, lm + "/*", {K::kLoggedModel, R, {}}},
      {PATCH, lm + "/*", {K::kLoggedModel, E, {}}},
      {DELETE, lm + "/*", {K::kLoggedModel, M, {}}},
      {POST, lm + "/*", {K::kLoggedModel, E, {}}},
      // identity (MLflow's auth API and Tamga's tokens and audit)
      {POST, ml + "/users/create", Admin()},
      {GET, ml + "/users/get", {K::kSelf, R, {"username"}}},
      {PATCH, ml + "/users/update-password", {K::kSelf, R, {"username"}}},
      {PATCH, ml + "/users/update-admin", Admin()},
      {DELETE, ml + "/users/delete", {K::kSelf, R, {"username"}}},
      {GET, tg + "/users", Admin()},
      {POST, ml + "/experiments/permissions/create", Exp(M)},
      {GET, ml + "/experiments/permissions/get", Exp(M)},
      {PATCH, ml + "/experiments/permissions/update", Exp(M)},
      {DELETE, ml + "/experiments/permissions/delete", Exp(M)},
      {POST, ml + "/registered-models/permissions/create", Model(M)},
      {GET, ml + "/registered-models/permissions/get", Model(M)},
      {PATCH, ml + "/registered-models/permissions/update", Model(M)},
      {DELETE, ml + "/registered-models/permissions/delete", Model(M)},
      {POST, tg + "/tokens", Signed()},
      {GET, tg + "/tokens", Signed()},
      {DELETE, tg + "/tokens/*", Signed()},
      {GET, tg + "/whoami", Signed()},
      {GET, tg + "/session", Signed()},
      // the browser sign-in (public: it is how a browser gets a principal)
      {GET, "/login", Public()},
      {POST, "/login", Public()},
      {GET, "/login/oidc", Public()},
      {GET, "/login/callback", Public()},
      {POST, "/logout", Signed()},
      // the web UI's static files (public: the page holds no data, the API it calls checks the caller)
      {GET, "/", Public()},
      {GET, "/static/*", Public()},
      {POST, tg + "/runs/table", Exp(R, {"experiment_ids"})},
      {GET, tg + "/runs/columns", Exp(R, {"experiment_ids"})},
      {GET, tg + "/metrics/sampled", {K::kRuns, R, {"run_id"}}},
      {GET, tg + "/audit", Admin()},
      {PUT, tg + "/permissions", {K::kGrant, M, {}}},
      {DELETE, tg + "/permissions", {K::kGrant, M, {}}},
      {GET, tg + "/permissions", {K::kGrant, M, {}}},
      {PUT, tg + "/teams/members", Signed()},
      {DELETE, tg + "/teams/members", Signed()},
      {GET, tg + "/teams", Signed()},
      {GET, tg + "/routes", Admin()},
      // registry events and resolution
      {GET, tg + "/events", Signed()},
      {GET, tg + "/models/resolve", {K::kModelUri, R, {"uri"}}},
      // reference-score tests: running one writes its result to the version (EDIT), reading it is READ
      {POST, tg + "/model-versions/reference-test", Model(E)},
      {GET, tg + "/model-versions/reference-test", Model(R)},
      // webhooks: MANAGE on the hook's model (model_name, a Tamga extension); global hooks: admin
      {POST, ml + "/webhooks", {K::kWebhook, M, {}}},
      {GET, ml + "/webhooks", Signed()},
      {GET, ml + "/webhooks/*", {K::kWebhook, M, {}}},
      {PATCH, ml + "/webhooks/*", {K::kWebhook, M, {}}},
      {DELETE, ml + "/webhooks/*", {K::kWebhook, M, {}}},
      {POST, ml + "/webhooks/*", {K::kWebhook, M, {}}},
      {GET, tg + "/webhooks/*", {K::kWebhook, M, {}}},
      // deployments: READ on the model to deploy it, MANAGE to change one; target local: a capability
      {POST, tg + "/deployments", {K::kDeploymentPut, M, {}}},
      {GET, tg + "/deployments", Signed()},
      {GET, tg + "/deployments/*", {K::kDeployment, R, {}}},
      {DELETE, tg + "/deployments/*", {K::kDeployment, M, {}}},
      {POST, tg + "/deployments/*", {K::kDeployment, E, {}}},
      {POST, tg + "/deploy/render", {K::kModelUri, R, {"model_uri"}}},
      // jobs and agents
      {POST, tg + "/queues", Admin()},
      {GET, tg + "/queues", Signed()},
      {POST, tg + "/jobs", {K::kQueue, E, {"queue"}}},
      {POST, tg + "/jobs/batch", Admin()},
      {GET, tg + "/jobs", Signed()},
      {GET, tg + "/jobs/*", Signed()},
      {POST, tg + "/jobs/*", {K::kJobAction, R, {}}},
      {GET, tg + "/tiers", Signed()},
      {PUT, tg + "/tiers", Admin()},
      {DELETE, tg + "/tiers/*", Admin()},
      {GET, tg + "/quotas", Signed()},
      {PUT, tg + "/quotas", Admin()},
      {DELETE, tg + "/quotas", Admin()},
      {POST, tg + "/agents/register", {K::kAgent, R, {}}},
      {GET, tg + "/agents", Signed()},
      {POST, tg + "/agents/*", {K::kAgent, R, {}}},
      // datasets: any user creates one (and MANAGEs it); READ reads and downloads, EDIT pushes and tags
      {POST, tg + "/datasets/create", Signed()},
      {GET, tg + "/datasets/search", Signed()},
      {GET, tg + "/datasets/get", Dataset(R)},
      {POST, tg + "/datasets/update", Dataset(E)},
      {POST, tg + "/datasets/objects/missing", Dataset(E)},
      {PUT, tg + "/datasets/objects/upload*", Dataset(E)},
      {POST, tg + "/datasets/objects/fetch", Dataset(R)},
      {GET, tg + "/datasets/objects/get", Dataset(R)},
      {POST, tg + "/datasets/versions/create", Dataset(E)},
      {GET, tg + "/datasets/versions/get", Dataset(R)},
      {GET, tg + "/datasets/versions/search", Dataset(R)},
      {GET, tg + "/datasets/versions/files", Dataset(R)},
      {GET, tg + "/datasets/versions/diff", Dataset(R)},
      {POST, tg + "/datasets/tags/set", Dataset(E)},
      {POST, tg + "/datasets/tags/delete", Dataset(E)},
      {GET, tg + "/lineage", {K::kLineage, R, {"uri"}}},
      // retraining triggers queue jobs as the server: admins create, fire and delete them
      {POST, tg + "/triggers", Admin()},
      {GET, tg + "/triggers", Signed()},
      {GET, tg + "/triggers/*", Signed()},
      {DELETE, tg + "/triggers/*", Admin()},
      {POST, tg + "/triggers/*", Admin()},
      // serving in-process deployments (probes stay open for the kubelet)
      {POST, "/invocations", Signed()},
      {POST, "/endpoints/*", {K::kServedModel, R, {}}},
      {GET, "/v2", Signed()},
      {GET, "/v2/health/live", Public()},
      {GET, "/v2/health/ready", Public()},
      {GET, "/v2/models/*", {K::kServedModel, R, {}}},
      {POST, "/v2/models/*", {K::kServedModel, R, {}}},
  };
}

}  // namespace

const std::vector<AccessRuleRow>& AccessRules() {
  static const std::vector<AccessRuleRow> kRows = Build();
  return kRows;
}

}  // namespace tamga
