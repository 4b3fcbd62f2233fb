// The JSON API through the real route handlers: the services are built once per process on a temporary
// SQLite data dir (as src/server/tamga_server.cc composes them, with a webhook transport that never leaves
// the process and no background followers), the routes are registered on an in-process Router, and each input
// becomes one request.
//
// Input: byte 0 picks a route from kRoutes; the first line is "<path suffix>[?<query>]" (the suffix is used
// by prefix routes only); the rest is the body. Placeholders $EXP, $RUN, $MODEL, $HOOK, $JOB, $AGENT,
// $QUEUE, $DATASET, $OBJECT, $MANIFEST and $TRIGGER in the line and body are replaced by ids of entities
// created at start-up, so inputs reach past "not found".
//
// Properties: a handler never throws; it answers exactly once, within 2 s (long-poll routes may answer later:
// their answer is checked when it comes); the status is never 500; a JSON response is valid JSON (which also
// means valid UTF-8).
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "artifacts/local/local_blob_store.h"
#include "core/clock.h"
#include "core/hmac.h"
#include "core/metrics.h"
#include "core/random.h"
#include "data/dataset_service.h"
#include "deploy/deploy_service.h"
#include "fuzz/fuzz_input.h"
#include "http/router.h"
#include "http/routes/route_context.h"
#include "jobs/job_service.h"
#include "lineage/lineage_service.h"
#include "registry/event_hub.h"
#include "registry/logged_model_service.h"
#include "registry/registry_service.h"
#include "registry/webhook_dispatcher.h"
#include "registry/webhook_service.h"
#include "rollout/reference_tests.h"
#include "rollout/rollout_controller.h"
#include "storage/group_commit.h"
#include "storage/job_store.h"
#include "storage/sqlite/sqlite_stores.h"
#include "tracking/tracking_service.h"
#include "triggers/trigger_service.h"

namespace tamga {
namespace {

using M = HttpMethod;
enum Kind { kExact, kPrefix };
enum Wait { kAnswers, kMayPark };  // kMayPark: a long-poll route that may hold the request
struct Route {
  HttpMethod method;
  const char* path;
  Kind kind;
  Wait wait = kAnswers;
};

// One row per registered route (tamga_server.cc's Register* calls, serving routes excepted: the serving
// codecs have their own targets). Checked against the router at start-up, so a renamed route fails the replay
// test. Append new rows at the end: the corpus addresses routes by index.
constexpr Route kRoutes[] = {
    {M::kPost, "/api/2.0/mlflow/experiments/create", kExact},
    {M::kGet, "/api/2.0/mlflow/experiments/get", kExact},
    {M::kGet, "/api/2.0/mlflow/experiments/get-by-name", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/search", kExact},
    {M::kGet, "/api/2.0/mlflow/experiments/search", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/delete", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/restore", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/update", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/set-experiment-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/delete-experiment-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/create", kExact},  // 10
    {M::kPost, "/api/2.0/mlflow/runs/update", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/delete", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/restore", kExact},
    {M::kGet, "/api/2.0/mlflow/runs/get", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/search", kExact},
    {M::kGet, "/api/2.0/mlflow/runs/search", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/set-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/delete-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/log-parameter", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/log-inputs", kExact},  // 20
    {M::kPost, "/api/2.0/mlflow/runs/log-model", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/log-metric", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/log-batch", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/outputs", kExact},
    {M::kGet, "/api/2.0/mlflow/metrics/get-history", kExact},
    {M::kGet, "/api/2.0/mlflow/metrics/get-history-bulk-interval", kExact},
    {M::kGet, "/api/2.0/mlflow/artifacts/list", kExact},
    {M::kGet, "/get-artifact", kExact},
    {M::kGet, "/api/2.0/mlflow-artifacts/artifacts", kExact},
    {M::kGet, "/api/2.0/mlflow-artifacts/artifacts/", kPrefix},  // 30
    {M::kDelete, "/api/2.0/mlflow-artifacts/artifacts/", kPrefix},
    {M::kPut, "/api/2.0/mlflow-artifacts/artifacts/", kPrefix},  // upload
    {M::kPost, "/api/2.0/mlflow-artifacts/mpu/create/", kPrefix},
    {M::kPost, "/api/2.0/mlflow/registered-models/create", kExact},
    {M::kGet, "/api/2.0/mlflow/registered-models/get", kExact},
    {M::kPost, "/api/2.0/mlflow/registered-models/rename", kExact},
    {M::kPatch, "/api/2.0/mlflow/registered-models/update", kExact},
    {M::kDelete, "/api/2.0/mlflow/registered-models/delete", kExact},
    {M::kGet, "/api/2.0/mlflow/registered-models/search", kExact},
    {M::kPost, "/api/2.0/mlflow/registered-models/get-latest-versions", kExact},  // 40
    {M::kGet, "/api/2.0/mlflow/registered-models/get-latest-versions", kExact},
    {M::kPost, "/api/2.0/mlflow/registered-models/set-tag", kExact},
    {M::kDelete, "/api/2.0/mlflow/registered-models/delete-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/registered-models/alias", kExact},
    {M::kDelete, "/api/2.0/mlflow/registered-models/alias", kExact},
    {M::kGet, "/api/2.0/mlflow/registered-models/alias", kExact},
    {M::kPost, "/api/2.0/mlflow/model-versions/create", kExact},
    {M::kGet, "/api/2.0/mlflow/model-versions/get", kExact},
    {M::kPatch, "/api/2.0/mlflow/model-versions/update", kExact},
    {M::kPost, "/api/2.0/mlflow/model-versions/transition-stage", kExact},  // 50
    {M::kDelete, "/api/2.0/mlflow/model-versions/delete", kExact},
    {M::kGet, "/api/2.0/mlflow/model-versions/search", kExact},
    {M::kGet, "/api/2.0/mlflow/model-versions/get-download-uri", kExact},
    {M::kPost, "/api/2.0/mlflow/model-versions/set-tag", kExact},
    {M::kDelete, "/api/2.0/mlflow/model-versions/delete-tag", kExact},
    {M::kPost, "/api/2.0/mlflow/logged-models", kExact},
    {M::kPost, "/api/2.0/mlflow/logged-models/search", kExact},
    {M::kGet, "/api/2.0/mlflow/logged-models/", kPrefix},
    {M::kPatch, "/api/2.0/mlflow/logged-models/", kPrefix},
    {M::kDelete, "/api/2.0/mlflow/logged-models/", kPrefix},  // 60
    {M::kPost, "/api/2.0/mlflow/logged-models/", kPrefix},
    {M::kPost, "/api/2.0/mlflow/webhooks", kExact},
    {M::kGet, "/api/2.0/mlflow/webhooks", kExact},
    {M::kGet, "/api/2.0/mlflow/webhooks/", kPrefix},
    {M::kPatch, "/api/2.0/mlflow/webhooks/", kPrefix},
    {M::kDelete, "/api/2.0/mlflow/webhooks/", kPrefix},
    {M::kPost, "/api/2.0/mlflow/webhooks/", kPrefix},  // .../test
    {M::kGet, "/api/2.0/tamga/webhooks/", kPrefix},    // .../deliveries
    {M::kGet, "/api/2.0/tamga/events", kExact, kMayPark},
    {M::kGet, "/api/2.0/tamga/models/resolve", kExact},  // 70
    {M::kPost, "/api/2.0/tamga/deployments", kExact},
    {M::kGet, "/api/2.0/tamga/deployments", kExact},
    {M::kGet, "/api/2.0/tamga/deployments/", kPrefix},
    {M::kDelete, "/api/2.0/tamga/deployments/", kPrefix},
    {M::kPost, "/api/2.0/tamga/deployments/", kPrefix},  // .../render
    {M::kPost, "/api/2.0/tamga/deploy/render", kExact},
    {M::kPost, "/api/2.0/tamga/queues", kExact},
    {M::kGet, "/api/2.0/tamga/queues", kExact},
    {M::kPost, "/api/2.0/tamga/jobs", kExact},
    {M::kPost, "/api/2.0/tamga/jobs/batch", kExact},  // 80
    {M::kGet, "/api/2.0/tamga/jobs", kExact},
    {M::kGet, "/api/2.0/tamga/jobs/", kPrefix, kMayPark},  // .../logs?wait=
    {M::kPost, "/api/2.0/tamga/jobs/", kPrefix},           // .../abort, started, logs, finish
    {M::kPost, "/api/2.0/tamga/agents/register", kExact},
    {M::kGet, "/api/2.0/tamga/agents", kExact},
    {M::kPost, "/api/2.0/tamga/agents/", kPrefix, kMayPark},  // .../lease, heartbeat
    {M::kGet, "/health", kExact},
    {M::kGet, "/version", kExact},
    {M::kGet, "/metrics", kExact},
    {M::kGet, "/api/2.0/tamga/version", kExact},  // 90
    {M::kGet, "/api/3.0/mlflow/server-info", kExact},
    {M::kGet, "/api/2.0/mlflow/metrics/get-history-bulk", kExact},
    {M::kPost, "/api/2.0/mlflow/experiments/search-datasets", kExact},
    {M::kPost, "/api/2.0/mlflow/upload-artifact", kExact},
    {M::kPost, "/api/2.0/mlflow/runs/create-promptlab-run", kExact},  // 95
    {M::kGet, "/model-versions/get-artifact", kExact},
    {M::kPost, "/api/2.0/tamga/runs/table", kExact},  // 97
    {M::kGet, "/api/2.0/tamga/runs/columns", kExact},
    {M::kGet, "/api/2.0/tamga/metrics/sampled", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/create", kExact},  // 100
    {M::kGet, "/api/2.0/tamga/datasets/search", kExact},
    {M::kGet, "/api/2.0/tamga/datasets/get", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/update", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/objects/missing", kExact},
    {M::kPut, "/api/2.0/tamga/datasets/objects/upload", kPrefix},  // 105: the pack upload (query ?name=)
    {M::kPost, "/api/2.0/tamga/datasets/objects/fetch", kExact},
    {M::kGet, "/api/2.0/tamga/datasets/objects/get", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/versions/create", kExact},
    {M::kGet, "/api/2.0/tamga/datasets/versions/get", kExact},
    {M::kGet, "/api/2.0/tamga/datasets/versions/search", kExact},  // 110
    {M::kGet, "/api/2.0/tamga/datasets/versions/files", kExact},
    {M::kGet, "/api/2.0/tamga/datasets/versions/diff", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/tags/set", kExact},
    {M::kPost, "/api/2.0/tamga/datasets/tags/delete", kExact},
    {M::kGet, "/api/2.0/tamga/lineage", kExact},  // 115
    {M::kPost, "/api/2.0/tamga/triggers", kExact},
    {M::kGet, "/api/2.0/tamga/triggers", kExact},
    {M::kGet, "/api/2.0/tamga/triggers/", kPrefix},
    {M::kDelete, "/api/2.0/tamga/triggers/", kPrefix},
    {M::kPost, "/api/2.0/tamga/triggers/", kPrefix},  // 120: .../fire
    {M::kPost, "/api/2.0/tamga/model-versions/reference-test", kExact},
    {M::kGet, "/api/2.0/tamga/model-versions/reference-test", kExact},
};
constexpr size_t kNumRoutes = sizeof(kRoutes) / sizeof(kRoutes[0]);

// Webhook deliveries never leave the process.
class NoNetworkTransport final : public WebhookTransport {
 public:
  Result<WebhookReply> Post(const WebhookPost&) override { return Unavailable("fuzzing: no network"); }
};

[[noreturn]] void Broken(const char* what, const HttpRequest& req, const std::string& detail) {
  std::string d = std::string(req.method == M::kGet ? "GET " : "non-GET ") + req.target +
                  "\nbody: " + req.body.substr(0, 500) + "\n=> " + detail.substr(0, 1500);
  fuzz::Fail(what, d);
}

// Checks one answer; aborts when a property is broken (also from a late, asynchronous answer).
void CheckResponse(const HttpRequest& req, HttpResponse& resp) {
  std::string body = resp.body;
  if (resp.stream) {
    body.clear();
    char buf[65536];
    while (body.size() < (64u << 20)) {
      auto n = resp.stream->Read(buf, sizeof buf);
      if (!n.ok() || *n == 0) break;
      body.append(buf, *n);
    }
  }
  if (resp.status == 500) Broken("status 500", req, body);
  if (resp.content_type.rfind("application/json", 0) == 0 && !nlohmann::json::accept(body)) {
    Broken("response is not valid JSON", req, body);
  }
}

struct Call {
  HttpRequest req;  // a copy for reports: the handler may move from its own
  std::mutex mu;
  std::condition_variable cv;
  int answers = 0;
};

Responder MakeResponder(std::shared_ptr<Call> call) {
  return [call](HttpResponse resp) {
    {
      std::lock_guard<std::mutex> lock(call->mu);
      if (++call->answers > 1) Broken("answered twice", call->req, resp.body);
    }
    CheckResponse(call->req, resp);
    call->cv.notify_all();
  };
}

// The services, built once per process (tamga_server.cc's composition, no listener and no followers).
struct World {
  std::string dir;
  SystemClock clock;
  SystemRandom random;
  MetricsRegistry metrics;
  NoNetworkTransport transport;
  std::unique_ptr<SqlMetadataStore> store;
  std::unique_ptr<LocalBlobStore> blobs;
  std::unique_ptr<GroupCommitter> writer;
  std::unique_ptr<TrackingService> tracking;
  std::unique_ptr<EventHub> events;
  std::unique_ptr<RegistryService> registry;
  std::unique_ptr<LoggedModelService> logged_models;
  std::unique_ptr<WebhookService> webhooks;
  std::unique_ptr<GitOpsWriter> gitops;
  std::unique_ptr<DeployService> deploy;
  std::unique_ptr<JobStore> job_store;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<DatasetStore> dataset_store;
  std::unique_ptr<DatasetService> datasets;
  std::unique_ptr<LineageService> lineage;
  std::unique_ptr<TriggerStore> trigger_store;
  std::unique_ptr<TriggerService> triggers;
  std::unique_ptr<ReferenceTestService> reference_tests;
  std::unique_ptr<PayloadLogger> payloads;
  std::unique_ptr<ModelManager> models;
  std::unique_ptr<RolloutController> rollouts;
  Router router;
  std::map<std::string, std::string> ids;  // placeholder -> value

  ~World() {
    jobs->Shutdown();
    events->Shutdown();
    writer->Shutdown();
    (void)store->Flush();
  }
};

World* g_world = nullptr;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "api_routes fuzzer setup: %s: %s\n", what, r.status().ToString().c_str());
    std::abort();
  }
  return std::move(*r);
}

// Runs one request; returns the answer when it came within `wait` (nullopt for a parked long-poll).
std::optional<HttpResponse> Send(HttpRequest req, bool may_park) {
  RouteMatch m = g_world->router.Match(req);
  if (!m.handler && !m.upload) return std::nullopt;
  auto call = std::make_shared<Call>();
  call->req = req;
  auto captured = std::make_shared<std::optional<HttpResponse>>();
  Responder check = MakeResponder(call);
  Responder respond = [check, captured, call](HttpResponse resp) {
    {
      std::lock_guard<std::mutex> lock(call->mu);
      if (call->answers == 0) *captured = resp;  // for the start-up requests
    }
    check(std::move(resp));
  };
  try {
    if (m.upload) {
      auto sink = (*m.upload)(req);
      if (!sink.ok()) {
        respond(ErrorResponse(sink.status()));
      } else {
        Status s = (*sink)->Write(req.body);
        if (!s.ok())
          respond(ErrorResponse(s));
        else
          (*sink)->Finish(respond);
      }
    } else {
      (*m.handler)(req, respond);
    }
  } catch (const std::exception& e) {
    Broken("handler threw", call->req, e.what());
  } catch (...) {
    Broken("handler threw", call->req, "unknown exception");
  }
  std::unique_lock<std::mutex> lock(call->mu);
  auto deadline = std::chrono::milliseconds(may_park ? 20 : 2000);
  if (!call->cv.wait_for(lock, deadline, [&] { return call->answers > 0; })) {
    if (!may_park) Broken("no answer within 2 s", call->req, "");
    return std::nullopt;
  }
  return *captured;
}

HttpRequest MakeRequest(HttpMethod method, const std::string& path, const std::string& query,
                        const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.query = query;
  req.target = query.empty() ? path : path + "?" + query;
  req.body = body;
  req.headers["content-type"] = "application/json";
  req.headers["content-length"] = std::to_string(body.size());
  req.remote_addr = "127.0.0.1";
  return req;
}

// A start-up request that must succeed; returns the value at `pointer` in its JSON answer.
std::string Setup(HttpMethod method, const std::string& path, const std::string& body, const char* pointer) {
  auto resp = Send(MakeRequest(method, path, "", body), false);
  if (!resp || resp->status != 200) {
    std::fprintf(stderr, "api_routes fuzzer setup: %s %s -> %d %s\n", path.c_str(), body.c_str(),
                 resp ? resp->status : 0, resp ? resp->body.c_str() : "");
    std::abort();
  }
  if (!pointer) return "";
  auto j = nlohmann::json::parse(resp->body);
  const auto& v = j.at(nlohmann::json::json_pointer(pointer));
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string Expand(std::string s) {
  for (const auto& [k, v] : g_world->ids) {
    for (size_t pos = s.find(k); pos != std::string::npos; pos = s.find(k, pos + v.size()))
      s.replace(pos, k.size(), v);
  }
  return s;
}

void BuildWorld() {
  auto* w = new World();
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tamga-fuzz-api-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) std::abort();
  w->dir = buf.data();

  SqliteStoreOptions so;
  so.path = w->dir + "/tamga.db";
  w->store = Must(OpenSqliteMetadataStore(so), "store");
  w->blobs = Must(LocalBlobStore::Create({w->dir + "/artifacts"}, &w->random), "blobs");
  w->writer = Must(GroupCommitter::Create({}, w->store.get(), &w->clock, &w->metrics), "writer");
  w->tracking = std::make_unique<TrackingService>(TrackingService::Options{}, w->store.get(), w->writer.get(),
                                                  &w->clock, &w->random);
  if (!w->tracking->EnsureDefaultExperiment().ok()) std::abort();
  w->events = std::make_unique<EventHub>(Must(w->store->registry().LastEventSeq(), "events"));
  w->registry = std::make_unique<RegistryService>(w->store.get(), w->writer.get(), w->blobs.get(),
                                                  w->events.get(), &w->clock, &w->random);
  w->logged_models =
      std::make_unique<LoggedModelService>(w->store.get(), w->writer.get(), &w->clock, &w->random);
  WebhookService::Options wso;
  wso.delivery_timeout_ms = 100;
  w->webhooks = std::make_unique<WebhookService>(wso, w->store.get(), w->writer.get(), &w->transport,
                                                 &w->clock, &w->random);
  GitOpsWriter::Options go;
  go.root = w->dir + "/gitops";
  go.git = false;
  w->gitops = Must(GitOpsWriter::Create(go), "gitops");
  DeployService::Options dso;
  dso.tamga_version = "fuzz";
  w->deploy = std::make_unique<DeployService>(dso, w->store.get(), w->writer.get(), w->registry.get(),
                                              w->events.get(), w->gitops.get(), &w->clock);
  w->job_store = Must(OpenSqliteJobStore(w->dir + "/jobs.db"), "jobs.db");
  JobService::Options jso;
  jso.max_wait_ms = 50;  // long-polls end quickly: the fuzzer does not wait for them
  w->jobs = std::make_unique<JobService>(jso, w->job_store.get(), w->tracking.get(), &w->clock, &w->random);
  if (!w->jobs->Load().ok()) std::abort();
  w->jobs->Start();  // the submitter thread answers job submissions

  w->dataset_store = Must(OpenSqliteDatasetStore(so.path, "NORMAL"), "datasets");
  w->datasets = std::make_unique<DatasetService>(w->dataset_store.get(), w->blobs.get(), &w->clock);
  RouteContext ctx{w->tracking.get(),      w->blobs.get(), &w->metrics,       w->registry.get(),
                   w->events.get(),        w->store.get(), w->webhooks.get(), w->deploy.get(),
                   w->logged_models.get(), w->jobs.get()};
  ctx.datasets = w->datasets.get();
  w->lineage = std::make_unique<LineageService>(w->tracking.get(), w->registry.get(), w->datasets.get(),
                                                w->jobs.get());
  ctx.lineage = w->lineage.get();
  w->trigger_store = Must(OpenSqliteTriggerStore(so.path, "NORMAL"), "triggers");
  w->triggers =
      std::make_unique<TriggerService>(TriggerService::Options{}, w->trigger_store.get(), w->jobs.get(),
                                       w->registry.get(), w->datasets.get(), &w->clock);
  ctx.triggers = w->triggers.get();
  // Reference tests run the CSV checks and the registry lookups; no model files exist to load.
  w->reference_tests = std::make_unique<ReferenceTestService>(
      w->registry.get(),
      [](const std::string&, const std::string&) -> Result<std::string> {
        return NotFound("fuzzing: no model files");
      },
      RuntimeOptions{});
  ctx.reference_tests = w->reference_tests.get();
  w->models = std::make_unique<ModelManager>(ServingOptions{}, &w->metrics);
  w->rollouts =
      std::make_unique<RolloutController>(w->deploy.get(), w->registry.get(), w->models.get(), &w->clock);
  ctx.rollouts = w->rollouts.get();
  w->payloads = std::make_unique<PayloadLogger>(PayloadLogger::Options{}, w->blobs.get(), &w->metrics);
  ctx.payloads = w->payloads.get();
  RegisterOpsRoutes(w->router, ctx);
  RegisterExperimentRoutes(w->router, ctx);
  RegisterRunRoutes(w->router, ctx);
  RegisterMetricRoutes(w->router, ctx);
  RegisterArtifactRoutes(w->router, ctx);
  RegisterPromptlabRoutes(w->router, ctx);
  RegisterRegisteredModelRoutes(w->router, ctx);
  RegisterModelVersionRoutes(w->router, ctx);
  RegisterTamgaRegistryRoutes(w->router, ctx);
  RegisterWebhookRoutes(w->router, ctx);
  RegisterDeployRoutes(w->router, ctx);
  RegisterLoggedModelRoutes(w->router, ctx);
  RegisterJobRoutes(w->router, ctx);
  RegisterUiApiRoutes(w->router, ctx);
  RegisterDatasetRoutes(w->router, ctx);
  RegisterLineageRoutes(w->router, ctx);
  RegisterTriggerRoutes(w->router, ctx);
  RegisterModelTestRoutes(w->router, ctx);
  g_world = w;

  for (const Route& r : kRoutes) {
    HttpRequest probe = MakeRequest(r.method, std::string(r.path) + (r.kind == kExact ? "" : "x"), "", "");
    RouteMatch m = w->router.Match(probe);
    if (!m.handler && !m.upload) {
      std::fprintf(stderr, "api_routes fuzzer: route %s is not registered any more; update kRoutes\n",
                   r.path);
      std::abort();
    }
  }

  // Entities the placeholders name.
  const std::string api = "/api/2.0/mlflow";
  auto& ids = w->ids;
  ids["$EXP"] = Setup(M::kPost, api + "/experiments/create", R"({"name":"fuzz-exp"})", "/experiment_id");
  ids["$RUN"] = Setup(M::kPost, api + "/runs/create",
                      R"({"experiment_id":")" + ids["$EXP"] + R"(","run_name":"r"})", "/run/info/run_id");
  Setup(
      M::kPost, api + "/runs/log-batch",
      R"({"run_id":")" + ids["$RUN"] +
          R"(","metrics":[{"key":"acc","value":0.5,"timestamp":1,"step":0}],"params":[{"key":"lr","value":"0.1"}]})",
      nullptr);
  ids["$MODEL"] = "fuzz-model";
  Setup(M::kPost, api + "/registered-models/create", R"({"name":"fuzz-model"})", nullptr);
  Setup(M::kPost, api + "/model-versions/create",
        R"({"name":"fuzz-model","source":"mlflow-artifacts:/)" + ids["$EXP"] + "/" + ids["$RUN"] +
            R"(/artifacts/model","run_id":")" + ids["$RUN"] + R"("})",
        nullptr);
  ids["$HOOK"] =
      Setup(M::kPost, api + "/webhooks",
            R"({"name":"h","url":"http://example.invalid/hook","events":["model_version.created"]})",
            "/webhook/webhook_id");
  ids["$QUEUE"] = "fuzzq";
  Setup(M::kPost, "/api/2.0/tamga/queues", R"({"name":"fuzzq"})", nullptr);
  ids["$AGENT"] =
      Setup(M::kPost, "/api/2.0/tamga/agents/register",
            R"({"agent_id":"fuzz-agent","report":{"name":"a","queues":["fuzzq"],"cpus":4}})", "/agent_id");
  ids["$JOB"] = Setup(M::kPost, "/api/2.0/tamga/jobs", R"({"queue":"fuzzq","command":["true"]})", "/job/id");
  // A dataset with one version of one file ("hello\n"): $DATASET, $OBJECT (the file), $MANIFEST.
  ids["$DATASET"] = "fuzz-data";
  Setup(M::kPost, "/api/2.0/tamga/datasets/create", R"({"name":"fuzz-data"})", nullptr);
  const std::string hello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  const std::string manifest_text = "tamga-manifest 1\n" + hello + " 6 a.txt\n";
  const std::string manifest = Sha256Hex(manifest_text);
  ids["$OBJECT"] = hello;
  ids["$MANIFEST"] = manifest;
  {
    HttpRequest up = MakeRequest(
        M::kPut, "/api/2.0/tamga/datasets/objects/upload", "name=fuzz-data",
        hello + " 6\nhello\n" + manifest + " " + std::to_string(manifest_text.size()) + "\n" + manifest_text);
    auto resp = Send(up, false);
    if (!resp || resp->status != 200) std::abort();
  }
  Setup(M::kPost, "/api/2.0/tamga/datasets/versions/create",
        R"({"name":"fuzz-data","manifest":")" + manifest + R"(","tags":["gold"]})", nullptr);
  ids["$TRIGGER"] = "fuzz-trigger";
  Setup(M::kPost, "/api/2.0/tamga/triggers",
        R"({"name":"fuzz-trigger","on_dataset":"fuzz-data@gold","job":{"queue":"fuzzq","command":["true"]}})",
        nullptr);

  std::atexit([] {
    std::string dir = g_world->dir;
    delete g_world;
    g_world = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
}

}  // namespace
}  // namespace tamga

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  static bool built = (BuildWorld(), true);
  (void)built;
  fuzz::FuzzInput in(data, size);
  const Route& route = kRoutes[in.Byte() % kNumRoutes];
  std::string line = Expand(std::string(in.Line()));
  std::string body = Expand(std::string(in.Rest()));
  size_t q = line.find('?');
  std::string suffix = line.substr(0, q);
  std::string query = q == std::string::npos ? "" : line.substr(q + 1);
  std::string path = route.path;
  if (route.kind != kExact) path += suffix;
  Send(MakeRequest(route.method, path, query, body), route.wait == kMayPark);
  return 0;
}
