// AccessControl's decision for one request under one rule (Check) and the lookups it needs: the object ids a
// request names (query, JSON body, path), a run's experiment, a registry copy's model, a version source's
// owner. Split from access_control.cc, which holds the gate's flow (authenticate, decide, audit).
#include <simdjson.h>

#include <algorithm>

#include "artifacts/artifact_path.h"
#include "core/json_parse.h"
#include "http/access_control.h"
#include "http/request_fields.h"
#include "registry/model_uri.h"

namespace tamga {
namespace {

// The id a request names under `keys` (in priority order; an empty string counts as absent, as in the
// handlers' RunIdOf) when the body is a JSON object, read without building the document (simdjson on demand):
// the log-metric/log-batch hot path reads its run id here. Every top-level field is visited: a key of `keys`
// that appears twice is refused, since parsers disagree on which duplicate wins and the check must judge the
// object the handler acts on. nullopt when the body is not a JSON object (the general path decides).
std::optional<Result<std::string>> FastTopLevelId(std::string_view body,
                                                  const std::vector<std::string>& keys) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  std::vector<std::optional<std::string>> found(keys.size());
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (key != keys[i]) continue;
      if (found[i])
        return Result<std::string>(InvalidArgument("Duplicate field '" + keys[i] + "' in the request body."));
      std::string_view v;
      if (field.value().get_string().get(v)) return std::nullopt;  // not a string: the general path explains
      found[i] = std::string(v);
    }
  }
  for (auto& f : found) {
    if (f && !f->empty()) return Result<std::string>(std::move(*f));
  }
  return std::nullopt;
}

// Every value of the first present field of `keys`, from the JSON body (or the query string for GET, and
// for bodies that are not JSON). Empty when none is present.
Result<std::vector<std::string>> FieldValues(const HttpRequest& req, const std::vector<std::string>& keys) {
  std::vector<RequestFields> sources;
  if (req.method == HttpMethod::kGet || req.method == HttpMethod::kHead) {
    TAMGA_ASSIGN_OR_RETURN(auto q, RequestFields::FromQueryString(req.query));
    sources.push_back(std::move(q));
  } else {
    auto body = RequestFields::From(req);
    if (body.ok()) sources.push_back(std::move(*body));
    if (!req.query.empty()) {
      auto q = RequestFields::FromQueryString(req.query);
      if (q.ok()) sources.push_back(std::move(*q));
    }
    if (sources.empty()) return body.status();
  }
  // The first key with a non-empty value wins, as in the handlers (run_id, else run_uuid).
  for (const auto& f : sources) {
    for (const auto& k : keys) {
      if (!f.Has(k.c_str())) continue;
      TAMGA_ASSIGN_OR_RETURN(auto v, f.StringList(k.c_str()));
      bool all_empty = true;
      for (const auto& x : v) all_empty = all_empty && x.empty();
      if (!all_empty) return v;
    }
  }
  return std::vector<std::string>{};
}

Status Missing(const std::vector<std::string>& keys) {
  return InvalidArgument("Missing value for required parameter '" +
                         (keys.empty() ? std::string("id") : keys[0]) + "'.");
}

Status Denied(Permission need, const std::string& what) {
  return PermissionDenied(std::string("Permission denied: ") + PermissionName(need) + " on " + what +
                          " is required.");
}

}  // namespace

Result<std::string> AccessControl::ExperimentOfRun(const std::string& run_id) {
  {
    MutexLock l(&run_mu_);
    auto it = run_experiment_.find(run_id);
    if (it != run_experiment_.end()) return it->second;
  }
  TAMGA_ASSIGN_OR_RETURN(RunInfo info, store_->GetRunInfo(run_id));
  MutexLock l(&run_mu_);
  if (run_experiment_.size() >= 100000) run_experiment_.clear();
  run_experiment_[run_id] = info.experiment_id;
  return info.experiment_id;
}

// Not cached: a rename changes the owner's name, and the check must use the current one.
Result<std::string> AccessControl::ModelOfRegistryCopy(const std::string& id) {
  return store_->registry().ModelOfStorageLocation("mlflow-artifacts:/_registry/" + id);
}

Status AccessControl::CheckSourceReadable(const Principal& who, const std::string& source) {
  auto read = [&](ObjectKind kind, const std::string& id, const char* what) -> Status {
    if (Allows(auth_->Effective(who, kind, id), Permission::kRead)) return Status::Ok();
    return Denied(Permission::kRead,
                  std::string(what) + " '" + id.substr(0, 256) + "' (the version's source)");
  };
  if (auto runs = ParseRunsUri(source)) {
    auto exp = ExperimentOfRun(runs->run_id);
    return exp.ok() ? read(ObjectKind::kExperiment, *exp, "experiment") : Status::Ok();
  }
  if (source.rfind("models:/", 0) == 0) {
    auto uri = ParseModelUri(source);
    if (!uri.ok()) return Status::Ok();  // the handler explains
    if (uri->kind == ModelUri::Kind::kLoggedModel) {
      auto m = store_->registry().GetLoggedModel(uri->model_id);
      return m.ok() ? read(ObjectKind::kExperiment, m->experiment_id, "experiment") : Status::Ok();
    }
    return read(ObjectKind::kRegisteredModel, uri->name, "registered model");
  }
  if (auto blob = ProxiedBlobPath(source)) {
    std::string first = blob->substr(0, blob->find('/'));
    if (first.empty())
      return who.is_admin ? Status::Ok()
                          : PermissionDenied("Permission denied: that source is the whole artifact store.");
    if (first == "_registry") {
      std::string rest = blob->size() > 10 ? blob->substr(10) : "";
      auto model = ModelOfRegistryCopy(rest.substr(0, rest.find('/')));
      if (!model.ok())
        return who.is_admin ? Status::Ok() : PermissionDenied("Permission denied: unknown registry copy.");
      return read(ObjectKind::kRegisteredModel, *model, "registered model");
    }
    if (first == "tamga-code")
      return who.is_admin ? Status::Ok()
                          : PermissionDenied("Permission denied: shipped job code is not a model source.");
    return read(ObjectKind::kExperiment, first, "experiment");
  }
  return Status::Ok();  // a local path (checked against run_id's artifacts by the handler) or another store
}

Status AccessControl::Check(const HttpRequest& req, const AccessRule& rule, std::string* object) {
  using K = AccessRule::Kind;
  const Principal& who = *req.principal;
  auto need_on = [&](ObjectKind kind, const std::string& id, const char* what) -> Status {
    *object = std::string(what) + ":" + id;
    if (Allows(auth_->Effective(who, kind, id), rule.need)) return Status::Ok();
    return Denied(rule.need, std::string(what) + " '" + id.substr(0, 256) + "'");
  };
  // The ids the rule's fields name (the fallback when none is present).
  auto ids = [&]() -> Result<std::vector<std::string>> {
    if (req.method == HttpMethod::kPost && (rule.kind == K::kRun || rule.kind == K::kModel)) {
      if (auto v = FastTopLevelId(req.body, rule.fields)) {
        TAMGA_ASSIGN_OR_RETURN(std::string id, std::move(*v));
        return std::vector<std::string>{std::move(id)};
      }
    }
    TAMGA_ASSIGN_OR_RETURN(auto v, FieldValues(req, rule.fields));
    if (v.empty() && !rule.fallback.empty()) v.push_back(rule.fallback);
    return v;
  };
  auto required = [&]() -> Result<std::vector<std::string>> {
    TAMGA_ASSIGN_OR_RETURN(auto v, ids());
    if (v.empty()) return Missing(rule.fields);
    return v;
  };

  switch (rule.kind) {
    case K::kPublic:
    case K::kMetrics:
    case K::kAuthenticated:
      return Status::Ok();
    case K::kCreateExperiment: {
      if (who.is_admin) return Status::Ok();
      auto loc = FieldValues(req, {"artifact_location"});
      if (loc.ok() && !loc->empty() && !(*loc)[0].empty()) {
        return PermissionDenied("Choosing an experiment's artifact_location needs an admin when auth is on.");
      }
      return Status::Ok();
    }
    case K::kAdmin:
      return who.is_admin ? Status::Ok()
                          : PermissionDenied("Permission denied: this endpoint is for admins.");
    case K::kAgent: {
      if (who.is_admin) return Status::Ok();
      if (who.kind != Principal::Kind::kAgent) {
        return PermissionDenied("Permission denied: this endpoint is for agents (an agent token).");
      }
      // The queues an agent reports (register, heartbeat, lease: {"report": {"queues": [...]}}) must be its
      // token's.
      std::vector<std::string> named;
      if (auto body = RequestFields::From(req); body.ok()) {
        if (auto top = body->StringList("queues"); top.ok()) named = *top;
        if (auto report = body->OptObject("report"); report.ok() && *report) {
          auto nested = (*report)->StringList("queues");
          if (!nested.ok()) return nested.status();
          named.insert(named.end(), nested->begin(), nested->end());
        }
      }
      {
        const std::vector<std::string>* queues = &named;
        for (const auto& q : *queues) {
          if (std::find(who.agent_queues.begin(), who.agent_queues.end(), q) == who.agent_queues.end()) {
            *object = "queue:" + q;
            return PermissionDenied("Permission denied: this agent token does not serve queue '" +
                                    q.substr(0, 128) + "'.");
          }
        }
      }
      return Status::Ok();
    }
    case K::kJobAction: {
      std::string rest = req.path_params.empty() ? "" : req.path_params[0];
      size_t slash = rest.find('/');
      std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
      *object = "job:" + rest.substr(0, std::min<size_t>(slash, 64));
      if (who.is_admin) return Status::Ok();
      // Abort: a signed-in user; the route lets the job's submitter or a MANAGE holder on its queue do it.
      if (action == "abort") {
        if (who.kind == Principal::Kind::kAgent)
          return PermissionDenied("Permission denied: agents do not abort jobs.");
        return Status::Ok();
      }
      if (who.kind == Principal::Kind::kAgent) return Status::Ok();
      return PermissionDenied("Permission denied: this endpoint is for agents (an agent token).");
    }
    case K::kSelf: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      *object = "user:" + v[0];
      if (who.is_admin || v[0] == who.username) return Status::Ok();
      return PermissionDenied("Permission denied: only an admin may act on another user.");
    }
    case K::kExperiment: {
      TAMGA_ASSIGN_OR_RETURN(auto v, ids());
      bool is_list = !rule.fields.empty() && rule.fields[0].size() > 4 &&
                     rule.fields[0].compare(rule.fields[0].size() - 4, 4, "_ids") == 0;
      if (v.empty() && !is_list) return Missing(rule.fields);
      for (const auto& id : v) TAMGA_RETURN_IF_ERROR(need_on(ObjectKind::kExperiment, id, "experiment"));
      return Status::Ok();
    }
    case K::kExperimentByName: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      auto e = store_->GetExperimentByName(v[0]);
      if (!e.ok()) return Status::Ok();  // the handler answers RESOURCE_DOES_NOT_EXIST
      return need_on(ObjectKind::kExperiment, e->experiment_id, "experiment");
    }
    case K::kRun:
    case K::kRuns: {
      TAMGA_ASSIGN_OR_RETURN(auto v, rule.kind == K::kRun ? required() : ids());
      for (const auto& run_id : v) {
        auto exp = ExperimentOfRun(run_id);
        if (!exp.ok()) continue;  // the handler answers RESOURCE_DOES_NOT_EXIST
        TAMGA_RETURN_IF_ERROR(need_on(ObjectKind::kExperiment, *exp, "experiment"));
        *object = "run:" + run_id;
      }
      return Status::Ok();
    }
    case K::kArtifactPath: {
      std::string raw;
      if (!req.path_params.empty()) {
        raw = req.path_params[0];
      } else {
        TAMGA_ASSIGN_OR_RETURN(auto v, ids());
        if (!v.empty()) raw = v[0];
      }
      auto decoded = PercentDecode(raw, false);
      std::string path = decoded ? *decoded : raw;
      while (!path.empty() && path[0] == '/') path.erase(0, 1);
      std::string first = path.substr(0, path.find('/'));
      *object = "artifact:" + path.substr(0, 256);
      // Shipped job code (content-addressed, verified by the agent): any signed-in user stores it, agents
      // read it.
      if (first == "tamga-code") {
        if (rule.need != Permission::kManage || who.is_admin) return Status::Ok();
        return PermissionDenied("Permission denied: only an admin deletes shipped job code.");
      }
      if (who.kind == Principal::Kind::kAgent) {
        return PermissionDenied("An agent token is valid only on agent endpoints and shipped job code.");
      }
      if (first.empty()) {
        return who.is_admin ? Status::Ok()
                            : PermissionDenied("Permission denied: listing the artifact root is for admins.");
      }
      // Registered model copies live under _registry/<random id>: reachable only through a download URI that
      // the model's READ permission hands out; writes there are refused by the route itself.
      if (first == "_registry") {
        std::string rest = path.size() > 10 ? path.substr(10) : "";
        std::string copy = rest.substr(0, rest.find('/'));
        if (who.is_admin) return Status::Ok();
        if (copy.empty())
          return PermissionDenied("Permission denied: listing the registry's copies is for admins.");
        auto model = ModelOfRegistryCopy(copy);
        if (!model.ok()) return PermissionDenied("Permission denied: unknown registry copy.");
        return need_on(ObjectKind::kRegisteredModel, *model, "registered model");
      }
      return need_on(ObjectKind::kExperiment, first, "experiment");
    }
    case K::kModel: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      return need_on(ObjectKind::kRegisteredModel, v[0], "registered model");
    }
    case K::kModelUri: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      auto uri = ParseModelUri(v[0]);
      if (!uri.ok()) return Status::Ok();  // the handler explains the URI error
      if (uri->kind == ModelUri::Kind::kLoggedModel) {
        auto m = store_->registry().GetLoggedModel(uri->model_id);
        if (!m.ok()) return Status::Ok();
        return need_on(ObjectKind::kExperiment, m->experiment_id, "experiment");
      }
      return need_on(ObjectKind::kRegisteredModel, uri->name, "registered model");
    }
    case K::kLineage: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      const std::string& uri = v[0];
      if (uri.rfind("runs:/", 0) == 0) {
        std::string run_id =
            uri.substr(6, uri.find('/', 6) == std::string::npos ? std::string::npos : uri.find('/', 6) - 6);
        auto info = store_->GetRunInfo(run_id);
        if (!info.ok()) return Status::Ok();  // the handler answers "not found"
        return need_on(ObjectKind::kExperiment, info->experiment_id, "experiment");
      }
      if (uri.rfind("models:/", 0) == 0) {
        auto parsed = ParseModelUri(uri);
        if (!parsed.ok()) return Status::Ok();
        if (parsed->kind == ModelUri::Kind::kLoggedModel) {
          auto m = store_->registry().GetLoggedModel(parsed->model_id);
          return m.ok() ? need_on(ObjectKind::kExperiment, m->experiment_id, "experiment") : Status::Ok();
        }
        return need_on(ObjectKind::kRegisteredModel, parsed->name, "registered model");
      }
      std::string ref = uri.rfind("tamga-data://", 0) == 0 ? uri.substr(13) : uri;
      return need_on(ObjectKind::kDataset, ref.substr(0, ref.find('@')), "dataset");
    }
    case K::kDataset: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      return need_on(ObjectKind::kDataset, v[0], "dataset");
    }
    case K::kQueue: {
      TAMGA_ASSIGN_OR_RETURN(auto v, required());
      return need_on(ObjectKind::kQueue, v[0], "queue");
    }
    case K::kGrant: {
      TAMGA_ASSIGN_OR_RETURN(auto kind_name, FieldValues(req, {"object_kind"}));
      TAMGA_ASSIGN_OR_RETURN(auto id, FieldValues(req, {"object_id"}));
      if (kind_name.empty()) return Missing({"object_kind"});
      if (id.empty()) return Missing({"object_id"});
      TAMGA_ASSIGN_OR_RETURN(ObjectKind kind, ParseObjectKind(kind_name[0]));
      if (kind == ObjectKind::kCapability && !who.is_admin) {
        *object = "capability:" + id[0].substr(0, 64);
        return PermissionDenied("Permission denied: capabilities are granted by admins.");
      }
      return need_on(kind, id[0], ObjectKindName(kind));
    }
    case K::kModelVersionCreate: {
      TAMGA_ASSIGN_OR_RETURN(auto name, required());
      TAMGA_RETURN_IF_ERROR(need_on(ObjectKind::kRegisteredModel, name[0], "registered model"));
      if (who.is_admin) return Status::Ok();
      TAMGA_ASSIGN_OR_RETURN(auto run_id, FieldValues(req, {"run_id"}));
      if (!run_id.empty()) {
        auto exp = ExperimentOfRun(run_id[0]);
        if (exp.ok() && !Allows(auth_->Effective(who, ObjectKind::kExperiment, *exp), Permission::kRead)) {
          return Denied(Permission::kRead, "experiment '" + *exp + "' (the version's run)");
        }
      }
      TAMGA_ASSIGN_OR_RETURN(auto source, FieldValues(req, {"source"}));
      for (const auto& src : source) TAMGA_RETURN_IF_ERROR(CheckSourceReadable(who, src));
      return Status::Ok();
    }
    case K::kDeploymentPut: {
      TAMGA_ASSIGN_OR_RETURN(auto name, FieldValues(req, {"name"}));
      TAMGA_ASSIGN_OR_RETURN(auto model, FieldValues(req, {"model_name"}));
      TAMGA_ASSIGN_OR_RETURN(auto target, FieldValues(req, {"target"}));
      if (name.empty()) return Missing({"name"});
      *object = "deployment:" + name[0].substr(0, 64);
      if (who.is_admin) return Status::Ok();
      auto existing = store_->registry().GetDeployment(name[0]);
      if (existing.ok() &&
          !Allows(auth_->Effective(who, ObjectKind::kDeployment, name[0]), Permission::kManage)) {
        return Denied(Permission::kManage, "deployment '" + name[0].substr(0, 64) + "'");
      }
      // Where and what runs in the cluster, and where the pod sends its token: the defaults (or what the
      // deployment already has) for everyone, anything else with the configure_kubernetes capability.
      if (!auth_->HasCapability(who, kCapabilityConfigureKubernetes)) {
        auto before = existing.ok() ? ParseJson(existing->spec) : Result<nlohmann::json>(nlohmann::json());
        static const std::vector<std::pair<std::string, std::string>> kGuarded = {
            {"namespace", "default"},
            {"image", ""},
            {"token_secret", "tamga-serving-token"},
            {"ingress_host", ""},
            {"ingress_class", "nginx"},
            {"tracking_uri", "http://tamga:5000"}};
        for (const auto& [field, dflt] : kGuarded) {
          TAMGA_ASSIGN_OR_RETURN(auto v, FieldValues(req, {field}));
          if (v.empty() || v[0] == dflt) continue;
          if (before.ok() && before->is_object() && before->contains(field) && (*before)[field].is_string() &&
              (*before)[field].get<std::string>() == v[0])
            continue;
          return PermissionDenied("Permission denied: setting a deployment's '" + field +
                                  "' needs the capability 'configure_kubernetes', which an admin grants.");
        }
      }
      // Deploying a model hands out its files: READ on it.
      if (!model.empty() &&
          !Allows(auth_->Effective(who, ObjectKind::kRegisteredModel, model[0]), Permission::kRead)) {
        return Denied(Permission::kRead, "registered model '" + model[0].substr(0, 256) + "'");
      }
      if (!target.empty() && target[0] == "local" && !auth_->HasCapability(who, kCapabilityRunCode)) {
        return PermissionDenied(
            "Permission denied: a deployment with target 'local' runs the model's code inside the server; it "
            "needs the capability 'run_code_on_server', which an admin grants.");
      }
      return Status::Ok();
    }
    case K::kDeployment: {
      std::string rest = req.path_params.empty() ? "" : req.path_params[0];
      std::string name = rest.substr(0, rest.find('/'));
      return need_on(ObjectKind::kDeployment, name, "deployment");
    }
    case K::kServedModel: {
      std::string rest = req.path_params.empty() ? "" : req.path_params[0];
      std::string name = rest.substr(0, rest.find('/'));
      return need_on(ObjectKind::kDeployment, name, "deployment");
    }
    case K::kWebhook: {
      std::string model;
      if (req.path_params.empty()) {  // create: the scope is in the body
        TAMGA_ASSIGN_OR_RETURN(auto v, FieldValues(req, {"model_name"}));
        if (!v.empty()) model = v[0];
        *object = "webhook:new";
      } else {
        std::string rest = req.path_params[0];
        std::string id = rest.substr(0, rest.find('/'));
        *object = "webhook:" + id.substr(0, 64);
        if (who.is_admin) return Status::Ok();
        auto hook = store_->registry().GetWebhook(id);
        if (!hook.ok()) return PermissionDenied("Permission denied: unknown webhook.");
        model = hook->model_name;
      }
      if (who.is_admin) return Status::Ok();
      if (model.empty())
        return PermissionDenied("Permission denied: a global webhook (no model_name) is for admins.");
      return need_on(ObjectKind::kRegisteredModel, model, "registered model");
    }
    case K::kLoggedModel: {
      std::string rest = req.path_params.empty() ? "" : req.path_params[0];
      std::string id = rest.substr(0, rest.find('/'));
      if (id == "search") {
        TAMGA_ASSIGN_OR_RETURN(auto v, FieldValues(req, {"experiment_ids"}));
        for (const auto& e : v) TAMGA_RETURN_IF_ERROR(need_on(ObjectKind::kExperiment, e, "experiment"));
        return Status::Ok();
      }
      auto m = store_->registry().GetLoggedModel(id);
      if (!m.ok()) return Status::Ok();  // the handler answers RESOURCE_DOES_NOT_EXIST
      return need_on(ObjectKind::kExperiment, m->experiment_id, "experiment");
    }
  }
  return PermissionDenied("Permission denied.");
}

}  // namespace tamga
