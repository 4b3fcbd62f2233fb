// Tamga's own registry endpoints: the events outbox (list and long-poll) and model URI resolution.
//   GET /api/2.0/tamga/events?after=N&wait=30s&max_results=100
//   GET /api/2.0/tamga/events?model_name=X&before=SEQ&max_results=100  (one model's history, newest first)
//   GET /api/2.0/tamga/models/resolve?uri=models:/name@alias
#include <charconv>
#include <map>

#include "core/utf8.h"
#include "http/registry_json.h"
#include "http/routes/route_context.h"
#include "registry/mlmodel.h"

namespace tamga {
namespace {

constexpr int64_t kMaxWaitMs = 60000;

// "30s", "500ms", "2m", "30" (seconds). InvalidArgument otherwise.
Result<int64_t> ParseWait(const std::string& s) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  std::string unit(end, s.data() + s.size());
  if (ec != std::errc() || n < 0)
    return InvalidArgument("Invalid value '" + std::string(Utf8Prefix(s, 50)) + "' for parameter 'wait'");
  // Clamped before multiplying: a huge count must not overflow (undefined behaviour), only saturate.
  n = std::min<int64_t>(n, kMaxWaitMs);
  int64_t ms;
  if (unit.empty() || unit == "s")
    ms = n * 1000;
  else if (unit == "ms")
    ms = n;
  else if (unit == "m")
    ms = n * 60000;
  else
    return InvalidArgument("Invalid value '" + std::string(Utf8Prefix(s, 50)) +
                           "' for parameter 'wait' (use e.g. 30s or 500ms)");
  return std::min(ms, kMaxWaitMs);
}

// `visible` (auth on) drops events of models the caller may not read; next_after still moves past them.
HttpResponse EventsResponse(MetadataStore* store, int64_t after, int64_t limit,
                            const std::function<bool(const std::string&)>& visible) {
  auto events = store->registry().ListEvents(after, limit);
  if (!events.ok()) return ErrorResponse(events.status());
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("events");
  w.BeginArray();
  // A caller who may read a model sees its events, not those of an earlier model that had the same name
  // (deleted, or renamed away): the name's history starts at the current model's creation or rename.
  std::map<std::string, int64_t> starts;
  for (const auto& e : *events) {
    if (visible) {
      if (!visible(e.model_name)) continue;
      auto it = starts.find(e.model_name);
      if (it == starts.end()) {
        auto start = store->registry().ModelHistoryStart(e.model_name);
        it = starts.emplace(e.model_name, start.ok() ? *start : INT64_MAX).first;
      }
      if (e.seq < it->second) continue;
    }
    WriteRegistryEvent(w, e);
  }
  w.EndArray();
  w.FieldInt("next_after", events->empty() ? after : events->back().seq);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

}  // namespace

void RegisterTamgaRegistryRoutes(Router& router, const RouteContext& ctx) {
  MetadataStore* store = ctx.store;
  EventHub* hub = ctx.events;
  RegistryService* registry = ctx.registry;
  BlobStore* blobs = ctx.blobs;

  router.Add(
      HttpMethod::kGet, "/api/2.0/tamga/events", [store, hub, ctx](HttpRequest& req, Responder respond) {
        auto run = [&]() -> Status {
          TAMGA_ASSIGN_OR_RETURN(RequestFields f, RequestFields::From(req));
          TAMGA_ASSIGN_OR_RETURN(auto after, f.OptInt("after"));
          TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
          TAMGA_ASSIGN_OR_RETURN(auto wait, f.OptString("wait"));
          int64_t from = after.value_or(0);
          int64_t limit = max.value_or(100);
          if (from < 0) return InvalidArgument("Invalid value for parameter 'after': must be >= 0");
          if (limit < 1 || limit > 1000)
            return InvalidArgument("Invalid value for parameter 'max_results': must be 1..1000");
          int64_t wait_ms = 0;
          if (wait) {
            TAMGA_ASSIGN_OR_RETURN(wait_ms, ParseWait(*wait));
          }
          std::function<bool(const std::string&)> visible;
          if (ctx.auth && req.principal && !req.principal->is_admin) {
            visible = [auth = ctx.auth, who = req.principal](const std::string& model) {
              return Allows(auth->Effective(*who, ObjectKind::kRegisteredModel, model), Permission::kRead);
            };
          }
          TAMGA_ASSIGN_OR_RETURN(auto model, f.OptString("model_name"));
          if (model) {  // one model's history, newest first (before = seq to page back from)
            if (visible && !visible(*model)) {
              respond(HttpResponse::Json("{\"events\":[]}"));
              return Status::Ok();
            }
            TAMGA_ASSIGN_OR_RETURN(auto before, f.OptInt("before"));
            TAMGA_ASSIGN_OR_RETURN(auto events,
                                   store->registry().ListModelEvents(*model, before.value_or(0), limit));
            std::string body;
            JsonWriter w(&body);
            w.BeginObject();
            w.Key("events");
            w.BeginArray();
            for (const auto& e : events) WriteRegistryEvent(w, e);
            w.EndArray();
            if (static_cast<int64_t>(events.size()) == limit) w.FieldInt("next_before", events.back().seq);
            w.EndObject();
            respond(HttpResponse::Json(std::move(body)));
            return Status::Ok();
          }
          if (wait_ms == 0 || hub->last_seq() > from) {
            respond(EventsResponse(store, from, limit, visible));
            return Status::Ok();
          }
          auto ticket = EnterLongPoll(ctx, req);
          if (!ticket) return TooManyLongPolls();
          hub->WaitAsync(from, wait_ms, [store, from, limit, respond, ticket, visible](bool) {
            respond(EventsResponse(store, from, limit, visible));
          });
          return Status::Ok();
        };
        Status s = run();
        if (!s.ok()) respond(ErrorResponse(s));
      });

  router.Add(HttpMethod::kGet, "/api/2.0/tamga/models/resolve",
             FieldsHandler([registry, blobs](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string uri, f.RequiredString("uri"));
               TAMGA_ASSIGN_OR_RETURN(auto resolved, registry->Resolve(uri));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Field("model_uri", uri);
               if (resolved.version) {
                 w.Field("name", resolved.version->name);
                 w.Field("version", std::to_string(resolved.version->version));
               }
               if (!resolved.run_id.empty()) w.Field("run_id", resolved.run_id);
               w.Field("artifact_location", resolved.artifact_location);
               if (resolved.version) {
                 w.Key("model_version");
                 WriteModelVersion(w, *resolved.version);
               }
               if (resolved.logged_model) {
                 w.Key("logged_model");
                 WriteLoggedModel(w, *resolved.logged_model);
               }
               if (!resolved.blob_path.empty()) {
                 auto mlmodel = ReadMlmodel(*blobs, resolved.blob_path);
                 if (mlmodel.ok()) {
                   w.Key("flavors");
                   w.Raw(mlmodel->flavors_json);
                   if (!mlmodel->signature_json.empty()) {
                     w.Key("signature");
                     w.Raw(mlmodel->signature_json);
                   }
                 }
               }
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));
}

}  // namespace tamga
