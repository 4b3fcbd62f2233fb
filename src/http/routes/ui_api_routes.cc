// API the web UI needs beyond MLflow's (docs/ui.md): the runs table's window (POST /api/2.0/tamga/runs/table:
// chosen columns only, last/min/max of metrics, sort on any of them, a plain offset and the total, so a
// virtualized table over 100k runs fetches ~100 rows at a time), the keys for its column chooser (GET
// /api/2.0/tamga/runs/columns) and downsampled metric histories for charts (GET
// /api/2.0/tamga/metrics/sampled).
#include <cmath>

#include "core/bounded_executor.h"
#include "http/mlflow_json.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

constexpr int64_t kMaxTableWindow = 2000;  // rows per answer: bounds what one unread reply holds (~2 MB)
constexpr size_t kMaxTableColumns = 500;
constexpr int64_t kColumnSampleRuns = 2000;
constexpr int64_t kMaxColumnKeys = 20000;

struct TableColumn {
  FieldKind kind = FieldKind::kMetric;
  std::string key;
  MetricAgg agg = MetricAgg::kLast;
};

Result<TableColumn> ParseColumn(const RequestFields& f) {
  TableColumn c;
  TAMGA_ASSIGN_OR_RETURN(std::string kind, f.RequiredString("kind"));
  TAMGA_ASSIGN_OR_RETURN(c.key, f.RequiredString("key"));
  if (c.key.empty() || c.key.size() > 1000) return InvalidArgument("Invalid column key");
  if (kind == "metric") {
    c.kind = FieldKind::kMetric;
  } else if (kind == "param") {
    c.kind = FieldKind::kParam;
  } else if (kind == "tag") {
    c.kind = FieldKind::kTag;
  } else if (kind == "attribute") {
    c.kind = FieldKind::kAttribute;
  } else {
    return InvalidArgument("Invalid column kind '" + kind + "': use metric, param, tag or attribute");
  }
  TAMGA_ASSIGN_OR_RETURN(auto agg, f.OptString("agg"));
  std::string a = agg.value_or("last");
  if (a == "min") {
    c.agg = MetricAgg::kMin;
  } else if (a == "max") {
    c.agg = MetricAgg::kMax;
  } else if (a != "last") {
    return InvalidArgument("Invalid column agg '" + a + "': use last, min or max");
  }
  return c;
}

void WriteCell(JsonWriter& w, const Run& run, const TableColumn& c) {
  auto find = [&](const std::vector<KeyValue>& kvs) -> const KeyValue* {
    for (const auto& kv : kvs) {
      if (kv.key == c.key) return &kv;
    }
    return nullptr;
  };
  switch (c.kind) {
    case FieldKind::kMetric:
      for (size_t i = 0; i < run.metrics.size(); ++i) {
        if (run.metrics[i].key != c.key) continue;
        double v = run.metrics[i].value;
        if (c.agg != MetricAgg::kLast && i < run.metric_ranges.size()) {
          v = c.agg == MetricAgg::kMin ? run.metric_ranges[i].first : run.metric_ranges[i].second;
        }
        return w.Double(v);
      }
      return w.Null();
    case FieldKind::kParam:
    case FieldKind::kTag: {
      const KeyValue* kv = find(c.kind == FieldKind::kParam ? run.params : run.tags);
      return kv ? w.String(kv->value) : w.Null();
    }
    default:
      return w.Null();
  }
}

std::string_view TagOr(const Run& run, std::string_view key) {
  for (const auto& t : run.tags) {
    if (t.key == key) return t.value;
  }
  return {};
}

// A finite number (JSON number or numeric string), or nothing when the field is absent.
Result<std::optional<double>> OptNumber(const RequestFields& f, const char* key) {
  if (!f.Has(key)) return std::optional<double>();
  TAMGA_ASSIGN_OR_RETURN(double d, f.RequiredDouble(key));
  if (!std::isfinite(d)) {
    return InvalidArgument("Invalid value for parameter '" + std::string(key) +
                           "': expected a finite number");
  }
  return std::optional<double>(d);
}

std::string SampledJson(const std::vector<SampledSeries>& series, int64_t change_seq) {
  std::string body;
  body.reserve(series.size() * 64 + 32);
  JsonWriter w(&body);
  w.BeginObject();
  w.FieldInt("change_seq", change_seq);
  w.Key("series");
  w.BeginArray();
  for (const SampledSeries& s : series) {
    w.BeginObject();
    w.Field("run_id", s.run_id);
    w.Field("key", s.key);
    w.Field("run_status", RunStatusName(s.run_status));
    w.FieldInt("total_points", s.data.input_points);
    if (s.data.non_finite > 0) w.FieldInt("non_finite_points", s.data.non_finite);
    w.FieldBool("sampled", static_cast<int64_t>(s.data.points.size()) < s.data.input_points);
    w.Key("x");
    w.BeginArray();
    for (const XYPoint& p : s.data.points) w.Double(p.x);
    w.EndArray();
    w.Key("y");
    w.BeginArray();
    for (const XYPoint& p : s.data.points) w.Double(p.y);
    w.EndArray();
    if (s.last) {
      w.Key("last");
      w.BeginObject();
      w.FieldDouble("x", s.last->x);
      w.FieldDouble("y", s.last->y);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return body;
}

}  // namespace

void RegisterUiApiRoutes(Router& router, const RouteContext& ctx) {
  TrackingService* t = ctx.tracking;
  const std::string tg = "/api/2.0/tamga";

  router.Add(
      HttpMethod::kPost, tg + "/runs/table",
      FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
        SearchRunsRequest req;
        TAMGA_ASSIGN_OR_RETURN(req.experiment_ids, f.StringList("experiment_ids"));
        if (req.experiment_ids.empty()) return MissingParam("experiment_ids");
        TAMGA_ASSIGN_OR_RETURN(auto filter, f.OptString("filter"));
        req.filter = filter.value_or("");
        TAMGA_ASSIGN_OR_RETURN(req.view, ParseViewTypeField(f, "run_view_type"));
        TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
        req.max_results = max.value_or(100);
        if (req.max_results <= 0 || req.max_results > kMaxTableWindow) {
          return InvalidArgument("Invalid value for parameter 'max_results': must be between 1 and " +
                                 std::to_string(kMaxTableWindow));
        }
        TAMGA_ASSIGN_OR_RETURN(auto offset, f.OptInt("offset"));
        req.offset = offset.value_or(0);
        TAMGA_ASSIGN_OR_RETURN(auto count, f.OptBool("count"));
        req.count_total = count.value_or(true);
        TAMGA_ASSIGN_OR_RETURN(auto order, f.ObjectList("order_by"));
        for (const auto& o : order) {
          TAMGA_ASSIGN_OR_RETURN(TableColumn c, ParseColumn(o));
          TAMGA_ASSIGN_OR_RETURN(auto desc, o.OptBool("desc"));
          req.order_keys.push_back(OrderKey{c.kind, c.key, !desc.value_or(false), c.agg});
        }
        TAMGA_ASSIGN_OR_RETURN(auto col_fields, f.ObjectList("columns"));
        if (col_fields.size() > kMaxTableColumns) {
          return InvalidArgument("at most " + std::to_string(kMaxTableColumns) + " columns per request");
        }
        std::vector<TableColumn> cols;
        for (const auto& cf : col_fields) {
          TAMGA_ASSIGN_OR_RETURN(TableColumn c, ParseColumn(cf));
          if (c.kind == FieldKind::kAttribute) {
            return InvalidArgument("Invalid column kind 'attribute': attributes are in every row already");
          }
          cols.push_back(std::move(c));
        }
        TAMGA_ASSIGN_OR_RETURN(RunsPage page, t->SearchRuns(req));
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        if (page.total) w.FieldInt("total", *page.total);
        w.FieldInt("offset", *req.offset);
        w.Key("rows");
        w.BeginArray();
        for (const Run& r : page.runs) {
          const RunInfo& i = r.info;
          w.BeginObject();
          w.Field("run_id", i.run_id);
          w.Field("run_name", i.run_name);
          w.Field("experiment_id", i.experiment_id);
          w.Field("status", RunStatusName(i.status));
          w.Field("user_id", i.user_id);
          w.FieldInt("start_time", i.start_time);
          if (i.end_time) w.FieldInt("end_time", *i.end_time);
          w.Field("lifecycle_stage", LifecycleStageName(i.lifecycle_stage));
          if (auto parent = TagOr(r, "mlflow.parentRunId"); !parent.empty()) w.Field("parent_run_id", parent);
          w.Key("values");
          w.BeginArray();
          for (const TableColumn& c : cols) WriteCell(w, r, c);
          w.EndArray();
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      }));

  router.Add(HttpMethod::kGet, tg + "/runs/columns",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto ids, f.StringList("experiment_ids"));
               if (ids.empty()) return MissingParam("experiment_ids");
               TAMGA_ASSIGN_OR_RETURN(RunKeys keys, t->ListRunKeys(ids, kColumnSampleRuns, kMaxColumnKeys));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               for (auto [name, list] :
                    {std::pair{"params", &keys.params}, {"metrics", &keys.metrics}, {"tags", &keys.tags}}) {
                 w.Key(name);
                 w.BeginArray();
                 for (const auto& k : *list) w.String(k);
                 w.EndArray();
               }
               w.FieldInt("runs_sampled", keys.runs_sampled);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  // Sampling may read a million points: answers that a metric write wakes are computed on this pool, not on
  // the change feed's thread.
  BoundedExecutor::Options po;
  po.name = "sampled-wake";
  po.threads = 2;
  po.max_queued = 256;
  auto pool = std::shared_ptr<BoundedExecutor>(new BoundedExecutor(po));
  RunChangeFeed* feed = ctx.run_changes;
  router.Add(
      HttpMethod::kGet, tg + "/metrics/sampled", [t, feed, pool, ctx](HttpRequest& http, Responder respond) {
        auto run = [&]() -> Status {
          TAMGA_ASSIGN_OR_RETURN(RequestFields f, RequestFields::From(http));
          SampledMetricsRequest req;
          TAMGA_ASSIGN_OR_RETURN(req.run_ids, f.StringList("run_id"));
          TAMGA_ASSIGN_OR_RETURN(req.keys, f.StringList("key"));
          TAMGA_ASSIGN_OR_RETURN(auto points, f.OptInt("points"));
          req.points = points.value_or(2000);
          TAMGA_ASSIGN_OR_RETURN(auto x, f.OptString("x"));
          std::string axis = x.value_or("step");
          if (axis == "time") {
            req.x_axis = SampledMetricsRequest::XAxis::kTime;
          } else if (axis == "relative") {
            req.x_axis = SampledMetricsRequest::XAxis::kRelative;
          } else if (axis != "step") {
            return InvalidArgument("Invalid value for parameter 'x': use step, time or relative");
          }
          TAMGA_ASSIGN_OR_RETURN(req.x_min, OptNumber(f, "x_min"));
          TAMGA_ASSIGN_OR_RETURN(req.x_max, OptNumber(f, "x_max"));
          // Live charts: after=<change_seq of the last answer>&wait_ms=N holds the request until one of the
          // runs logs metrics (or changes status), at most N ms (<= 60000).
          TAMGA_ASSIGN_OR_RETURN(auto after, f.OptInt("after"));
          TAMGA_ASSIGN_OR_RETURN(auto wait, f.OptInt("wait_ms"));
          int64_t wait_ms = wait.value_or(0);
          if (wait_ms < 0 || wait_ms > 60000)
            return InvalidArgument("Invalid value for parameter 'wait_ms': 0..60000");
          // Validate now (a bad request must not wait to be refused).
          if (req.run_ids.empty()) return MissingParam("run_id");
          if (req.keys.empty()) return MissingParam("key");
          auto answer = [t, feed, req, respond]() {
            int64_t seq = feed ? feed->SeqOf(req.run_ids) : 0;  // these runs' own number only
            auto series = t->SampleMetrics(req);
            if (!series.ok()) return respond(ErrorResponse(series.status()));
            respond(HttpResponse::Json(SampledJson(*series, seq)));
          };
          if (feed == nullptr || wait_ms == 0 || !after || feed->SeqOf(req.run_ids) > *after) {
            answer();
            return Status::Ok();
          }
          auto ticket = EnterLongPoll(ctx, http);
          if (!ticket) return TooManyLongPolls();
          feed->WaitAsync(req.run_ids, *after, wait_ms, [pool, answer, ticket, respond]() {
            if (!pool->TrySubmit([answer, ticket] { answer(); })) {
              respond(ErrorResponse(ResourceExhausted("Too many live charts waking at once; retry shortly")));
            }
          });
          return Status::Ok();
        };
        Status s = run();
        if (!s.ok()) respond(ErrorResponse(s));
      });
}

}  // namespace tamga
