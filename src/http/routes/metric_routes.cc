// Metric logging and history: runs/log-metric, runs/log-batch, metrics/get-history[-bulk[-interval]].
#include "http/fast_log_parser.h"
#include "http/history_body.h"
#include "http/mlflow_json.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

Result<MetricPoint> ParseMetric(const RequestFields& f) {
  MetricPoint m;
  TAMGA_ASSIGN_OR_RETURN(m.key, f.RequiredString("key"));
  TAMGA_ASSIGN_OR_RETURN(m.value, f.RequiredDouble("value"));
  TAMGA_ASSIGN_OR_RETURN(m.timestamp, f.RequiredInt("timestamp"));
  TAMGA_ASSIGN_OR_RETURN(auto step, f.OptInt("step"));
  m.step = step.value_or(0);
  return m;
}

Result<KeyValue> ParseKeyValue(const RequestFields& f) {
  KeyValue kv;
  TAMGA_ASSIGN_OR_RETURN(kv.key, f.RequiredString("key"));
  TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
  kv.value = value.value_or("");
  return kv;
}

// {"metrics": [{key, value, timestamp, step, run_id}]}; an empty list is written as [] (get-history-bulk
// returns a plain dict) or left out (bulk-interval is a protobuf message, whose empty lists vanish).
std::string RunMetricPointsJson(const std::vector<RunMetricPoint>& points, bool empty_list) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (!points.empty() || empty_list) {
    w.Key("metrics");
    w.BeginArray();
    for (const auto& p : points) {
      w.BeginObject();
      w.Field("key", p.point.key);
      w.FieldDouble("value", p.point.value);
      w.FieldInt("timestamp", p.point.timestamp);
      w.FieldInt("step", p.point.step);
      w.Field("run_id", p.run_id);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return body;
}

// MLflow's _assert_required: present, not null, not "".
bool Present(const nlohmann::json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && !it->is_null() &&
         !(it->is_string() && it->get_ref<const std::string&>().empty());
}

// log-batch checks each list as a whole first, as MLflow does: a metric without key/value/timestamp or a
// param/tag without key makes the whole list the invalid value.
Status CheckBatchLists(const RequestFields& f) {
  for (const char* list : {"metrics", "params", "tags"}) {
    auto it = f.raw().find(list);
    if (it == f.raw().end() || it->is_null()) continue;
    if (!it->is_array()) return InvalidParamValue(list, *it);
    bool metrics = std::string_view(list) == "metrics";
    for (const auto& entry : *it) {
      if (!entry.is_object()) return InvalidParamValue(list, *it);
      bool ok =
          Present(entry, "key") && (!metrics || (Present(entry, "value") && Present(entry, "timestamp")));
      if (!ok) return InvalidParamValue(list, *it);
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterMetricRoutes(Router& router, const RouteContext& ctx) {
  TrackingService* t = ctx.tracking;
  const std::string api = kMlflowApi;

  // Well-formed ingest bodies take the simdjson fast path; anything else gets the general parser and
  // its exact MLflow error messages.
  auto fast = [t](std::optional<LogBatchRequest> (*parse)(std::string_view), Handler slow) -> Handler {
    return [t, parse, slow](HttpRequest& req, Responder respond) {
      std::string type = req.Header("content-type");
      if (type.rfind("application/json", 0) == 0) {
        if (auto parsed = parse(req.body))
          return t->LogBatch(std::move(*parsed), EmptyOk(std::move(respond)));
      }
      slow(req, std::move(respond));
    };
  };

  router.Add(HttpMethod::kPost, api + "/runs/log-metric",
             fast(TryParseLogMetric, FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
                    LogBatchRequest req;
                    TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
                    TAMGA_ASSIGN_OR_RETURN(MetricPoint m, ParseMetric(f));
                    req.metrics.push_back(std::move(m));
                    t->LogBatch(std::move(req), EmptyOk(respond));
                    return Status::Ok();
                  })));

  router.Add(HttpMethod::kPost, api + "/runs/log-batch",
             fast(TryParseLogBatch, FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
                    LogBatchRequest req;
                    TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
                    TAMGA_RETURN_IF_ERROR(CheckBatchLists(f));
                    TAMGA_ASSIGN_OR_RETURN(auto metrics, f.ObjectList("metrics"));
                    TAMGA_ASSIGN_OR_RETURN(auto params, f.ObjectList("params"));
                    TAMGA_ASSIGN_OR_RETURN(auto tags, f.ObjectList("tags"));
                    req.metrics.reserve(metrics.size());
                    for (const auto& m : metrics) {
                      TAMGA_ASSIGN_OR_RETURN(MetricPoint p, ParseMetric(m));
                      req.metrics.push_back(std::move(p));
                    }
                    for (const auto& p : params) {
                      TAMGA_ASSIGN_OR_RETURN(KeyValue kv, ParseKeyValue(p));
                      req.params.push_back(std::move(kv));
                    }
                    for (const auto& tg : tags) {
                      TAMGA_ASSIGN_OR_RETURN(KeyValue kv, ParseKeyValue(tg));
                      req.tags.push_back(std::move(kv));
                    }
                    t->LogBatch(std::move(req), EmptyOk(respond));
                    return Status::Ok();
                  })));

  router.Add(HttpMethod::kGet, api + "/metrics/get-history",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               MetricHistoryRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(req.metric_key, f.RequiredString("metric_key"));
               TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
               req.page_token = token.value_or("");
               TAMGA_ASSIGN_OR_RETURN(req.max_results, f.OptInt("max_results"));
               TAMGA_ASSIGN_OR_RETURN(MetricHistoryResponse page, t->GetMetricHistory(req));
               HttpResponse resp;
               if (page.metrics.size() > 4096) {
                 resp.stream = MetricHistoryBody(std::move(page.key), std::move(page.metrics),
                                                 std::move(page.next_page_token));
               } else {
                 AppendMetricHistoryJson(&resp.body, page.key, page.metrics, page.next_page_token);
               }
               respond(std::move(resp));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, api + "/metrics/get-history-bulk",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               BulkHistoryRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_ids, f.StringList("run_id"));
               TAMGA_ASSIGN_OR_RETURN(req.metric_key, f.OptString("metric_key"));
               TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
               req.max_results = max.value_or(TrackingService::kMaxBulkHistoryResults);
               TAMGA_ASSIGN_OR_RETURN(auto points, t->GetMetricHistoryBulk(req));
               respond(HttpResponse::Json(RunMetricPointsJson(points, true)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, api + "/metrics/get-history-bulk-interval",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               BulkIntervalRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_ids, f.StringList("run_ids"));
               TAMGA_ASSIGN_OR_RETURN(auto key, f.OptString("metric_key"));
               req.metric_key = key.value_or("");
               TAMGA_ASSIGN_OR_RETURN(req.start_step, f.OptInt("start_step"));
               TAMGA_ASSIGN_OR_RETURN(req.end_step, f.OptInt("end_step"));
               TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
               req.max_results = max.value_or(TrackingService::kMaxBulkIntervalPerRun);
               TAMGA_ASSIGN_OR_RETURN(auto points, t->GetMetricHistoryBulkInterval(req));
               respond(HttpResponse::Json(RunMetricPointsJson(points, false)));
               return Status::Ok();
             }));
}

}  // namespace tamga
