#pragma once
// AccessControl: the server's AccessGate (docs/identity.md). Every route has one AccessRule (the table in
// routes/access_rules.cc); the server refuses to start when a registered route has none
// (RoutesWithoutRule), and tests/auth/matrix.txt checks the table against a real server. A rule names the
// object the request acts on (an experiment, a run's experiment, an artifact path's experiment, a registered
// model ...) and the permission it needs; object ids are read from the query or the JSON body with the
// same RequestFields the handler uses. Denials answer 401 UNAUTHENTICATED (no or bad credentials, with
// WWW-Authenticate) or 403 PERMISSION_DENIED in MLflow's error shape, and are audited with every
// state-changing request. Thread-safe.
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth_service.h"
#include "auth/credentials.h"
#include "http/access_gate.h"
#include "http/router.h"
#include "storage/metadata_store.h"

namespace tamga {

struct AccessRule {
  enum class Kind {
    kPublic,            // anyone (/health, /version)
    kMetrics,           // /metrics: public with --metrics-auth open, else any principal
    kAuthenticated,     // any principal; the handler lists only what the caller may read
    kCreateExperiment,  // any principal; choosing the artifact location is for admins
    kAdmin,
    kSelf,        // the user named by field `username`, or an admin
    kExperiment,  // the experiment(s) in field(s): one id or a list
    kExperimentByName,
    kRun,           // the experiment of the run in field(s)
    kRuns,          // the experiments of every run in a list field
    kArtifactPath,  // the experiment that owns a proxied artifact path (first segment)
    kModel,         // the registered model named in field(s)
    kModelUri,      // the registered model of a models:/ URI in field(s)
    kQueue,         // the job queue named in field(s)
    kLoggedModel,   // the experiment of the logged model in the path
    kDataset,       // the dataset named in field(s) (query or body)
    kLineage,    // READ on what field `uri` names: a model (models:/), a run's experiment (runs:/), a dataset
    kAgent,      // an agent token (or an admin); a `queues` field must name only the token's queues
    kJobAction,  // POST /jobs/{id}/{action}: abort for users (the route checks whose job), the rest for
                 // agents
    kGrant,      // the object named by fields object_kind + object_id (Tamga's permissions API)
    kModelVersionCreate,  // EDIT on the model, and READ on whatever its source and run_id name
    kDeploymentPut,       // create (READ on its model) or update (MANAGE on it, READ on its model) a
                          // deployment named in the body; `target: local` also needs run_code_on_server
    kDeployment,          // the deployment named by the path (/deployments/{name}[/render])
    kServedModel,         // READ on the in-process deployment named by the path (/v2/models/{name}/...)
    kWebhook,             // create: MANAGE on its model_name, admin for a global hook; /webhooks/{id}: the
                          // same for the hook's scope
  };
  Kind kind = Kind::kAdmin;
  Permission need = Permission::kRead;
  std::vector<std::string> fields;  // where the object id is; the first present wins
  std::string fallback;             // the id when no field is present ("" = the request is refused)
};

// The browser session cookie (docs/security.md, "Browser sign-in").
inline constexpr std::string_view kSessionCookie = "tamga_session";

// The kind's name (GET /api/2.0/tamga/routes).
const char* AccessRuleKindName(AccessRule::Kind kind);

// One row of the table: method + route template (as RouteMatch::label reports it, "/prefix/*" for prefix
// routes; /ajax-api/ aliases share their /api/ row).
struct AccessRuleRow {
  HttpMethod method;
  std::string route;
  AccessRule rule;
};
const std::vector<AccessRuleRow>& AccessRules();

// Routes the router serves that have no row: the server refuses to start with any.
std::vector<std::string> RoutesWithoutRule(const Router& router);

class AccessControl final : public AccessGate {
 public:
  struct Options {
    bool metrics_open = false;  // --metrics-auth open
    bool audit_ingest = false;  // also audit run-data writes (log-metric, log-batch, ...); off: too many
  };
  AccessControl(const Options& options, AuthService* auth, MetadataStore* store);

  Verdict AdmitHead(HttpRequest& req, const RouteMatch& match, HttpResponse* denial, Resume resume) override;
  std::optional<HttpResponse> AdmitBody(HttpRequest& req, const RouteMatch& match) override;
  void Completed(const HttpRequest& req, const RouteMatch& match, int status) override;

  // The same decision for a call that does not come through the HTTP router (the OIP gRPC port): the
  // caller's Authorization value, READ on the in-process deployment `model` ("" = any principal will do).
  // Blocks for a password check that is not cached yet. Denials are audited under `route`.
  Status AuthorizeCall(std::string_view authorization, const std::string& model, const std::string& peer,
                       const std::string& route);

 private:
  struct RouteRule {
    AccessRule rule;
    bool audit =
        true;  // state-changing requests on it are audited (run-data ingest only with --audit-ingest)
  };
  const RouteRule* RuleFor(const HttpRequest& req, const RouteMatch& match) const;
  // OK, or the denial (PermissionDenied / NotFound / InvalidArgument) for `who` under `rule`.
  Status Check(const HttpRequest& req, const AccessRule& rule, std::string* object);
  Result<std::string> ExperimentOfRun(const std::string& run_id);
  // The registered model that owns a registry copy (_registry/<id>). NotFound.
  Result<std::string> ModelOfRegistryCopy(const std::string& id);
  // READ on what a model version's source names (runs:/, mlflow-artifacts:/, models:/).
  Status CheckSourceReadable(const Principal& who, const std::string& source);
  HttpResponse Deny(const HttpRequest& req, const RouteMatch& match, const Status& why,
                    const std::string& object);

  const Options options_;
  AuthService* const auth_;
  MetadataStore* const store_;
  // route template -> rule per method (HttpMethod index); looked up by string_view, without a copy
  std::map<std::string, std::array<std::optional<RouteRule>, 8>, std::less<>> rules_;
  // run id -> experiment id (runs never move between experiments); bounded
  Mutex run_mu_;
  std::map<std::string, std::string> run_experiment_ GUARDED_BY(run_mu_);
};

}  // namespace tamga
