#include "lineage/openlineage.h"

#include <chrono>
#include <ctime>

#include "core/hmac.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "data/dataset_service.h"
#include "net/http_client.h"

namespace tamga {
namespace {

constexpr const char* kSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

std::string Iso8601(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

void Facet(JsonWriter& w, const std::string& producer, const char* schema) {
  w.Field("_producer", producer);
  w.Field("_schemaURL", schema);
}

}  // namespace

std::string RunIdAsUuid(const std::string& run_id) {
  std::string hex = run_id;
  bool ok = hex.size() == 32;
  for (char c : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  if (!ok) hex = Sha256Hex(run_id).substr(0, 32);
  for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string OpenLineageRunEventJson(const OpenLineageRun& e) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("eventType", e.event_type);
  w.Field("eventTime", Iso8601(e.event_time_ms));
  w.Field("producer", e.producer);
  w.Field("schemaURL", kSchema);
  w.Key("run");
  w.BeginObject();
  w.Field("runId", RunIdAsUuid(e.run_id));
  w.Key("facets");
  w.BeginObject();
  w.Key("tamga_run");  // a custom facet: how to find the run in Tamga and MLflow
  w.BeginObject();
  Facet(w, e.producer, "https://github.com/tamga-mlops/tamga/blob/main/docs/data.md#openlineage");
  w.Field("mlflowRunId", e.run_id);
  w.Field("jobId", e.job_id);
  w.Field("queue", e.queue);
  w.EndObject();
  if ((e.event_type == "FAIL" || e.event_type == "ABORT") && !e.reason.empty()) {
    w.Key("errorMessage");
    w.BeginObject();
    Facet(w, e.producer,
          "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet");
    w.Field("message", e.reason);
    w.Field("programmingLanguage", "unknown");
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  w.Key("job");
  w.BeginObject();
  w.Field("namespace", e.job_namespace);
  w.Field("name", e.job_name);
  w.Key("facets");
  w.BeginObject();
  w.Key("jobType");
  w.BeginObject();
  Facet(w, e.producer,
        "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet");
  w.Field("processingType", "BATCH");
  w.Field("integration", "TAMGA");
  w.Field("jobType", "JOB");
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.Key("inputs");
  w.BeginArray();
  for (const auto& d : e.inputs) {
    w.BeginObject();
    bool tamga = d.version > 0;
    w.Field("namespace", tamga ? e.dataset_namespace : std::string("mlflow"));
    w.Field("name", tamga ? FormatDatasetRef(d.name, d.version) : d.name);
    w.Key("facets");
    w.BeginObject();
    if (tamga) {
      w.Key("version");
      w.BeginObject();
      Facet(w, e.producer,
            "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/"
            "DatasetVersionDatasetFacet");
      w.Field("datasetVersion", std::to_string(d.version));
      w.EndObject();
      w.Key("tamga_dataset");
      w.BeginObject();
      Facet(w, e.producer, "https://github.com/tamga-mlops/tamga/blob/main/docs/data.md#openlineage");
      w.Field("uri", DatasetService::TamgaUri(d.name, d.version));
      w.Field("manifestSha256", d.manifest);
      w.FieldInt("fileCount", d.files);
      w.FieldInt("totalSize", d.size);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("outputs");
  w.BeginArray();
  for (const auto& mv : e.outputs) {
    w.BeginObject();
    w.Field("namespace", e.model_namespace);
    w.Field("name", mv.name + "/" + std::to_string(mv.version));
    w.Key("facets");
    w.BeginObject();
    w.Key("version");
    w.BeginObject();
    Facet(w, e.producer,
          "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/"
          "DatasetVersionDatasetFacet");
    w.Field("datasetVersion", std::to_string(mv.version));
    w.EndObject();
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

OpenLineageEmitter::OpenLineageEmitter(Options o, LineageService* lineage, MetricsRegistry* metrics)
    : o_(std::move(o)), lineage_(lineage) {
  if (metrics) events_ = metrics->Counter("tamga_openlineage_events_total", "OpenLineage events, by result");
  worker_ = std::thread([this] { Loop(); });
}

OpenLineageEmitter::~OpenLineageEmitter() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void OpenLineageEmitter::OnJob(const Job& job, bool started) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  {
    MutexLock l(&mu_);
    if (queue_.size() >= o_.max_queued) {
      if (events_) events_->Add({{"result", "dropped"}}, 1);
      return;
    }
    queue_.push_back({job, started, now});
  }
  cv_.notify_one();
}

void OpenLineageEmitter::Loop() {
  for (;;) {
    Item item;
    {
      UniqueLock l(&mu_);
      while (!stop_ && queue_.empty()) cv_.wait(l);
      if (queue_.empty()) return;  // stopping, and everything was sent
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    Send(item);
  }
}

void OpenLineageEmitter::Send(const Item& item) {
  const Job& job = item.job;
  OpenLineageRun e;
  e.event_time_ms = item.at_ms;
  e.run_id = job.run_id;
  e.job_id = job.id;
  e.queue = job.spec.queue;
  e.job_namespace = o_.job_namespace;
  e.job_name = job.spec.queue + "." + (job.spec.run_name.empty() ? job.id : job.spec.run_name);
  e.producer = o_.producer;
  e.dataset_namespace = "tamga-data://" + o_.server_url;
  e.model_namespace = "models://" + o_.server_url;
  if (item.started) {
    e.event_type = "START";
  } else {
    e.event_type = job.state == JobState::kSucceeded ? "COMPLETE"
                   : job.state == JobState::kAborted ? "ABORT"
                                                     : "FAIL";
    e.reason = job.reason;
  }
  auto lineage = lineage_->OfModel("runs:/" + job.run_id);
  if (lineage.ok()) e.inputs = lineage->datasets;
  if (!item.started) {
    auto outputs = lineage_->ModelVersionsOfRun(job.run_id);
    if (outputs.ok()) e.outputs = std::move(*outputs);
  }
  HttpClientRequest req;
  req.method = "POST";
  req.url = o_.url;
  req.body = OpenLineageRunEventJson(e);
  req.timeout_ms = o_.timeout_ms;
  req.headers.push_back({"Content-Type", "application/json"});
  if (!o_.api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + o_.api_key});
  std::string error;
  for (int attempt = 0; attempt < o_.attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500 << attempt));
    auto res = HttpCall(req);
    if (res.ok() && res->status / 100 == 2) {
      if (events_) events_->Add({{"result", "sent"}}, 1);
      return;
    }
    error = res.ok() ? "HTTP " + std::to_string(res->status) : res.status().message();
    if (res.ok() && res->status / 100 == 4 && res->status != 429) break;  // the consumer refuses it: no retry
  }
  if (events_) events_->Add({{"result", "failed"}}, 1);
  TAMGA_LOG(kWarn, "OpenLineage event not delivered",
            {{"job", job.id}, {"event", e.event_type}, {"url", o_.url}, {"error", error}});
}

}  // namespace tamga
