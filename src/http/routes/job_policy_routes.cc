// Resource tiers (/api/2.0/tamga/tiers) and team quotas on queues (/api/2.0/tamga/quotas): admins set them,
// every signed-in user reads them (docs/jobs.md, "Tiers and quotas").
#include "core/json_writer.h"
#include "core/utf8.h"
#include "http/routes/route_context.h"
#include "jobs/job_service.h"

namespace tamga {

void WriteTier(JsonWriter& w, const ResourceTier& t) {
  w.BeginObject();
  w.Field("name", t.name);
  w.FieldInt("cpus", t.resources.cpus);
  w.FieldInt("memory", t.resources.memory_bytes);
  w.FieldInt("gpus", t.resources.gpus);
  w.FieldInt("gpu_memory", t.resources.gpu_memory_bytes);
  if (!t.description.empty()) w.Field("description", t.description);
  w.EndObject();
}

void WriteQuota(JsonWriter& w, const QuotaSummary& s) {
  const TeamQuota& q = s.quota;
  w.BeginObject();
  w.Field("queue", q.queue);
  w.Field("team", q.team);
  w.FieldInt("max_gpus", q.max_gpus);
  w.FieldInt("max_running", q.max_running);
  w.FieldInt("max_queued", q.max_queued);
  if (!q.tier.empty()) {
    w.Field("tier", q.tier);
    w.FieldInt("count", q.tier_count);
  }
  w.Key("usage");
  w.BeginObject();
  w.FieldInt("gpus", s.usage.gpus);
  w.FieldInt("running", s.usage.running);
  w.FieldInt("queued", s.usage.queued);
  w.EndObject();
  w.EndObject();
}

void RegisterJobPolicyRoutes(Router& router, const RouteContext& ctx) {
  JobService* jobs = ctx.jobs;
  const std::string tiers = "/api/2.0/tamga/tiers";
  const std::string quotas = "/api/2.0/tamga/quotas";

  router.Add(HttpMethod::kGet, tiers, Forwarded(ctx, [jobs](HttpRequest&, Responder respond) {
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("tiers");
               w.BeginArray();
               for (const auto& t : jobs->ListTiers()) WriteTier(w, t);
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
             }));
  router.Add(HttpMethod::kPut, tiers, Forwarded(ctx, [jobs](HttpRequest& req, Responder respond) {
               auto tier = ParseResourceTier(req.body);
               if (!tier.ok()) return respond(ErrorResponse(tier.status()));
               auto put = jobs->PutTier(std::move(*tier));
               if (!put.ok()) return respond(ErrorResponse(put.status()));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("tier");
               WriteTier(w, *put);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
             }));
  router.AddPrefix(HttpMethod::kDelete, tiers + "/",
                   Forwarded(ctx, [jobs](HttpRequest& req, Responder respond) {
                     std::string name = req.path_params.empty() ? "" : req.path_params[0];
                     Status s = jobs->DeleteTier(name);
                     respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
                   }));

  router.Add(HttpMethod::kGet, quotas,
             Forwarded(ctx, FieldsHandler([jobs](const RequestFields& f, Responder respond) -> Status {
                         TAMGA_ASSIGN_OR_RETURN(auto queue, f.OptString("queue"));
                         std::string body;
                         JsonWriter w(&body);
                         w.BeginObject();
                         w.Key("quotas");
                         w.BeginArray();
                         for (const auto& q : jobs->ListQuotas(queue.value_or(""))) WriteQuota(w, q);
                         w.EndArray();
                         w.EndObject();
                         respond(HttpResponse::Json(std::move(body)));
                         return Status::Ok();
                       })));
  router.Add(HttpMethod::kPut, quotas, Forwarded(ctx, [jobs](HttpRequest& req, Responder respond) {
               auto q = jobs->PutQuota(req.body);
               if (!q.ok()) return respond(ErrorResponse(q.status()));
               for (const auto& s : jobs->ListQuotas(q->queue)) {
                 if (s.quota.team != q->team) continue;
                 std::string body;
                 JsonWriter w(&body);
                 w.BeginObject();
                 w.Key("quota");
                 WriteQuota(w, s);
                 w.EndObject();
                 return respond(HttpResponse::Json(std::move(body)));
               }
               respond(HttpResponse::Json("{}"));
             }));
  router.Add(HttpMethod::kDelete, quotas,
             Forwarded(ctx, FieldsHandler([jobs](const RequestFields& f, Responder respond) -> Status {
                         TAMGA_ASSIGN_OR_RETURN(std::string queue, f.RequiredString("queue"));
                         TAMGA_ASSIGN_OR_RETURN(std::string team, f.RequiredString("team"));
                         TAMGA_RETURN_IF_ERROR(jobs->DeleteQuota(queue, team));
                         respond(HttpResponse::Json("{}"));
                         return Status::Ok();
                       })));
}

}  // namespace tamga
