// Job queues API (/api/2.0/tamga/queues, /jobs, /agents). Users submit, list, show, abort and follow logs;
// agents register, lease (long-poll), heartbeat, and report start, logs and the outcome. Errors use the
// MLflow error shape.
#include <nlohmann/json.hpp>

#include "core/json_writer.h"
#include "http/routes/route_context.h"
#include "jobs/job_service.h"

namespace tamga {
namespace {

constexpr const char* kBase = "/api/2.0/tamga";

Result<nlohmann::json> Body(const HttpRequest& req) {
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

// An optional integer query parameter in [lo, hi] (query strings parsed and decoded by RequestFields).
Result<int64_t> IntParam(const RequestFields& f, const char* key, int64_t def, int64_t lo, int64_t hi) {
  TAMGA_ASSIGN_OR_RETURN(auto v, f.OptInt(key));
  if (!v) return def;
  if (*v < lo || *v > hi) {
    return InvalidArgument(std::string("query parameter '") + key + "' must be an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  return *v;
}

HttpResponse JobResponse(const Job& j) { return HttpResponse::Json("{\"job\":" + JobJson(j) + "}"); }

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

std::string QueueJson(const QueueSummary& q) {
  nlohmann::ordered_json o;
  o["name"] = q.queue.name;
  o["max_concurrency"] = q.queue.max_concurrency;
  o["strategy"] = q.queue.strategy;
  o["created_ms"] = q.queue.created_ms;
  o["queued"] = q.queued;
  o["running"] = q.running;
  o["agents"] = q.agents;
  return o.dump();
}

}  // namespace

void RegisterJobRoutes(Router& router, const RouteContext& ctx) {
  JobService* jobs = ctx.jobs;
  const std::string base = kBase;

  // ---- queues
  router.Add(HttpMethod::kPost, base + "/queues", [jobs](HttpRequest& req, Responder respond) {
    auto b = Body(req);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    QueueInfo q;
    if (!b->contains("name") || !(*b)["name"].is_string()) return respond(ErrorResponse(InvalidArgument("field 'name' is required")));
    q.name = (*b)["name"].get<std::string>();
    if (b->contains("max_concurrency")) {
      if (!(*b)["max_concurrency"].is_number_integer()) return respond(ErrorResponse(InvalidArgument("field 'max_concurrency' must be an integer")));
      q.max_concurrency = (*b)["max_concurrency"].get<int>();
    }
    if (b->contains("strategy")) {
      if (!(*b)["strategy"].is_string()) return respond(ErrorResponse(InvalidArgument("field 'strategy' must be a string")));
      q.strategy = (*b)["strategy"].get<std::string>();
    }
    auto r = jobs->PutQueue(q);
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    for (const auto& s : jobs->ListQueues()) {
      if (s.queue.name == q.name) return respond(HttpResponse::Json("{\"queue\":" + QueueJson(s) + "}"));
    }
    respond(ErrorResponse(Internal("queue vanished")));
  });
  router.Add(HttpMethod::kGet, base + "/queues", [jobs](HttpRequest&, Responder respond) {
    std::string body = "{\"queues\":[";
    bool first = true;
    for (const auto& q : jobs->ListQueues()) {
      body += (first ? "" : ",") + QueueJson(q);
      first = false;
    }
    respond(HttpResponse::Json(body + "]}"));
  });

  // ---- jobs (users)
  router.Add(HttpMethod::kPost, base + "/jobs", [jobs](HttpRequest& req, Responder respond) {
    auto spec = ParseJobSpec(req.body);
    if (!spec.ok()) return respond(ErrorResponse(spec.status()));
    jobs->Submit(std::move(*spec), [respond](Result<Job> j) { respond(j.ok() ? JobResponse(*j) : ErrorResponse(j.status())); });
  });
  router.Add(HttpMethod::kPost, base + "/jobs/batch", [jobs](HttpRequest& req, Responder respond) {
    auto specs = ParseJobSpecBatch(req.body);
    if (!specs.ok()) return respond(ErrorResponse(specs.status()));
    jobs->SubmitBatch(std::move(*specs), [respond](Result<std::vector<Job>> list) {
      if (!list.ok()) return respond(ErrorResponse(list.status()));
      std::string body = "{\"jobs\":[";
      for (size_t i = 0; i < list->size(); ++i) body += (i ? "," : "") + JobJson((*list)[i]);
      respond(HttpResponse::Json(body + "]}"));
    });
  });
  router.Add(HttpMethod::kGet, base + "/jobs", [jobs](HttpRequest& req, Responder respond) {
    auto f = RequestFields::From(req);
    if (!f.ok()) return respond(ErrorResponse(f.status()));
    JobListQuery q;
    auto queue = f->OptString("queue");
    auto state = f->OptString("state");
    if (!queue.ok()) return respond(ErrorResponse(queue.status()));
    if (!state.ok()) return respond(ErrorResponse(state.status()));
    q.queue = queue->value_or("");
    q.state = state->value_or("");
    if (!q.state.empty() && !ParseJobState(q.state)) return respond(ErrorResponse(InvalidArgument("unknown state '" + q.state.substr(0, 32) + "'")));
    auto max = IntParam(*f, "max_results", 100, 1, 10000);
    if (!max.ok()) return respond(ErrorResponse(max.status()));
    q.max_results = *max;
    auto list = jobs->List(q);
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    std::string body = "{\"jobs\":[";
    for (size_t i = 0; i < list->size(); ++i) body += (i ? "," : "") + JobJson((*list)[i]);
    respond(HttpResponse::Json(body + "]}"));
  });
  router.AddPrefix(HttpMethod::kGet, base + "/jobs/", [jobs](HttpRequest& req, Responder respond) {
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
    jobs->ReadLogs(p->id, *after, *wait, [respond](Result<LogsPage> page) {
      if (!page.ok()) return respond(ErrorResponse(page.status()));
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      w.Key("chunks");
      w.BeginArray();
      for (const auto& c : page->chunks) {
        w.BeginObject();
        w.FieldInt("seq", c.seq);
        w.Field("stream", c.stream);
        w.Field("data", c.data);
        w.EndObject();
      }
      w.EndArray();
      w.FieldInt("next_after", page->next_after);
      w.FieldBool("done", page->done);
      w.EndObject();
      respond(HttpResponse::Json(std::move(body)));
    });
  });
  router.AddPrefix(HttpMethod::kPost, base + "/jobs/", [jobs](HttpRequest& req, Responder respond) {
    auto p = ParseJobPath(req);
    if (!p.ok()) return respond(ErrorResponse(p.status()));
    if (p->action == "abort") {
      auto j = jobs->Abort(p->id);
      return respond(j.ok() ? JobResponse(*j) : ErrorResponse(j.status()));
    }
    auto b = Body(req);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    std::string agent = b->value("agent_id", "");
    if (agent.empty() || !(*b)["agent_id"].is_string()) return respond(ErrorResponse(InvalidArgument("field 'agent_id' is required")));
    if (p->action == "started") {
      Status s = jobs->Started(p->id, agent);
      return respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
    }
    if (p->action == "logs") {
      if (!b->contains("data") || !(*b)["data"].is_string()) return respond(ErrorResponse(InvalidArgument("field 'data' must be a string")));
      auto seq = jobs->AppendLog(p->id, agent, b->value("stream", "stdout"), (*b)["data"].get<std::string>());
      return respond(seq.ok() ? HttpResponse::Json("{\"seq\":" + std::to_string(*seq) + "}") : ErrorResponse(seq.status()));
    }
    if (p->action == "finish") {
      auto st = ParseJobState(b->value("state", ""));
      if (!st) return respond(ErrorResponse(InvalidArgument("field 'state' must be succeeded, failed, aborted or lost")));
      std::optional<int> code;
      if (b->contains("exit_code") && (*b)["exit_code"].is_number_integer()) code = (*b)["exit_code"].get<int>();
      std::string reason = b->contains("reason") && (*b)["reason"].is_string() ? (*b)["reason"].get<std::string>() : "";
      Status s = jobs->Finish(p->id, agent, *st, reason, code);
      return respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
    }
    respond(ErrorResponse(NotFound("unknown job route")));
  });

  // ---- agents
  router.Add(HttpMethod::kPost, base + "/agents/register", [jobs](HttpRequest& req, Responder respond) {
    auto b = Body(req);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    auto report = ParseAgentReport(b->contains("report") ? (*b)["report"].dump() : "{}");
    if (!report.ok()) return respond(ErrorResponse(report.status()));
    std::string id = b->contains("agent_id") && (*b)["agent_id"].is_string() ? (*b)["agent_id"].get<std::string>() : "";
    if (id.size() > 64) return respond(ErrorResponse(InvalidArgument("field 'agent_id' is longer than 64")));
    auto r = jobs->RegisterAgent(id, std::move(*report));
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(HttpResponse::Json("{\"agent_id\":\"" + *r + "\"}"));
  });
  router.Add(HttpMethod::kGet, base + "/agents", [jobs](HttpRequest&, Responder respond) {
    std::string body = "{\"agents\":[";
    bool first = true;
    for (const auto& a : jobs->ListAgents()) {
      nlohmann::ordered_json o;
      o["id"] = a.id;
      o["live"] = a.live;
      o["last_seen_ms"] = a.last_seen_ms;
      o["jobs"] = a.jobs;
      o["report"] = nlohmann::ordered_json::parse(AgentReportJson(a.report));
      body += (first ? "" : ",") + o.dump();
      first = false;
    }
    respond(HttpResponse::Json(body + "]}"));
  });
  router.AddPrefix(HttpMethod::kPost, base + "/agents/", [jobs](HttpRequest& req, Responder respond) {
    std::string rest = req.path_params.empty() ? "" : req.path_params[0];
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return respond(ErrorResponse(NotFound("unknown agent route")));
    std::string id = rest.substr(0, slash), action = rest.substr(slash + 1);
    auto b = Body(req);
    if (!b.ok()) return respond(ErrorResponse(b.status()));
    auto report = ParseAgentReport(b->contains("report") ? (*b)["report"].dump() : "{}");
    if (!report.ok()) return respond(ErrorResponse(report.status()));
    if (action == "lease") {
      int64_t wait = b->contains("wait_ms") && (*b)["wait_ms"].is_number_integer() ? (*b)["wait_ms"].get<int64_t>() : 0;
      return jobs->Lease(id, std::move(*report), std::clamp<int64_t>(wait, 0, 60000), [respond](Result<std::optional<Job>> j) {
        if (!j.ok()) return respond(ErrorResponse(j.status()));
        respond(HttpResponse::Json(*j ? "{\"job\":" + JobJson(**j) + "}" : std::string("{}")));
      });
    }
    if (action == "heartbeat") {
      auto abort = jobs->Heartbeat(id, std::move(*report));
      if (!abort.ok()) return respond(ErrorResponse(abort.status()));
      return respond(HttpResponse::Json("{\"abort\":" + nlohmann::json(*abort).dump() + "}"));
    }
    respond(ErrorResponse(NotFound("unknown agent route")));
  });
}

}  // namespace tamga
