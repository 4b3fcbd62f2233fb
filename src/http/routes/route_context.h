#pragma once
// What route handlers need, and small helpers shared by the route files.
#include <string>

#include "artifacts/blob_store.h"
#include "auth/auth_service.h"
#include "auth/oidc_login.h"
#include "core/check.h"
#include "core/json_writer.h"
#include "core/metrics.h"
#include "data/dataset_service.h"
#include "deploy/deploy_service.h"
#include "http/http_types.h"
#include "http/leader_forwarder.h"
#include "http/long_poll_gate.h"
#include "http/request_fields.h"
#include "http/router.h"
#include "http/run_change_feed.h"
#include "jobs/job_service.h"
#include "lineage/lineage_service.h"
#include "registry/logged_model_service.h"
#include "registry/registry_service.h"
#include "registry/webhook_service.h"
#include "rollout/reference_tests.h"
#include "rollout/rollout_controller.h"
#include "tracking/tracking_service.h"
#include "triggers/trigger_service.h"
#include "ui/ui_assets.h"

namespace tamga {

struct RouteContext {
  TrackingService* tracking = nullptr;
  BlobStore* blobs = nullptr;
  MetricsRegistry* metrics = nullptr;
  RegistryService* registry = nullptr;
  EventHub* events = nullptr;
  MetadataStore* store = nullptr;
  WebhookService* webhooks = nullptr;
  DeployService* deploy = nullptr;
  LoggedModelService* logged_models = nullptr;
  JobService* jobs = nullptr;
  LongPollGate* long_polls = nullptr;  // bounds open waits per client; null = unbounded (tests)
  AuthService* auth = nullptr;         // identity and access; null when auth is off
  OidcLogin* oidc_login = nullptr;     // the browser's OIDC sign-in; null = password sign-in only
  bool secure_cookies = false;         // the server speaks HTTPS (or --public-url is https): Secure cookies
  Clock* clock = nullptr;
  const UiAssets* ui = nullptr;
  RunChangeFeed* run_changes = nullptr;  // live charts' long-polls; null: no waiting  // the web UI's assets
                                         // (embedded or --ui-dir); null: no UI routes
  // Several replicas: the job scheduler runs on the leader; elsewhere its routes are forwarded there
  // (http/leader_forwarder.h). Null: this process always runs it.
  LeaderForwarder* job_leader = nullptr;
  DatasetService* datasets = nullptr;               // null: no dataset routes
  LineageService* lineage = nullptr;                // null: no lineage route
  TriggerService* triggers = nullptr;               // null: no trigger routes
  ReferenceTestService* reference_tests = nullptr;  // null: no reference-test routes
  PayloadLogger* payloads = nullptr;                // null: deployments' payload routes answer 404
  ModelManager* served = nullptr;                   // null: deployments' monitoring route answers 404
  RolloutController* rollouts = nullptr;            // null: deployments' rollout routes answer 404
};

// The handler, or (several replicas, this one not leading) a forward of the request to the leader.
Handler Forwarded(const RouteContext& ctx, Handler handler);

// Access control inside handlers (docs/identity.md); all no-ops when auth is off. The experiments a search
// may list (null = all); the registered-model scope of a registry search; MANAGE for an object's creator.
std::function<bool(const std::string&)> ExperimentFilter(const RouteContext& ctx, const HttpRequest& req);
std::optional<RegistryQuery::NameScope> ModelScope(const RouteContext& ctx, const HttpRequest& req);
void GrantCreator(const RouteContext& ctx, const HttpRequest& req, ObjectKind kind, const std::string& id);

// A slot for one long-poll from req's client, or null when over the limit (answer TooManyLongPolls()).
// With no gate configured every wait is admitted (a non-null dummy ticket).
std::shared_ptr<void> EnterLongPoll(const RouteContext& ctx, const HttpRequest& req);
Status TooManyLongPolls();

template <typename T>
using DoneWithFn = std::function<void(Result<T>)>;

constexpr const char* kMlflowApi = "/api/2.0/mlflow";

// Wraps a handler body that reads RequestFields; a returned error is answered as MLflow error JSON.
// The body answers success itself (possibly later, from a write completion).
template <typename Fn>
Handler FieldsHandler(Fn fn) {
  return [fn](HttpRequest& req, Responder respond) {
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    Status s = fn(*fields, respond);
    if (!s.ok()) respond(ErrorResponse(s));
  };
}

// FieldsHandler for bodies that also need the request (its principal).
template <typename Fn>
Handler RequestFieldsHandler(Fn fn) {
  return [fn](HttpRequest& req, Responder respond) {
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    Status s = fn(req, *fields, respond);
    if (!s.ok()) respond(ErrorResponse(s));
  };
}

// Completion for writes whose success body is "{}".
inline TrackingService::Done EmptyOk(Responder respond) {
  return [respond = std::move(respond)](Status s) {
    respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
  };
}

// Shared field parsers (experiment_routes.cc).
Result<std::vector<KeyValue>> ParseTagList(const RequestFields& f);
// A list of {key, value} objects under `field` (tags, params); a missing value is "".
Result<std::vector<KeyValue>> ParseKeyValueList(const RequestFields& f, const char* field);
Result<ViewType> ParseViewTypeField(const RequestFields& f, const char* key);

// Artifact responses (artifact_routes.cc): a streamed download of one blob, and the JSON listing of a
// directory ({root_uri?, files:[{path, is_dir, file_size}]}); entries' paths are `prefix + name` and a
// missing directory lists as empty.
// A blob as a download; `range` is the request's Range header ("" = the whole blob; one range is honoured).
HttpResponse ArtifactDownload(BlobStore* blobs, const std::string& path, const std::string& range = "");
Result<std::string> ArtifactListJson(BlobStore* blobs, const std::string& dir, const std::string& prefix,
                                     const std::string* root_uri);

// run_id, or the deprecated run_uuid the 2.x client also sends.
Result<std::string> RunIdOf(const RequestFields& f);
// {"run": {...}} (run_routes.cc).
HttpResponse RunResponse(const Run& run);

void RegisterExperimentRoutes(Router& router, const RouteContext& ctx);
void RegisterRunRoutes(Router& router, const RouteContext& ctx);
void RegisterMetricRoutes(Router& router, const RouteContext& ctx);
void RegisterArtifactRoutes(Router& router, const RouteContext& ctx);
void RegisterOpsRoutes(Router& router, const RouteContext& ctx);
void RegisterRegisteredModelRoutes(Router& router, const RouteContext& ctx);
void RegisterModelVersionRoutes(Router& router, const RouteContext& ctx);
void RegisterTamgaRegistryRoutes(Router& router, const RouteContext& ctx);
void RegisterWebhookRoutes(Router& router, const RouteContext& ctx);
void RegisterDeployRoutes(Router& router, const RouteContext& ctx);
void RegisterJobRoutes(Router& router, const RouteContext& ctx);
void RegisterJobPolicyRoutes(Router& router, const RouteContext& ctx);
void RegisterLoginRoutes(Router& router, const RouteContext& ctx);
void RegisterUiRoutes(Router& router, const RouteContext& ctx);
void RegisterUiApiRoutes(Router& router, const RouteContext& ctx);
// JSON of a team quota with its usage (shared by the queue listing).
void WriteQuota(JsonWriter& w, const QuotaSummary& s);
void RegisterLoggedModelRoutes(Router& router, const RouteContext& ctx);
void RegisterPromptlabRoutes(Router& router, const RouteContext& ctx);
// MLflow's users and permissions API, Tamga's tokens, users and audit (only with auth on).
void RegisterAuthRoutes(Router& router, const RouteContext& ctx);
// Datasets, versions, tags and object transfers (docs/data.md).
void RegisterDatasetRoutes(Router& router, const RouteContext& ctx);
void RegisterLineageRoutes(Router& router, const RouteContext& ctx);
void RegisterTriggerRoutes(Router& router, const RouteContext& ctx);
void RegisterModelTestRoutes(Router& router, const RouteContext& ctx);
// `tamga server`'s whole route table: every group above plus in-process serving (ctx.served, by
// serving_routes.h). Internal when a route has no access rule (access_control.h).
Status RegisterServerRoutes(Router& router, const RouteContext& ctx, MetricsRegistry* metrics);

// Registry response bodies shared by the registry route files (registered_model_routes.cc).
HttpResponse RegisteredModelResponse(const RegisteredModel& m);
HttpResponse ModelVersionResponse(const ModelVersion& v);
HttpResponse ModelVersionListResponse(const char* field, const std::vector<ModelVersion>& versions,
                                      const std::string& next_page_token);
Result<RegistrySearchRequest> ParseRegistrySearch(const RequestFields& f, int64_t default_max);

}  // namespace tamga
