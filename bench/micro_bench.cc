// In-process micro-benchmarks of the CPU-bound pieces on the hot paths (Google Benchmark).
#include <benchmark/benchmark.h>

#include "auth/auth_service.h"
#include "auth/credential_cache.h"
#include "auth/credentials.h"
#include "auth/password_hash.h"
#include "auth/tokens.h"

#include <random>

#include <filesystem>
#include <future>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/random.h"
#include "http/access_control.h"
#include "http/fast_log_parser.h"
#include "http/mlflow_json.h"
#include "http/request_fields.h"
#include "http/router.h"
#include "storage/group_commit.h"
#include "storage/metric_series.h"
#include "storage/sqlite/sqlite_stores.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"

using namespace tamga;

static std::string BatchBody() {
  std::string body = "{\"run_id\":\"0123456789abcdef0123456789abcdef\",\"metrics\":[";
  for (int i = 0; i < 1000; ++i) {
    if (i) body += ",";
    body += "{\"key\":\"m" + std::to_string(i % 10) + "\",\"value\":" + std::to_string(0.001 * i + 0.123456) +
            ",\"timestamp\":" + std::to_string(1700000000000 + i) + ",\"step\":" + std::to_string(i / 10) +
            "}";
  }
  return body + "]}";
}

static void BM_LogBatchFastParse(benchmark::State& state) {
  std::string body = BatchBody();
  for (auto _ : state) benchmark::DoNotOptimize(TryParseLogBatch(body));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * int64_t(body.size()));
}
BENCHMARK(BM_LogBatchFastParse);

static void BM_LogBatchGeneralParse(benchmark::State& state) {
  std::string body = BatchBody();
  for (auto _ : state) benchmark::DoNotOptimize(RequestFields::FromJsonText(body));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * int64_t(body.size()));
}
BENCHMARK(BM_LogBatchGeneralParse);

static void BM_ParseFilter(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseSearchFilter(
        "metrics.m1 > 0.5 and params.model LIKE 'res%' and tags.`a b` = 'x'", SearchEntity::kRuns));
  }
}
BENCHMARK(BM_ParseFilter);

static void BM_HistoryMergeAndSerialize(benchmark::State& state) {
  std::vector<std::vector<PackedPoint>> chunks(state.range(0) / 1000);
  for (size_t k = 0; k < chunks.size(); ++k) {
    for (int i = 0; i < 1000; ++i) {
      int64_t s = int64_t(k) * 1000 + i;
      chunks[k].push_back({s, 1700000000000 + s, 1.0 / (1 + s)});
    }
  }
  for (auto _ : state) {
    HistoryCollector c(std::nullopt, 0);
    for (const auto& chunk : chunks) c.Feed(chunk);
    HistoryPage page = c.Finish();
    std::string out;
    AppendMetricHistoryJson(&out, "loss", page.points, "");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HistoryMergeAndSerialize)->Arg(100000);

// The per-request credential check with auth on (docs/identity.md): parse the Authorization header, then a
// hit in the verified-credential cache (SHA-256 of the header + a sharded map lookup).
static void BM_AuthCachedCredential(benchmark::State& state) {
  tamga::CredentialCache cache;
  std::string header = "Bearer " + tamga::NewAccessToken();
  tamga::Principal p;
  p.username = "ana";
  cache.Insert(header, p, 0);
  for (auto _ : state) {
    auto c = tamga::ParseAuthorization(header);
    benchmark::DoNotOptimize(c);
    auto hit = cache.Lookup(header, 1);
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_AuthCachedCredential);

// What MLflow's basic-auth app pays on every request, and Tamga once per credential and cache period.
static void BM_AuthScryptVerify(benchmark::State& state) {
  auto stored = tamga::HashPassword("correct horse battery staple");
  for (auto _ : state)
    benchmark::DoNotOptimize(tamga::VerifyPassword("correct horse battery staple", *stored));
}
BENCHMARK(BM_AuthScryptVerify)->Unit(benchmark::kMillisecond);

// The whole per-request access check of a log-metric with auth on (docs/identity.md): the Authorization
// header's cached proof, the route's rule, the run id read from the body (simdjson on demand), the run's
// experiment (cached) and the caller's permission on it. A real SQLite store and AuthService in a temp dir.
static void GateBench(benchmark::State& state, bool infer) {
  std::string dir =
      std::filesystem::temp_directory_path().string() + "/tamga-bench-gate-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SystemClock clock;
  SystemRandom random;
  MetricsRegistry metrics;
  auto store = OpenSqliteMetadataStore({dir + "/tamga.db"}).value();
  auto writer = GroupCommitter::Create({}, store.get(), &clock, &metrics).value();
  TrackingService tracking(TrackingService::Options{}, store.get(), writer.get(), &clock, &random);
  (void)tracking.EnsureDefaultExperiment();
  std::promise<Result<Run>> made;
  tracking.CreateRun(CreateRunRequest{}, [&](Result<Run> r) { made.set_value(std::move(r)); });
  std::string run_id = made.get_future().get()->info.run_id;
  auto auth_store = OpenSqliteAuthStore(dir + "/tamga.db", "NORMAL").value();
  AuthService::Options ao;
  ao.admin_password = "bench-admin-pass";
  auto auth = AuthService::Create(ao, auth_store.get(), &clock).value();
  auto user = *auth->CreateUser("ana", "ana-pass-1234", false);
  (void)auth->CreateGrant(ObjectKind::kExperiment, "0", "ana", Permission::kEdit);
  AuthService::CreateTokenRequest tr;
  tr.user_id = user.id;
  tr.name = "bench";
  std::string token = auth->CreateToken(tr)->secret;
  AccessControl gate({}, auth.get(), store.get());
  Router router;
  router.Add(HttpMethod::kPost, "/api/2.0/mlflow/runs/log-metric", [](HttpRequest&, Responder) {});
  router.AddPrefix(HttpMethod::kPost, "/v2/models/", [](HttpRequest&, Responder) {});
  HttpRequest proto;
  proto.method = HttpMethod::kPost;
  proto.path = proto.target = "/api/2.0/mlflow/runs/log-metric";
  proto.headers["authorization"] = "Bearer " + token;
  proto.headers["content-type"] = "application/json";
  proto.body = "{\"run_id\":\"" + run_id +
               "\",\"key\":\"loss\",\"value\":0.25,\"timestamp\":1700000000000,\"step\":1}";
  if (infer) {  // V2 inference on an in-process deployment: READ on the deployment named by the path
    (void)auth->SetGrant(ObjectKind::kDeployment, "churn", {false, "ana"}, Permission::kRead);
    proto.path = proto.target = "/v2/models/churn/infer";
    proto.body =
        R"({"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,8],"data":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]}]})";
  }
  int64_t denied = 0;
  for (auto _ : state) {
    HttpRequest req = proto;
    RouteMatch m = router.Match(req);
    HttpResponse denial;
    auto v = gate.AdmitHead(req, m, &denial, [](std::optional<HttpResponse>) {});
    auto d = gate.AdmitBody(req, m);
    gate.Completed(req, m, 200);
    denied += (v != AccessGate::Verdict::kAdmit) + d.has_value();
  }
  if (denied) state.SkipWithError("the gate refused the request");
  writer->Shutdown();
  std::filesystem::remove_all(dir);
}
static void BM_AccessGateLogMetric(benchmark::State& state) { GateBench(state, false); }
BENCHMARK(BM_AccessGateLogMetric);
static void BM_AccessGateV2Infer(benchmark::State& state) { GateBench(state, true); }
BENCHMARK(BM_AccessGateV2Infer);

// The same request's fixed cost without auth: the copy of the request and the route match the loop above
// also pays, so the difference is the gate.
static void BM_AccessGateBaseline(benchmark::State& state) {
  Router router;
  router.Add(HttpMethod::kPost, "/api/2.0/mlflow/runs/log-metric", [](HttpRequest&, Responder) {});
  HttpRequest proto;
  proto.method = HttpMethod::kPost;
  proto.path = proto.target = "/api/2.0/mlflow/runs/log-metric";
  proto.headers["authorization"] = "Bearer " + NewAccessToken();
  proto.headers["content-type"] = "application/json";
  proto.body =
      "{\"run_id\":\"0123456789abcdef0123456789abcdef\",\"key\":\"loss\",\"value\":0.25,\"timestamp\":1}";
  for (auto _ : state) {
    HttpRequest req = proto;
    benchmark::DoNotOptimize(router.Match(req));
  }
}
BENCHMARK(BM_AccessGateBaseline);

BENCHMARK_MAIN();
