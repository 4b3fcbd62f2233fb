#include "http/access_control.h"

#include <future>

#include <set>

#include "core/log.h"

namespace tamga {
namespace {

// /ajax-api/2.0/... is served by the /api/2.0/... row.
std::string RuleLabel(const std::string& label) {
  static const std::string kAjax = "/ajax-api/";
  if (label.rfind(kAjax, 0) == 0) return "/api/" + label.substr(kAjax.size());
  return label;
}

bool StateChanging(HttpMethod m) {
  return m == HttpMethod::kPost || m == HttpMethod::kPut || m == HttpMethod::kPatch ||
         m == HttpMethod::kDelete;
}

// High-volume run-data writes: audited only with --audit-ingest (their run's creation and deletion are).
bool IsIngest(const std::string& route) {
  static const std::set<std::string> kIngest = {
      "/api/2.0/mlflow/runs/log-metric",        "/api/2.0/mlflow/runs/log-batch",
      "/api/2.0/mlflow/runs/log-parameter",     "/api/2.0/mlflow/runs/set-tag",
      "/api/2.0/mlflow/runs/delete-tag",        "/api/2.0/mlflow/runs/log-inputs",
      "/api/2.0/mlflow/runs/log-model",         "/api/2.0/mlflow/runs/update",
      "/api/2.0/mlflow/runs/outputs",           "/api/2.0/mlflow/upload-artifact",
      "/api/2.0/mlflow-artifacts/artifacts/*",  "/api/2.0/tamga/agents/*",
      "/api/2.0/tamga/datasets/objects/upload*"};
  return kIngest.count(route) > 0;
}

// POST routes that change nothing (inference, searches with a body): never audited, even with --audit-ingest
// (an audit row per prediction would cost more than the prediction).
bool ChangesNothing(const std::string& route) {
  static const std::set<std::string> kReads = {
      "/v2/models/*",
      "/endpoints/*",
      "/invocations",
      "/api/2.0/mlflow/experiments/search",
      "/api/2.0/mlflow/runs/search",
      "/api/2.0/mlflow/experiments/search-datasets",
      "/api/2.0/mlflow/registered-models/get-latest-versions",
      "/api/2.0/mlflow/logged-models/search",
      "/api/2.0/tamga/datasets/objects/missing",
      "/api/2.0/tamga/datasets/objects/fetch",
      "/login"};  // sign-in attempts: audited by the handler, with the user named and the outcome
  return kReads.count(route) > 0;
}

}  // namespace

const char* AccessRuleKindName(AccessRule::Kind kind) {
  using K = AccessRule::Kind;
  switch (kind) {  // no default: -Wswitch names a kind added without a name
    case K::kPublic:
      return "public";
    case K::kMetrics:
      return "metrics";
    case K::kAuthenticated:
      return "authenticated";
    case K::kCreateExperiment:
      return "create_experiment";
    case K::kAdmin:
      return "admin";
    case K::kSelf:
      return "self";
    case K::kExperiment:
      return "experiment";
    case K::kExperimentByName:
      return "experiment_by_name";
    case K::kRun:
      return "run";
    case K::kRuns:
      return "runs";
    case K::kArtifactPath:
      return "artifact_path";
    case K::kModel:
      return "registered_model";
    case K::kModelUri:
      return "model_uri";
    case K::kQueue:
      return "queue";
    case K::kLoggedModel:
      return "logged_model";
    case K::kDataset:
      return "dataset";
    case K::kLineage:
      return "lineage";
    case K::kAgent:
      return "agent";
    case K::kJobAction:
      return "job_action";
    case K::kGrant:
      return "grant";
    case K::kModelVersionCreate:
      return "model_version_create";
    case K::kDeploymentPut:
      return "deployment_put";
    case K::kDeployment:
      return "deployment";
    case K::kServedModel:
      return "served_model";
    case K::kWebhook:
      return "webhook";
  }
  return "unknown";
}

std::vector<std::string> RoutesWithoutRule(const Router& router) {
  std::set<std::pair<HttpMethod, std::string>> have;
  for (const auto& row : AccessRules()) have.insert({row.method, row.route});
  std::vector<std::string> out;
  for (const auto& [method, route] : router.Routes()) {
    if (!have.count({method, RuleLabel(route)}))
      out.push_back(std::string(HttpMethodName(method)) + " " + route);
  }
  return out;
}

AccessControl::AccessControl(const Options& options, AuthService* auth, MetadataStore* store)
    : options_(options), auth_(auth), store_(store) {
  for (const auto& row : AccessRules()) {
    rules_[row.route][static_cast<int>(row.method)] =
        RouteRule{row.rule, !ChangesNothing(row.route) && (options.audit_ingest || !IsIngest(row.route))};
  }
}

const AccessControl::RouteRule* AccessControl::RuleFor(const HttpRequest& req,
                                                       const RouteMatch& match) const {
  static constexpr std::string_view kAjax = "/ajax-api/";
  std::string_view label = match.label;
  std::string canonical;
  if (label.substr(0, kAjax.size()) == kAjax) {  // /ajax-api/2.0/... is served by the /api/2.0/... row
    canonical = "/api/" + std::string(label.substr(kAjax.size()));
    label = canonical;
  }
  auto it = rules_.find(label);
  if (it == rules_.end()) return nullptr;
  HttpMethod m = req.method == HttpMethod::kHead ? HttpMethod::kGet : req.method;
  const auto& r = it->second[static_cast<int>(m)];
  return r ? &*r : nullptr;
}

HttpResponse AccessControl::Deny(const HttpRequest& req, const RouteMatch& match, const Status& why,
                                 const std::string& object) {
  // MLflow's clients and tests recognise "You are not authenticated." and "Permission denied."; ours say why
  // after.
  static const std::string kUnauth = "You are not authenticated.";
  Status shown = why;
  if (why.code() == StatusCode::kUnauthenticated && why.message().rfind(kUnauth, 0) != 0) {
    shown = Status(why.code(), kUnauth + " " + why.message());
  }
  HttpResponse r = ErrorResponse(shown);
  // The web UI marks its calls (X-Requested-With): a Basic challenge would make the browser pop up its own
  // password dialog instead of the UI sending the user to the sign-in page.
  if (why.code() == StatusCode::kUnauthenticated && req.Header("x-requested-with").empty())
    r.headers.push_back({"WWW-Authenticate", "Basic realm=\"tamga\""});
  if (why.code() == StatusCode::kUnauthenticated || why.code() == StatusCode::kPermissionDenied) {
    AuditRecord a;
    a.principal = req.principal ? req.principal->Name() : "anonymous";
    a.method = HttpMethodName(req.method);
    a.route = RuleLabel(match.label);
    a.object = object;
    a.status = r.status;
    a.outcome = "denied";
    a.remote_addr = req.remote_addr;
    auth_->audit()->Append(std::move(a));
  }
  return r;
}

AccessGate::Verdict AccessControl::AdmitHead(HttpRequest& req, const RouteMatch& match, HttpResponse* denial,
                                             Resume resume) {
  const RouteRule* route_rule = RuleFor(req, match);
  if (route_rule == nullptr) {
    req.access_denied = true;
    *denial = Deny(req, match, PermissionDenied("This endpoint has no access rule."), "");
    return Verdict::kDeny;
  }
  const AccessRule* rule = &route_rule->rule;
  if (rule->kind == AccessRule::Kind::kPublic ||
      (rule->kind == AccessRule::Kind::kMetrics && options_.metrics_open)) {
    return Verdict::kAdmit;
  }
  // After authentication: agent tokens are for agent routes only; uploads are authorised at once.
  auto decide = [this, rule, &match](HttpRequest& r,
                                     Result<PrincipalPtr> who) -> std::optional<HttpResponse> {
    if (!who.ok()) {
      r.access_denied = true;
      return Deny(r, match, who.status(), "");
    }
    r.principal = std::move(*who);
    if (r.principal->kind == Principal::Kind::kAgent && rule->kind != AccessRule::Kind::kAgent &&
        rule->kind != AccessRule::Kind::kJobAction && rule->kind != AccessRule::Kind::kArtifactPath) {
      r.access_denied = true;
      return Deny(r, match, PermissionDenied("An agent token is valid only on agent endpoints."), "");
    }
    if (match.upload) {
      std::string object;
      Status s = Check(r, *rule, &object);
      r.access_object = object;
      if (!s.ok()) {
        r.access_denied = true;
        return Deny(r, match, s, object);
      }
    }
    return std::nullopt;
  };
  auto h = req.headers.find("authorization");
  std::string_view header = h == req.headers.end() ? std::string_view() : std::string_view(h->second);
  // A browser session (cookie) when no Authorization header is sent; changes need its CSRF token.
  if (h == req.headers.end()) {
    if (auto c = req.headers.find("cookie"); c != req.headers.end()) {
      std::string_view session = CookieValue(c->second, kSessionCookie);
      // Two session cookies (one planted with a narrower Path sorts first): refuse rather than pick.
      if (!session.empty()) {
        std::string_view rest(
            session.data() + session.size(),
            c->second.size() - static_cast<size_t>(session.data() + session.size() - c->second.data()));
        if (!CookieValue(rest, kSessionCookie).empty()) {
          req.access_denied = true;
          *denial = ErrorResponse(InvalidArgument("A request may carry one session cookie, not several."));
          return Verdict::kDeny;
        }
      }
      if (!session.empty()) {
        auto csrf = req.headers.find("x-csrf-token");
        auto who = auth_->AuthenticateSession(session, StateChanging(req.method),
                                              csrf == req.headers.end() ? std::string_view() : csrf->second);
        auto d = decide(req, std::move(who));
        if (!d) return Verdict::kAdmit;
        *denial = std::move(*d);
        return Verdict::kDeny;
      }
    }
  }
  if (auto fast = auth_->AuthenticateFast(header)) {
    auto d = decide(req, std::move(*fast));
    if (!d) return Verdict::kAdmit;
    *denial = std::move(*d);
    return Verdict::kDeny;
  }
  auth_->Authenticate(header, [&req, decide, resume = std::move(resume)](Result<PrincipalPtr> who) {
    resume(decide(req, std::move(who)));
  });
  return Verdict::kPending;
}

std::optional<HttpResponse> AccessControl::AdmitBody(HttpRequest& req, const RouteMatch& match) {
  if (match.upload) return std::nullopt;  // authorised at the head
  const RouteRule* rule = RuleFor(req, match);
  if (rule == nullptr) return Deny(req, match, PermissionDenied("This endpoint has no access rule."), "");
  if (!req.principal) return std::nullopt;  // a public route
  std::string object;
  Status s = Check(req, rule->rule, &object);
  req.access_object = object;
  if (s.ok()) return std::nullopt;
  req.access_denied = s.code() == StatusCode::kPermissionDenied;
  return Deny(req, match, s, object);
}

void AccessControl::Completed(const HttpRequest& req, const RouteMatch& match, int status) {
  if (req.access_denied || !StateChanging(req.method) || (!match.handler && !match.upload)) return;
  const RouteRule* rule = RuleFor(req, match);
  if (rule == nullptr || !rule->audit) return;
  std::string route = RuleLabel(match.label);
  AuditRecord a;
  a.principal = req.principal ? req.principal->Name() : "anonymous";
  a.method = HttpMethodName(req.method);
  a.route = route;
  a.object = req.access_object;
  a.status = status;
  a.outcome = status == 401 || status == 403 ? "denied" : status < 400 ? "ok" : "failed";
  a.remote_addr = req.remote_addr;
  auth_->audit()->Append(std::move(a));
}

Status AccessControl::AuthorizeCall(std::string_view authorization, const std::string& model,
                                    const std::string& peer, const std::string& route) {
  Result<PrincipalPtr> who = Unauthenticated("");
  if (auto fast = auth_->AuthenticateFast(authorization)) {
    who = std::move(*fast);
  } else {
    auto promise = std::make_shared<std::promise<Result<PrincipalPtr>>>();
    auto answer = promise->get_future();
    auth_->Authenticate(authorization,
                        [promise](Result<PrincipalPtr> r) { promise->set_value(std::move(r)); });
    who = answer.get();
  }
  Status s = Status::Ok();
  std::string object = model.empty() ? "" : "deployment:" + model;
  if (!who.ok()) {
    s = who.status();
  } else if ((*who)->kind == Principal::Kind::kAgent) {
    s = PermissionDenied("An agent token is valid only on agent endpoints.");
  } else if (!model.empty() &&
             !Allows(auth_->Effective(**who, ObjectKind::kDeployment, model), Permission::kRead)) {
    s = PermissionDenied("Permission denied: READ on deployment '" + model.substr(0, 256) + "' is required.");
  }
  if (!s.ok()) {
    AuditRecord a;
    a.principal = who.ok() ? (*who)->Name() : "anonymous";
    a.method = "GRPC";
    a.route = route;
    a.object = object;
    a.status = s.code() == StatusCode::kUnauthenticated ? 401 : 403;
    a.outcome = "denied";
    a.remote_addr = peer;
    auth_->audit()->Append(std::move(a));
  }
  return s;
}

}  // namespace tamga
