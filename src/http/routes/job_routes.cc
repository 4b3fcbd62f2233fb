// Job queues API (/api/2.0/tamga/queues, /jobs, /agents). Users submit, list, show, abort and follow logs;
// agents register, lease (long-poll), heartbeat, and report start, logs and the outcome. Bodies are read
// through RequestFields (typed getters: a wrong type is a 400, never an exception) and answered through
// JsonWriter. Errors use the MLflow error shape.
#include <algorithm>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/routes/route_context.h"
#include "jobs/job_service.h"

namespace tamga {
namespace {

constexpr const char* kOwnerTag = "tamga.owner";  // the job's submitter (auth on), set by the server

// With auth on a job runs as its submitter (the `tamga.owner` tag the submit route sets): its lease hands the
// agent a token of the submitter's, named after the job, which the agent gives the job as
// MLFLOW_TRACKING_TOKEN; it is revoked when the job ends and expires anyway (the job's timeout + 1 h, else
// 7 days).
std::string MintJobToken(AuthService* auth, const Job& j) {
  auto owner = j.spec.tags.find(kOwnerTag);
  if (auth == nullptr || owner == j.spec.tags.end()) return "";
  auto user = auth->GetUser(owner->second);
  if (!user.ok()) return "";
  AuthService::CreateTokenRequest r;
  r.user_id = user->id;
  r.name = "job:" + j.id;
  r.expires_in_ms = j.spec.timeout_s > 0 ? j.spec.timeout_s * 1000 + 3600000 : int64_t{7} * 86400000;
  auto t = auth->CreateToken(r);
  if (!t.ok()) {
    TAMGA_LOG(kWarn, "cannot make the job's token", {{"job", j.id}, {"error", t.status().message()}});
    return "";
  }
  return t->secret;
}

void RevokeJobTokens(AuthService* auth, const std::string& job_id) {
  if (auth == nullptr) return;
  for (const auto& t : auth->ListTokens(std::nullopt)) {
    if (t.name == "job:" + job_id) (void)auth->RevokeToken(t.id);
  }
}

constexpr const char* kBase = "/api/2.0/tamga";

// Job and agent bodies: JSON objects; Content-Type is not enforced (curl -d users), the depth limit is.
Result<RequestFields> Body(const HttpRequest& req) { return RequestFields::FromJsonText(req.body); }

// Body fields of Tamga's own job and agent APIs are strict: no MLflow-style coercion of numbers to strings or
// strings to numbers. A present field of the wrong type is a 400 naming it.
Result<std::optional<std::string>> StrField(const RequestFields& b, const char* key) {
  auto it = b.raw().find(key);
  if (it == b.raw().end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidParamValue(key, *it);
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> RequiredStrField(const RequestFields& b, const char* key) {
  TAMGA_ASSIGN_OR_RETURN(auto v, StrField(b, key));
  if (!v || v->empty()) return MissingParam(key);
  return *v;
}

Result<int64_t> IntField(const RequestFields& b, const char* key, int64_t def, int64_t lo, int64_t hi) {
  auto it = b.raw().find(key);
  if (it == b.raw().end() || it->is_null()) return def;
  bool fits =
      it->is_number_integer() && !(it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX));
  int64_t v = fits ? it->get<int64_t>() : 0;
  if (!fits || v < lo || v > hi) {
    return InvalidArgument(std::string("field '") + key + "' must be an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  return v;
}

// An optional integer query parameter in [lo, hi] (query values are text).
Result<int64_t> IntParam(const RequestFields& f, const char* key, int64_t def, int64_t lo, int64_t hi) {
  TAMGA_ASSIGN_OR_RETURN(auto v, f.OptInt(key));
  if (!v) return def;
  if (*v < lo || *v > hi) {
    return InvalidArgument(std::string("field '") + key + "' must be an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  return *v;
}

// {"<field>": <job>} or a list of jobs under "jobs".
HttpResponse JobResponse(const Job& j, SecretView view = SecretView::kRedacted) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("job");
  w.Raw(JobJson(j, view));
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

HttpResponse JobListResponse(const std::vector<Job>& jobs) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("jobs");
  w.BeginArray();
  for (const auto& j : jobs) w.Raw(JobJson(j));
  w.EndArray();
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

// "/<id>[/<action>]" after the jobs prefix.
struct JobPath {
  std::string id;
  std::string action;
};

Result<JobPath> ParseJobPath(const HttpRequest& req) {
  std::string rest = req.path_params.empty() ? "" : req.path_params[0];
  JobPath p;
  size_t slash = rest.find('/');
  p.id = rest.substr(0, slash);
  if (slash != std::string::npos) p.action = rest.substr(slash + 1);
  if (p.id.empty() || p.id.size() > 64 || p.action.find('/') != std::string::npos) {
    return NotFound("unknown job route");
  }
  return p;
}

void WriteQueue(JsonWriter& w, const QueueSummary& q) {
  w.BeginObject();
  w.Field("name", q.queue.name);
  w.FieldInt("max_concurrency", q.queue.max_concurrency);
  w.Field("strategy", q.queue.strategy);
  w.FieldInt("created_ms", q.queue.created_ms);
  w.FieldInt("queued", q.queued);
  w.FieldInt("running", q.running);
  w.FieldInt("agents", q.agents);
  w.Key("quotas");
  w.BeginArray();
  for (const auto& quota : q.quotas) WriteQuota(w, quota);
  w.EndArray();
  w.EndObject();
}

Status PostQueue(JobService* jobs, const RequestFields& b, Responder respond) {
  QueueInfo q;
  TAMGA_ASSIGN_OR_RETURN(q.name, RequiredStrField(b, "name"));
  TAMGA_ASSIGN_OR_RETURN(int64_t conc, IntField(b, "max_concurrency", q.max_concurrency, 0, 1000000));
  q.max_concurrency = static_cast<int>(conc);
  TAMGA_ASSIGN_OR_RETURN(auto strategy, StrField(b, "strategy"));
  if (strategy) q.strategy = *strategy;
  TAMGA_RETURN_IF_ERROR(jobs->PutQueue(q).status());
  for (const auto& s : jobs->ListQueues()) {
    if (s.queue.name != q.name) continue;
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("queue");
    WriteQueue(w, s);
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
    return Status::Ok();
  }
  return Internal("queue vanished");
}

void WriteLogsPage(const LogsPage& page, std::string* body) {
  JsonWriter w(body);
  w.BeginObject();
  w.Key("chunks");
  w.BeginArray();
  for (const auto& c : page.chunks) {
    w.BeginObject();
    w.FieldInt("seq", c.seq);
    w.Field("stream", c.stream);
    w.Field("data", c.data);
    w.EndObject();
  }
  w.EndArray();
  w.FieldInt("next_after", page.next_after);
  w.FieldBool("done", page.done);
  w.EndObject();
}

// The agent's reports on a job it holds: started, logs, finish.
Status PostJobAction(JobService* jobs, AuthService* auth, const JobPath& p, const RequestFields& b,
                     Responder respond) {
  TAMGA_ASSIGN_OR_RETURN(std::string agent, RequiredStrField(b, "agent_id"));
  if (p.action == "started") {
    TAMGA_RETURN_IF_ERROR(jobs->Started(p.id, agent));
    respond(HttpResponse::Json("{}"));
    return Status::Ok();
  }
  if (p.action == "logs") {
    TAMGA_ASSIGN_OR_RETURN(auto data, StrField(b, "data"));
    if (!data) return InvalidArgument("field 'data' must be a string");
    TAMGA_ASSIGN_OR_RETURN(auto stream, StrField(b, "stream"));
    TAMGA_ASSIGN_OR_RETURN(int64_t seq, jobs->AppendLog(p.id, agent, stream.value_or("stdout"), *data));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.FieldInt("seq", seq);
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
    return Status::Ok();
  }
  if (p.action == "finish") {
    TAMGA_ASSIGN_OR_RETURN(auto state_name, StrField(b, "state"));
    auto st = ParseJobState(state_name.value_or(""));
    if (!st) return InvalidArgument("field 'state' must be succeeded, failed, aborted or lost");
    std::optional<int> code;
    if (b.Has("exit_code")) {
      TAMGA_ASSIGN_OR_RETURN(int64_t exit, IntField(b, "exit_code", 0, -1000000, 1000000));
      code = static_cast<int>(exit);
    }
    TAMGA_ASSIGN_OR_RETURN(auto reason, StrField(b, "reason"));
    TAMGA_RETURN_IF_ERROR(jobs->Finish(p.id, agent, *st, reason.value_or(""), code));
    RevokeJobTokens(auth, p.id);
    respond(HttpResponse::Json("{}"));
    return Status::Ok();
  }
  return NotFound("unknown job route");
}

Result<AgentReport> ReportOf(const RequestFields& b) {
  TAMGA_ASSIGN_OR_RETURN(auto report, b.OptObject("report"));
  return ParseAgentReport(report ? DumpJson(report->raw()) : "{}");
}

Status PostAgentAction(JobService* jobs, AuthService* auth, std::shared_ptr<void> ticket,
                       const std::string& rest, const RequestFields& b, Responder respond) {
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return NotFound("unknown agent route");
  std::string id = rest.substr(0, slash), action = rest.substr(slash + 1);
  TAMGA_ASSIGN_OR_RETURN(AgentReport report, ReportOf(b));
  if (action == "lease") {
    // A long-poll: the wait is clamped, and JobService answers a replaced poll at once.
    TAMGA_ASSIGN_OR_RETURN(int64_t wait, IntField(b, "wait_ms", 0, 0, INT64_MAX));
    if (!ticket) return TooManyLongPolls();
    jobs->Lease(id, std::move(report), std::min<int64_t>(wait, 60000),
                [respond, ticket, auth](Result<std::optional<Job>> j) {
                  if (!j.ok()) return respond(ErrorResponse(j.status()));
                  if (!*j) return respond(HttpResponse::Json("{}"));
                  // The lease is the one answer that carries the job's secrets: only the agent that will run
                  // it gets it.
                  HttpResponse r = JobResponse(**j, SecretView::kRevealed);
                  if (std::string token = MintJobToken(auth, **j); !token.empty()) {
                    auto body = ParseJson(r.body);
                    if (body.ok() && body->is_object()) {
                      (*body)["tracking_token"] = token;
                      r.body = DumpJson(*body);
                    }
                  }
                  respond(std::move(r));
                });
    return Status::Ok();
  }
  if (action == "heartbeat") {
    TAMGA_ASSIGN_OR_RETURN(std::vector<std::string> abort, jobs->Heartbeat(id, std::move(report)));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("abort");
    w.BeginArray();
    for (const auto& a : abort) w.String(a);
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
    return Status::Ok();
  }
  if (action == "deregister") {
    TAMGA_RETURN_IF_ERROR(jobs->Deregister(id));
    respond(HttpResponse::Json("{}"));
    return Status::Ok();
  }
  return NotFound("unknown agent route");
}

// Wraps a body handler: parse the body, run it, answer a returned error in the MLflow shape.
template <typename Fn>
Handler BodyHandler(Fn fn) {
  return [fn](HttpRequest& req, Responder respond) {
    auto b = Body(req);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    Status s = fn(req, *b, respond);
    if (!s.ok()) respond(ErrorResponse(s));
  };
}

}  // namespace

void RegisterJobRoutes(Router& router, const RouteContext& ctx) {
  JobService* jobs = ctx.jobs;
  const std::string base = kBase;

  // ---- queues
  router.Add(HttpMethod::kPost, base + "/queues",
             Forwarded(ctx, BodyHandler([jobs](HttpRequest&, const RequestFields& b, Responder respond) {
                         return PostQueue(jobs, b, std::move(respond));
                       })));
  router.Add(HttpMethod::kGet, base + "/queues", Forwarded(ctx, [jobs](HttpRequest&, Responder respond) {
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("queues");
               w.BeginArray();
               for (const auto& q : jobs->ListQueues()) WriteQueue(w, q);
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
             }));

  // ---- jobs (users)
  // With auth on the submitter owns the job (the tamga.owner tag, whatever the client sent) and needs EDIT on
  // the experiment its run goes to (the route's rule already asked for EDIT on the queue).
  auto own = [ctx](const HttpRequest& req, JobSpec* spec) -> Status {
    if (ctx.auth == nullptr || !req.principal) return Status::Ok();
    std::string exp = spec->experiment_id.empty() ? "0" : spec->experiment_id;
    if (!Allows(ctx.auth->Effective(*req.principal, ObjectKind::kExperiment, exp), Permission::kEdit)) {
      return PermissionDenied("Permission denied: EDIT on experiment '" + exp.substr(0, 64) +
                              "' is required to run a job in it.");
    }
    // tamga.* tags are the server's to set (owner, team): a client cannot claim them.
    for (auto it = spec->tags.begin(); it != spec->tags.end();) {
      it = it->first.rfind("tamga.", 0) == 0 ? spec->tags.erase(it) : std::next(it);
    }
    spec->tags[kOwnerTag] = req.principal->username;
    // Quotas: the job is charged to one of the submitter's teams (the one named, else the first with a quota
    // on the queue).
    const auto& teams = req.principal->teams;
    if (spec->team.empty()) {
      spec->team = ctx.jobs->QuotaTeam(spec->queue, teams);
    } else if (!req.principal->is_admin && std::find(teams.begin(), teams.end(), spec->team) == teams.end()) {
      return PermissionDenied("Permission denied: you are not a member of team '" +
                              std::string(Utf8Prefix(spec->team, 64)) + "'.");
    }
    return Status::Ok();
  };
  router.Add(HttpMethod::kPost, base + "/jobs",
             Forwarded(ctx, [jobs, own](HttpRequest& req, Responder respond) {
               auto spec = ParseJobSpec(req.body);
               if (!spec.ok()) return respond(ErrorResponse(spec.status()));
               if (Status s = own(req, &*spec); !s.ok()) return respond(ErrorResponse(s));
               jobs->Submit(std::move(*spec), [respond](Result<Job> j) {
                 respond(j.ok() ? JobResponse(*j) : ErrorResponse(j.status()));
               });
             }));
  router.Add(HttpMethod::kPost, base + "/jobs/batch",
             Forwarded(ctx, [jobs, own](HttpRequest& req, Responder respond) {
               auto specs = ParseJobSpecBatch(req.body);
               if (!specs.ok()) return respond(ErrorResponse(specs.status()));
               for (auto& spec : *specs) {
                 if (Status s = own(req, &spec); !s.ok()) return respond(ErrorResponse(s));
               }
               jobs->SubmitBatch(std::move(*specs), [respond](Result<std::vector<Job>> list) {
                 respond(list.ok() ? JobListResponse(*list) : ErrorResponse(list.status()));
               });
             }));
  router.Add(
      HttpMethod::kGet, base + "/jobs",
      Forwarded(ctx, FieldsHandler([jobs](const RequestFields& f, Responder respond) -> Status {
                  JobListQuery q;
                  TAMGA_ASSIGN_OR_RETURN(auto queue, f.OptString("queue"));
                  TAMGA_ASSIGN_OR_RETURN(auto state, f.OptString("state"));
                  q.queue = queue.value_or("");
                  q.state = state.value_or("");
                  if (!q.state.empty() && !ParseJobState(q.state))
                    return InvalidArgument("unknown state '" + std::string(Utf8Prefix(q.state, 32)) + "'");
                  TAMGA_ASSIGN_OR_RETURN(q.max_results, IntParam(f, "max_results", 100, 1, 10000));
                  TAMGA_ASSIGN_OR_RETURN(auto list, jobs->List(q));
                  respond(JobListResponse(list));
                  return Status::Ok();
                })));
  router.AddPrefix(HttpMethod::kGet, base + "/jobs/",
                   Forwarded(ctx, [jobs, ctx](HttpRequest& req, Responder respond) {
                     auto p = ParseJobPath(req);
                     if (!p.ok()) return respond(ErrorResponse(p.status()));
                     if (p->action.empty()) {
                       auto j = jobs->Get(p->id);
                       return respond(j.ok() ? JobResponse(*j) : ErrorResponse(j.status()));
                     }
                     if (p->action != "logs") return respond(ErrorResponse(NotFound("unknown job route")));
                     auto f = RequestFields::From(req);
                     if (!f.ok()) return respond(ErrorResponse(f.status()));
                     auto after = IntParam(*f, "after", 0, 0, INT64_MAX);
                     auto wait = IntParam(*f, "wait_ms", 0, 0, 60000);
                     if (!after.ok()) return respond(ErrorResponse(after.status()));
                     if (!wait.ok()) return respond(ErrorResponse(wait.status()));
                     std::shared_ptr<void> ticket;
                     if (*wait > 0) {
                       ticket = EnterLongPoll(ctx, req);
                       if (!ticket) return respond(ErrorResponse(TooManyLongPolls()));
                     }
                     jobs->ReadLogs(p->id, *after, *wait, [respond, ticket](Result<LogsPage> page) {
                       if (!page.ok()) return respond(ErrorResponse(page.status()));
                       std::string body;
                       WriteLogsPage(*page, &body);
                       respond(HttpResponse::Json(std::move(body)));
                     });
                   }));
  router.AddPrefix(
      HttpMethod::kPost, base + "/jobs/",
      Forwarded(
          ctx,
          BodyHandler([jobs, ctx](HttpRequest& req, const RequestFields& b, Responder respond) -> Status {
            TAMGA_ASSIGN_OR_RETURN(JobPath p, ParseJobPath(req));
            if (p.action == "abort") {
              if (ctx.auth && req.principal && !req.principal->is_admin) {
                TAMGA_ASSIGN_OR_RETURN(Job current, jobs->Get(p.id));
                auto owner = current.spec.tags.find(kOwnerTag);
                bool submitter = owner != current.spec.tags.end() && owner->second == req.principal->username;
                if (!submitter &&
                    !Allows(ctx.auth->Effective(*req.principal, ObjectKind::kQueue, current.spec.queue),
                            Permission::kManage)) {
                  return PermissionDenied(
                      "Permission denied: a job is aborted by its submitter or a MANAGE holder on "
                      "its queue.");
                }
              }
              TAMGA_ASSIGN_OR_RETURN(Job j, jobs->Abort(p.id));
              respond(JobResponse(j));
              return Status::Ok();
            }
            return PostJobAction(jobs, ctx.auth, p, b, std::move(respond));
          })));

  // ---- agents
  router.Add(
      HttpMethod::kPost, base + "/agents/register",
      Forwarded(ctx, BodyHandler([jobs](HttpRequest&, const RequestFields& b, Responder respond) -> Status {
                  TAMGA_ASSIGN_OR_RETURN(AgentReport report, ReportOf(b));
                  TAMGA_ASSIGN_OR_RETURN(auto id, StrField(b, "agent_id"));
                  if (id && id->size() > 64) return InvalidArgument("field 'agent_id' is longer than 64");
                  TAMGA_ASSIGN_OR_RETURN(std::string assigned,
                                         jobs->RegisterAgent(id.value_or(""), std::move(report)));
                  std::string body;
                  JsonWriter w(&body);
                  w.BeginObject();
                  w.Field("agent_id", assigned);
                  w.EndObject();
                  respond(HttpResponse::Json(std::move(body)));
                  return Status::Ok();
                })));
  router.Add(HttpMethod::kGet, base + "/agents", Forwarded(ctx, [jobs](HttpRequest&, Responder respond) {
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("agents");
               w.BeginArray();
               for (const auto& a : jobs->ListAgents()) {
                 w.BeginObject();
                 w.Field("id", a.id);
                 w.FieldBool("live", a.live);
                 w.FieldInt("last_seen_ms", a.last_seen_ms);
                 w.Key("jobs");
                 w.BeginArray();
                 for (const auto& id : a.jobs) w.String(id);
                 w.EndArray();
                 w.Key("report");
                 w.Raw(AgentReportJson(a.report));
                 w.EndObject();
               }
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
             }));
  router.AddPrefix(HttpMethod::kPost, base + "/agents/",
                   Forwarded(ctx, BodyHandler([jobs, ctx](HttpRequest& req, const RequestFields& b,
                                                          Responder respond) -> Status {
                               std::string rest = req.path_params.empty() ? "" : req.path_params[0];
                               return PostAgentAction(jobs, ctx.auth, EnterLongPoll(ctx, req), rest, b,
                                                      std::move(respond));
                             })));
}

}  // namespace tamga
