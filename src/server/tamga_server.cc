#include "server/tamga_server.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "auth/auth_service.h"
#include "auth/oidc_login.h"
#include "core/clock.h"
#include "core/dir_lock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/port_file.h"
#include "core/random.h"
#include "core/store_uri.h"
#include "data/dataset_service.h"
#include "deploy/deploy_service.h"
#include "grpc/oip_grpc_server.h"
#include "http/access_control.h"
#include "http/http_server.h"
#include "http/leader_forwarder.h"
#include "http/routes/route_context.h"
#include "http/routes/serving_routes.h"
#include "jobs/job_service.h"
#include "lineage/lineage_service.h"
#include "lineage/openlineage.h"
#include "net/http_client.h"
#include "registry/event_hub.h"
#include "registry/logged_model_service.h"
#include "registry/registry_service.h"
#include "registry/webhook_dispatcher.h"
#include "server/in_process_source.h"
#include "server/local_serving.h"
#include "server/server_stores.h"
#include "storage/auth_store.h"
#include "storage/group_commit.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/pg_listener.h"
#include "tamga/build_info.h"
#include "tracking/tracking_service.h"
#include "triggers/trigger_service.h"

namespace tamga {

namespace {

// Webhook deliveries over the outbound HTTP client.
// Webhook URLs come from users: every delivery goes through the destination policy (no loopback, private,
// link-local or metadata addresses unless allow-listed).
class HttpWebhookTransport final : public WebhookTransport {
 public:
  DestinationPolicy policy;
  Result<WebhookReply> Post(const WebhookPost& post) override {
    HttpClientRequest req;
    req.method = "POST";
    req.url = post.url;
    req.headers = post.headers;
    req.body = post.body;
    req.timeout_ms = post.timeout_ms;
    req.max_response_bytes = 64 << 10;
    req.policy = &policy;
    TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
    return WebhookReply{res.status, std::move(res.body), res.Header("retry-after")};
  }
};

}  // namespace

struct TamgaServer::Parts {
  ServerConfig config;
  SystemClock clock;
  SystemRandom random;
  std::string replica_id;                  // owns this process's leases in a database several replicas share
  std::unique_ptr<DirLock> data_dir_lock;  // first: held until everything else is gone
  BackendStores stores;  // locks and the store openers (the metadata store moves to `store`)
  // Several replicas on one PostgreSQL: tells the others about this replica's commits. Outlives everything
  // that posts to it.
  std::unique_ptr<PgNotifier> notifier;
  MetricsRegistry metrics;
  LongPollGate long_polls{LongPollGate::Options{}};  // early: outlives every service holding a wait's ticket
  // Before every service: destroyed after them. Services hold responders of in-flight requests (long-polls,
  // batches); those reference connections that must die while the HTTP server's io_context still exists.
  std::unique_ptr<HttpServer> http;
  // Before the writer: its commit completions bump the feed until the writer is gone.
  std::unique_ptr<RunChangeFeed> run_changes;
  std::unique_ptr<SqlMetadataStore> store;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<GroupCommitter> writer;
  std::unique_ptr<TrackingService> tracking;
  std::unique_ptr<EventHub> events;
  std::unique_ptr<RegistryService> registry;
  std::unique_ptr<LoggedModelService> logged_models;
  HttpWebhookTransport webhook_transport;
  std::unique_ptr<WebhookService> webhooks;
  std::unique_ptr<WebhookDispatcher> dispatcher;
  std::unique_ptr<GitOpsWriter> gitops;
  std::unique_ptr<DeployService> deploy;
  std::unique_ptr<JobStore> job_store;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<PayloadLogger> payloads;  // before models: destroyed after their last completion
  std::unique_ptr<GpuAdmission> gpu;        // before models: outlives them
  std::unique_ptr<ModelManager> models;
  std::unique_ptr<LocalServing> local_serving;
  std::unique_ptr<OipGrpcServer> grpc;
  std::unique_ptr<AuthStore> auth_store;
  std::unique_ptr<DatasetStore> dataset_store;
  std::unique_ptr<DatasetService> datasets;
  std::unique_ptr<LineageService> lineage;
  std::unique_ptr<OpenLineageEmitter> openlineage;
  std::unique_ptr<TriggerStore> trigger_store;
  std::unique_ptr<ReferenceTestService> reference_tests;
  std::unique_ptr<RolloutController> rollouts;
  std::unique_ptr<TriggerService> triggers;
  std::unique_ptr<OidcVerifier> oidc;
  std::unique_ptr<OidcVerifier> oidc_id_tokens;  // the browser sign-in's ID tokens (audience = client id)
  std::unique_ptr<OidcLogin> oidc_login;
  std::unique_ptr<AuthService> auth;
  std::unique_ptr<AccessControl> access;
  std::unique_ptr<UiAssets> ui;
  Router router;
  // Several replicas (PostgreSQL): last, so they stop first. The job scheduler runs on the replica holding
  // the leader lock; the others forward its routes there.
  std::atomic<bool> leading{false};     // holds the leader lock
  std::atomic<bool> jobs_ready{false};  // and has loaded the job working set
  std::unique_ptr<LeaderForwarder> job_forward;
  std::unique_ptr<PgLeaderLock> leader;
  std::unique_ptr<PgListener> listener;
};

namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// "<host>/<pid>/<random>": unique per process, readable in the lease columns.
std::string ReplicaId(Random& random) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  // Short enough that "tamga <id>" fits PostgreSQL's 63-byte application_name whole.
  return std::string(host[0] ? host : "replica").substr(0, 32) + "/" + std::to_string(getpid()) + "/" +
         NewRunId(random).substr(0, 8);
}

}  // namespace

// Where the leader can be reached: nullopt once this replica leads and has loaded the jobs; "" while the lead
// is changing hands. Read from the database at most once a second.
std::function<std::optional<std::string>()> TamgaServer::LeaderUrlSource(Parts* p) {
  struct Cache {
    std::mutex mu;
    std::unique_ptr<PgDb> db;
    std::string url;
    std::chrono::steady_clock::time_point read_at{};
  };
  auto cache = std::make_shared<Cache>();
  StoreUri uri = *p->stores.postgres;
  return [p, cache, uri]() -> std::optional<std::string> {
    if (p->leading) return p->jobs_ready ? std::nullopt : std::optional<std::string>(std::string());
    std::lock_guard<std::mutex> l(cache->mu);
    auto now = std::chrono::steady_clock::now();
    if (now - cache->read_at < std::chrono::seconds(1)) return cache->url;
    cache->read_at = now;
    if (!cache->db) {
      auto db = PgDb::Open(uri);
      if (!db.ok()) return cache->url = "";
      cache->db = std::move(*db);
    }
    auto url = PgLeaderLock::LeaderUrl(*cache->db, "jobs");
    if (!url.ok()) cache->db.reset();
    cache->url = url.ok() ? *url : "";
    return cache->url;
  };
}

// Several replicas on one PostgreSQL: wake-ups from the others' commits, and the race for the lead.
Status TamgaServer::StartReplicaLinks(Parts* p) {
  const StoreUri& uri = *p->stores.postgres;
  auto handler = [p](const std::string& channel, const std::string& payload) {
    if (channel.empty()) {  // (re)connected: catch up with whatever was missed
      if (auto seq = p->store->registry().LastEventSeq(); seq.ok()) p->events->PublishFromPeer(*seq);
      if (p->auth) (void)p->auth->Reload();
    } else if (channel == kPgEventsChannel) {
      int64_t seq = 0;
      auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), seq);
      if (ec == std::errc() && end == payload.data() + payload.size()) p->events->PublishFromPeer(seq);
    } else if (channel == kPgRunsChannel) {
      if (!payload.empty() && payload.size() <= 64) p->run_changes->Bump(payload);
    } else if (channel == kPgIdentityChannel && p->auth && payload != p->replica_id) {
      Status s = p->auth->Reload();
      if (!s.ok())
        TAMGA_LOG(kWarn, "reloading identities after another replica's change failed",
                  {{"error", s.ToString()}});
    }
  };
  TAMGA_ASSIGN_OR_RETURN(
      p->listener, PgListener::Start(uri, {kPgEventsChannel, kPgRunsChannel, kPgIdentityChannel}, handler));
  PgLeaderLock::Options lo;
  lo.replica_id = p->replica_id;
  lo.url = p->config.advertise_url;
  if (lo.url.empty()) {
    std::string host = p->config.host;
    if (host.empty() || host == "0.0.0.0" || host == "::") {
      char name[256] = {0};
      host = gethostname(name, sizeof(name) - 1) == 0 && name[0] ? name : "127.0.0.1";
    }
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    lo.url = (p->config.tls_cert_file.empty() ? "http://" : "https://") + host + ":" +
             std::to_string(p->http->port());
  }
  auto acquired = [p] {
    p->leading = true;
    Status s = p->jobs->Load();
    if (!s.ok()) {
      // Leading without the working set would hand out jobs twice: stop, let the supervisor restart us.
      TAMGA_LOG(kError, "leader: loading the job working set failed; exiting", {{"error", s.ToString()}});
      std::_Exit(3);
    }
    p->jobs->Start();
    p->triggers->Start();  // triggers queue jobs: they run where the scheduler does
    p->jobs_ready = true;
  };
  auto lost = [] {
    // The lock went with the session: another replica may lead already. Two schedulers must never run.
    TAMGA_LOG(kError,
              "leader: lost the database session holding the lead; exiting so a supervisor restarts this "
              "replica",
              {});
    std::_Exit(3);
  };
  TAMGA_ASSIGN_OR_RETURN(p->leader, PgLeaderLock::Start(uri, lo, acquired, lost));
  return Status::Ok();
}

Result<std::unique_ptr<TamgaServer>> TamgaServer::Create(const ServerConfig& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  const bool auth_on = config.auth == "on";
  if (!auth_on && !config.oidc_issuer.empty()) {
    return FailedPrecondition("--oidc-issuer needs --auth on");
  }
  if (!config.oidc_issuer.empty() && config.oidc_audience.empty()) {
    return FailedPrecondition(
        "--oidc-issuer needs --oidc-audience (the client id tokens are issued for): without it a token the "
        "issuer made for any other application would be accepted");
  }
  if (!config.public_url.empty() && config.public_url.rfind("https://", 0) != 0 &&
      config.public_url.rfind("http://", 0) != 0) {
    return InvalidArgument("--public-url must be an http(s):// URL (where browsers reach this server)");
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return InvalidArgument("HTTPS needs both --tls-cert and --tls-key");
  }
  // Unreadable or mismatched key material stops the server before anything is written.
  if (!config.tls_cert_file.empty())
    TAMGA_RETURN_IF_ERROR(HttpServer::CheckTls(config.tls_cert_file, config.tls_key_file));
  if (!auth_on && !IsLoopback(config.host) && !config.insecure_no_auth) {
    return FailedPrecondition("refusing to serve " + config.host +
                              " with --auth off: anyone who reaches it could read and change everything. Use "
                              "--auth on (docs/security.md), or --insecure-no-auth if a proxy in front "
                              "authenticates every request.");
  }

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Internal("cannot create data dir " + config.data_dir + ": " + ec.message());
  // One server per data dir: two would share one SQLite writer role and one artifact tree.
  TAMGA_ASSIGN_OR_RETURN(p->data_dir_lock, DirLock::Acquire(config.data_dir));
  p->replica_id = ReplicaId(p->random);
  SetPgApplicationName("tamga " + p->replica_id);  // before any PostgreSQL connection of this replica
  TAMGA_ASSIGN_OR_RETURN(p->stores, OpenBackendStores(config));
  if (p->stores.postgres) {
    TAMGA_ASSIGN_OR_RETURN(p->notifier, PgNotifier::Start(*p->stores.postgres));
  }
  p->store = std::move(p->stores.metadata);
  TAMGA_LOG(kInfo, "metadata store", {{"backend", p->stores.description}});
  TAMGA_ASSIGN_OR_RETURN(p->blobs, OpenArtifactStore(config, &p->clock, &p->random));
  TAMGA_ASSIGN_OR_RETURN(p->writer, GroupCommitter::Create({}, p->store.get(), &p->clock, &p->metrics));
  TrackingService::Options tso;
  if (!config.default_artifact_root.empty()) tso.default_artifact_root = config.default_artifact_root;
  p->tracking =
      std::make_unique<TrackingService>(tso, p->store.get(), p->writer.get(), &p->clock, &p->random);
  TAMGA_RETURN_IF_ERROR(p->tracking->EnsureDefaultExperiment());

  TAMGA_ASSIGN_OR_RETURN(int64_t last_seq, p->store->registry().LastEventSeq());
  p->events = std::make_unique<EventHub>(last_seq);
  if (PgNotifier* n = p->notifier.get())
    p->events->SetRelay([n](int64_t seq) { n->Post(kPgEventsChannel, std::to_string(seq)); });
  p->registry = std::make_unique<RegistryService>(p->store.get(), p->writer.get(), p->blobs.get(),
                                                  p->events.get(), &p->clock, &p->random);
  p->logged_models =
      std::make_unique<LoggedModelService>(p->store.get(), p->writer.get(), &p->clock, &p->random);

  TAMGA_ASSIGN_OR_RETURN(p->webhook_transport.policy,
                         DestinationPolicy::Create({config.outbound_allow, true}));
  WebhookService::Options wso;
  wso.delivery_timeout_ms = config.webhook_timeout_ms;
  p->webhooks = std::make_unique<WebhookService>(wso, p->store.get(), p->writer.get(), &p->webhook_transport,
                                                 &p->clock, &p->random);
  WebhookDispatcher::Options wdo;
  wdo.delivery_timeout_ms = config.webhook_timeout_ms;
  wdo.replica_id = p->replica_id;
  p->dispatcher = std::make_unique<WebhookDispatcher>(wdo, p->store.get(), p->writer.get(), p->events.get(),
                                                      &p->webhook_transport, &p->clock, &p->random);
  GitOpsWriter::Options go;
  go.root = config.gitops_dir.empty() ? config.data_dir + "/gitops" : config.gitops_dir;
  go.git = config.gitops_git;
  TAMGA_ASSIGN_OR_RETURN(p->gitops, GitOpsWriter::Create(go));
  DeployService::Options dso;
  dso.tamga_version = kVersion;
  dso.replica_id = p->replica_id;
  p->deploy = std::make_unique<DeployService>(dso, p->store.get(), p->writer.get(), p->registry.get(),
                                              p->events.get(), p->gitops.get(), &p->clock);

  TAMGA_ASSIGN_OR_RETURN(p->job_store, p->stores.open_jobs());
  JobService::Options jso;
  jso.agent_timeout_ms = config.agent_timeout_ms;
  jso.max_log_bytes_per_job = config.job_log_limit_bytes;
  p->jobs = std::make_unique<JobService>(jso, p->job_store.get(), p->tracking.get(), &p->clock, &p->random);
  p->jobs->ExportMetrics(&p->metrics);
  // On SQLite this process is the only server; on PostgreSQL the replica holding the leader lock loads the
  // job working set when it takes the lead (StartReplicaLinks).
  if (!p->stores.postgres) TAMGA_RETURN_IF_ERROR(p->jobs->Load());
  TAMGA_ASSIGN_OR_RETURN(p->dataset_store, p->stores.open_datasets());
  p->datasets = std::make_unique<DatasetService>(p->dataset_store.get(), p->blobs.get(), &p->clock);
  p->lineage = std::make_unique<LineageService>(p->tracking.get(), p->registry.get(), p->datasets.get(),
                                                p->jobs.get());
  TAMGA_ASSIGN_OR_RETURN(p->trigger_store, p->stores.open_triggers());
  p->triggers =
      std::make_unique<TriggerService>(TriggerService::Options{}, p->trigger_store.get(), p->jobs.get(),
                                       p->registry.get(), p->datasets.get(), &p->clock);
  if (!config.openlineage_url.empty()) {
    TAMGA_RETURN_IF_ERROR(ParseHttpUrl(config.openlineage_url).status());
    OpenLineageEmitter::Options oo;
    oo.url = config.openlineage_url;
    oo.api_key = config.openlineage_api_key;
    oo.job_namespace = config.openlineage_namespace;
    std::string self = config.public_url.empty() ? config.openlineage_namespace : config.public_url;
    if (size_t scheme = self.find("://"); scheme != std::string::npos) self = self.substr(scheme + 3);
    while (!self.empty() && self.back() == '/') self.pop_back();
    oo.server_url = self;
    oo.producer = std::string("https://github.com/tamga-mlops/tamga/tree/v") + kVersion;
    p->openlineage = std::make_unique<OpenLineageEmitter>(oo, p->lineage.get(), &p->metrics);
    p->jobs->SetObserver([e = p->openlineage.get()](const Job& job, JobService::JobEvent ev) {
      e->OnJob(job, ev == JobService::JobEvent::kStarted);
    });
  }

  if (auth_on) {
    TAMGA_ASSIGN_OR_RETURN(p->auth_store, p->stores.open_auth());
    AuthService::Options ao;
    TAMGA_ASSIGN_OR_RETURN(ao.default_permission, ParsePermission(config.default_permission));
    ao.admin_username = config.admin_username;
    ao.admin_password = config.admin_password;
    ao.initial_password_file = config.data_dir + "/initial-admin-password";
    // The payload names the replica, so it skips its own notification (it has applied the change already).
    if (PgNotifier* n = p->notifier.get())
      ao.on_changed = [n, id = p->replica_id] { n->Post(kPgIdentityChannel, id); };
    if (!config.oidc_issuer.empty()) {
      OidcVerifier::Options oo;
      oo.issuer = config.oidc_issuer;
      oo.audience = config.oidc_audience;
      oo.username_claim = config.oidc_username_claim;
      oo.groups_claim = config.oidc_groups_claim;
      // The issuer is the operator's choice (often on a private network): not fenced like webhook URLs.
      auto fetch = [](const std::string& url, int64_t timeout_ms) -> Result<std::string> {
        HttpClientRequest req;
        req.url = url;
        req.timeout_ms = timeout_ms;
        req.max_response_bytes = 1 << 20;
        TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
        if (res.status != 200) return Unavailable("GET " + url + " answered " + std::to_string(res.status));
        return std::move(res.body);
      };
      p->oidc = std::make_unique<OidcVerifier>(oo, fetch, &p->clock);
      if (Status s = p->oidc->Refresh(); !s.ok()) {
        TAMGA_LOG(kWarn, "OIDC issuer not reachable yet; tokens are refused until it is",
                  {{"issuer", config.oidc_issuer}, {"error", s.ToString()}});
      }
      ao.oidc = p->oidc.get();
      ao.oidc_admin_group = config.oidc_admin_group;
      // The browser sign-in needs to know where the issuer sends browsers back: --public-url.
      if (!config.public_url.empty()) {
        OidcVerifier::Options io = oo;
        io.audience = config.oidc_client_id.empty() ? config.oidc_audience : config.oidc_client_id;
        p->oidc_id_tokens = std::make_unique<OidcVerifier>(io, fetch, &p->clock);
        OidcLogin::Options lo;
        lo.client_id = io.audience;
        lo.client_secret = config.oidc_client_secret;
        std::string base = config.public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        lo.redirect_uri = base + "/login/callback";
        auto post = [](const std::string& url, const std::string& form,
                       int64_t timeout_ms) -> Result<std::string> {
          HttpClientRequest req;
          req.method = "POST";
          req.url = url;
          req.body = form;
          req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Accept", "application/json"}};
          req.timeout_ms = timeout_ms;
          req.max_response_bytes = 1 << 20;
          TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
          if (res.status != 200)
            return Unauthenticated("POST " + url + " answered " + std::to_string(res.status));
          return std::move(res.body);
        };
        lo.store = p->auth_store.get();
        p->oidc_login = std::make_unique<OidcLogin>(lo, p->oidc_id_tokens.get(), post, &p->clock);
      }
    }
    TAMGA_ASSIGN_OR_RETURN(p->auth, AuthService::Create(ao, p->auth_store.get(), &p->clock));
    AccessControl::Options aco;
    aco.metrics_open = config.metrics_auth == "open";
    aco.audit_ingest = config.audit_ingest;
    p->access = std::make_unique<AccessControl>(aco, p->auth.get(), p->store.get());
  }
  RouteContext ctx{p->tracking.get(),      p->blobs.get(), &p->metrics,       p->registry.get(),
                   p->events.get(),        p->store.get(), p->webhooks.get(), p->deploy.get(),
                   p->logged_models.get(), p->jobs.get(),  &p->long_polls};
  ctx.auth = p->auth.get();
  ctx.clock = &p->clock;
  ctx.oidc_login = p->oidc_login.get();
  ctx.secure_cookies = !config.tls_cert_file.empty() || config.public_url.rfind("https://", 0) == 0;
  if (config.ui_dir.empty()) {
    p->ui = NewEmbeddedUiAssets();
  } else {
    std::string error;
    p->ui = LoadUiAssetsFromDir(config.ui_dir, &error);
    if (p->ui == nullptr) return InvalidArgument(error);
  }
  ctx.ui = p->ui.get();
  p->run_changes = std::make_unique<RunChangeFeed>();
  p->tracking->SetRunObserver(
      [feed = p->run_changes.get(), n = p->notifier.get()](const std::string& run_id) {
        feed->Bump(run_id);
        if (n) n->Post(kPgRunsChannel, run_id);
      });
  if (p->stores.postgres) {
    p->job_forward = std::make_unique<LeaderForwarder>(LeaderForwarder::Options{}, LeaderUrlSource(p.get()));
    ctx.job_leader = p->job_forward.get();
  }
  ctx.run_changes = p->run_changes.get();
  ctx.datasets = p->datasets.get();
  ctx.lineage = p->lineage.get();
  ctx.triggers = p->triggers.get();
  // Reference-score tests load the version from this server's registry into the model cache, as local
  // deployments do, and run it with the serving runtime options.
  std::string model_cache =
      config.model_cache_dir.empty() ? config.data_dir + "/model-cache" : config.model_cache_dir;
  p->reference_tests = std::make_unique<ReferenceTestService>(
      p->registry.get(),
      [registry = p->registry.get(), hub = p->events.get(), model_cache](
          const std::string& name, const std::string& version) -> Result<std::string> {
        InProcessRegistrySource source(registry, hub, "models:/" + name + "/" + version, model_cache);
        TAMGA_ASSIGN_OR_RETURN(ResolvedVersion v, source.Resolve());
        return source.Fetch(v);
      },
      [&config] {
        RuntimeOptions r = config.serving.runtime;
        if (r.device == "auto") r.device = "cpu";  // tests score off the serving GPUs' ledger
        return r;
      }());
  ctx.reference_tests = p->reference_tests.get();
  p->models = std::make_unique<ModelManager>(config.serving, &p->metrics);
  // `--device auto`: local deployments are placed on GPUs by memory, after the job scheduler's reservations.
  p->gpu =
      MakeGpuAdmission(config.serving.runtime.device, [jobs = p->jobs.get()] { return jobs->GpuLedger(); });
  p->models->SetGpuAdmission(p->gpu.get());
  p->payloads = std::make_unique<PayloadLogger>(PayloadLogger::Options{}, p->blobs.get(), &p->metrics);
  p->models->SetPayloadLogger(p->payloads.get());
  ctx.payloads = p->payloads.get();
  ctx.served = p->models.get();
  // Drift of a local deployment's inputs fires the retraining triggers bound to it (docs/rollouts.md §7).
  p->models->SetDriftListener([triggers = p->triggers.get()](const std::string& name,
                                                             const std::string& version,
                                                             const DriftReport& report) {
    triggers->NotifyDrift(name, DriftEventText(version, report));
  });
  // A new reference-score test gives the endpoints serving that version new reference statistics.
  p->reference_tests->SetOnTested([parts = p.get()](const std::string& name, const std::string& version) {
    if (parts->local_serving) parts->local_serving->OnReferenceTest(name, version);
  });
  p->rollouts =
      std::make_unique<RolloutController>(p->deploy.get(), p->registry.get(), p->models.get(), &p->clock);
  ctx.rollouts = p->rollouts.get();
  TAMGA_RETURN_IF_ERROR(RegisterServerRoutes(p->router, ctx, &p->metrics));

  HttpServer::Options ho;
  ho.host = config.host;
  ho.port = config.port;
  ho.threads = config.workers > 0 ? config.workers
                                  : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  ho.max_body_bytes = config.max_body_mb << 20;
  ho.limits = config.http_limits;
  ho.drain_timeout_ms = config.drain_timeout_ms;
  ho.gate = p->access.get();
  ho.tls_cert_file = config.tls_cert_file;
  ho.tls_key_file = config.tls_key_file;
  JobService* jobs = p->jobs.get();
  ho.on_shutdown = [jobs] {
    jobs->Shutdown();
  };  // agents' lease long-polls end now, not at the drain timeout
  TAMGA_ASSIGN_OR_RETURN(p->http, HttpServer::Create(ho, &p->router, &p->metrics, &p->clock));
  if (config.grpc_port >= 0) {
    GrpcServerOptions gso;
    gso.host = config.host;
    gso.port = config.grpc_port;
    gso.max_message_bytes = config.max_body_mb << 20;
    gso.tls_cert_file = config.tls_cert_file;
    gso.tls_key_file = config.tls_key_file;
    if (AccessControl* access = p->access.get()) {
      gso.authorize = [access](std::string_view authorization, const std::string& model,
                               const std::string& peer) {
        return access->AuthorizeCall(authorization, model, peer, "grpc:inference.GRPCInferenceService");
      };
    }
    TAMGA_ASSIGN_OR_RETURN(p->grpc, OipGrpcServer::Start(gso, p->models.get()));
    WritePortFile(config.grpc_port_file, p->grpc->port());
  }
  WritePortFile(config.port_file, p->http->port());
  std::string allow;
  for (const auto& a : config.outbound_allow) allow += (allow.empty() ? "" : ",") + a;
  TAMGA_LOG(kInfo, "tamga server listening",
            {{"host", config.host},
             {"port", std::to_string(p->http->port())},
             {"data_dir", config.data_dir},
             {"workers", std::to_string(ho.threads)},
             {"schema_version", std::to_string(p->store->SchemaVersion())},
             {"version", kVersion},
             {"max_connections", std::to_string(ho.limits.max_connections)},
             {"header_timeout_ms", std::to_string(ho.limits.header_timeout_ms)},
             {"idle_timeout_ms", std::to_string(ho.limits.idle_timeout_ms)},
             {"min_upload_rate", std::to_string(ho.limits.min_upload_rate)},
             {"outbound_allow", allow.empty() ? "none" : allow},
             {"auth", config.auth},
             {"tls", config.tls_cert_file.empty() ? "off" : "on"},
             {"default_permission", auth_on ? config.default_permission : "n/a"}});
  p->dispatcher->Start();
  p->deploy->Start();
  if (p->stores.postgres) {
    TAMGA_RETURN_IF_ERROR(StartReplicaLinks(p.get()));
  } else {
    p->jobs->Start();
    p->triggers->Start();  // triggers queue jobs: they run where the scheduler does
    p->jobs_ready = true;
  }
  // Local deployments load from this server's own registry and blob store (no loopback HTTP).
  p->local_serving = std::make_unique<LocalServing>(p->deploy.get(), p->models.get(), p->registry.get(),
                                                    p->events.get(), model_cache, p->rollouts.get());
  // A request to a snoozed local deployment wakes it (docs/rollouts.md §8).
  p->models->SetWakeListener(
      [ls = p->local_serving.get()](const std::string& name) { ls->RequestWake(name); });
  p->local_serving->Start();
  p->rollouts->Start();
  return std::unique_ptr<TamgaServer>(new TamgaServer(std::move(p)));
}

TamgaServer::TamgaServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
TamgaServer::~TamgaServer() {
  if (parts_->rollouts) parts_->rollouts->Shutdown();
  if (parts_->local_serving) parts_->local_serving->Shutdown();
  if (parts_->grpc) parts_->grpc->Shutdown();
}
int TamgaServer::port() const { return parts_->http->port(); }

Status TamgaServer::Run() {
  parts_->http->Run();
  parts_->triggers->Shutdown();
  parts_->jobs->Shutdown();
  parts_->rollouts->Shutdown();
  parts_->local_serving->Shutdown();
  parts_->reference_tests->Shutdown();
  if (parts_->grpc) parts_->grpc->Shutdown();
  parts_->models.reset();
  parts_->payloads->Shutdown();  // writes what is buffered
  TAMGA_LOG(kInfo, "http drained; committing queued writes");
  parts_->events->Shutdown();
  parts_->dispatcher->Shutdown();
  parts_->deploy->Shutdown();
  parts_->writer->Shutdown();
  Status s = parts_->store->Flush();
  TAMGA_LOG(kInfo, "tamga server stopped", {{"flush", s.ToString()}});
  return s;
}

}  // namespace tamga
