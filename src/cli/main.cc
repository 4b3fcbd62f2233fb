// The `tamga` command: one binary for the server and the CLI. One file per command group as they grow.
#include <CLI/CLI.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>

#include "cli/admin_commands.h"
#include "cli/client_commands.h"
#include "cli/data_commands.h"
#include "cli/job_commands.h"
#include "cli/lineage_commands.h"
#include "cli/policy_commands.h"
#include "cli/rollout_commands.h"
#include "cli/score_commands.h"
#include "cli/suggest.h"
#include "cli/token_commands.h"
#include "cli/trigger_commands.h"
#include "core/log.h"
#include "jobs/job_types.h"
#include "net/http_client.h"
#include "server/serve_server.h"
#include "server/tamga_server.h"
#include "tamga/build_info.h"

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Connection limits, the same flags on every process that answers HTTP (docs/security.md).
void AddHttpLimitFlags(CLI::App* app, tamga::HttpLimits* limits) {
  app->add_option("--max-connections", limits->max_connections,
                  "Open connections; more are answered 503 and closed")
      ->envname("TAMGA_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--header-timeout-ms", limits->header_timeout_ms, "A request head must arrive within this")
      ->envname("TAMGA_HEADER_TIMEOUT_MS")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app->add_option("--idle-timeout-ms", limits->idle_timeout_ms,
                  "Keep-alive connections idle this long are closed")
      ->envname("TAMGA_IDLE_TIMEOUT_MS")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  app->add_option("--min-upload-rate", limits->min_upload_rate,
                  "Bytes/s a request body must keep up after the header timeout's grace (0 = off)")
      ->envname("TAMGA_MIN_UPLOAD_RATE")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
}

// Many connections need many descriptors: lift the soft limit to the hard one (the cap is --max-connections).
void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Buffers of 1 MiB and more (S3 parts, streamed artifact chunks, model tensors) go back to the system when
  // freed: glibc would otherwise raise its mmap threshold after the first free and keep such buffers in
  // per-thread arenas, so memory would grow with every thread that once held one.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"Tamga: experiment tracking, model registry and serving in one binary (MLflow-compatible)."};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level, --log-format) may follow the subcommand too
  std::string log_level = EnvOr("TAMGA_LOG_LEVEL", "info");
  std::string log_format = EnvOr("TAMGA_LOG_FORMAT", "text");
  app.add_option("--log-level", log_level, "debug|info|warn|error (env TAMGA_LOG_LEVEL)");
  app.add_option("--log-format", log_format, "text|json (env TAMGA_LOG_FORMAT)");
  // Clients (CLI, agent, `tamga serve`) trust this CA for https:// servers besides the system store.
  std::string ca_file = EnvOr("TAMGA_CA_FILE", "");
  app.add_option("--ca-file", ca_file,
                 "PEM CA certificates to trust for https:// servers (env TAMGA_CA_FILE)");

  tamga::ServerConfig config;
  auto* server = app.add_subcommand("server", "Run the tracking server (MLflow REST API + artifact proxy).");
  server->add_option("--host", config.host, "Address to bind")->envname("TAMGA_HOST")->capture_default_str();
  server->add_option("--port", config.port, "Port (0 picks a free one)")
      ->envname("TAMGA_PORT")
      ->capture_default_str();
  server->add_option("--data-dir", config.data_dir, "SQLite file and artifacts live here")
      ->envname("TAMGA_DATA_DIR")
      ->capture_default_str();
  server->add_option("--workers", config.workers, "HTTP I/O threads (0 = number of cores)")
      ->envname("TAMGA_WORKERS")
      ->capture_default_str();
  server
      ->add_option("--sqlite-sync", config.sqlite_sync,
                   "NORMAL (survives kill -9) or FULL (also survives power loss)")
      ->envname("TAMGA_SQLITE_SYNC")
      ->check(CLI::IsMember({"NORMAL", "FULL"}))
      ->capture_default_str();
  server->add_option("--max-body-mb", config.max_body_mb, "Largest JSON request body in MiB")
      ->envname("TAMGA_MAX_BODY_MB")
      ->capture_default_str();
  server->add_option("--port-file", config.port_file, "Write the bound port to this file")
      ->envname("TAMGA_PORT_FILE");
  server
      ->add_option("--gitops-dir", config.gitops_dir,
                   "Rendered deployments go here (default <data-dir>/gitops)")
      ->envname("TAMGA_GITOPS_DIR");
  server
      ->add_flag("--gitops-git,!--no-gitops-git", config.gitops_git,
                 "Keep the GitOps folder as a git repository, one commit per change (default on)")
      ->envname("TAMGA_GITOPS_GIT");
  server
      ->add_option("--grpc-port", config.grpc_port,
                   "OIP gRPC port for local deployments (-1 = off, 0 = pick one)")
      ->envname("TAMGA_GRPC_PORT")
      ->capture_default_str();
  server->add_option("--grpc-port-file", config.grpc_port_file, "Write the bound gRPC port to this file");
  server
      ->add_option("--device", config.serving.runtime.device,
                   "Where local deployments run: cpu, cuda:N, or auto (placed on GPUs by free memory)")
      ->envname("TAMGA_DEVICE")
      ->capture_default_str();
  server
      ->add_option("--python", config.serving.runtime.python,
                   "Python worker interpreter for local pyfunc deployments")
      ->envname("TAMGA_PYTHON")
      ->capture_default_str();
  server->add_option("--auth", config.auth, "Identity and access: on | off (off binds only loopback)")
      ->envname("TAMGA_AUTH")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  server->add_flag(
      "--insecure-no-auth", config.insecure_no_auth,
      "With --auth off, serve a non-loopback address anyway (anyone who reaches it can do anything)");
  server
      ->add_option(
          "--default-permission", config.default_permission,
          "What users hold on objects without a grant: READ (MLflow's default) | NO_PERMISSIONS | EDIT | "
          "MANAGE")
      ->envname("TAMGA_DEFAULT_PERMISSION")
      ->check(CLI::IsMember({"READ", "NO_PERMISSIONS", "EDIT", "MANAGE"}))
      ->capture_default_str();
  server->add_option("--metrics-auth", config.metrics_auth, "/metrics with auth on: token | open")
      ->envname("TAMGA_METRICS_AUTH")
      ->check(CLI::IsMember({"token", "open"}))
      ->capture_default_str();
  server
      ->add_option("--oidc-issuer", config.oidc_issuer,
                   "Accept Bearer JWTs from this OIDC issuer (Keycloak realm URL ...)")
      ->envname("TAMGA_OIDC_ISSUER");
  server->add_option("--oidc-audience", config.oidc_audience, "Required in the tokens' aud (the client id)")
      ->envname("TAMGA_OIDC_AUDIENCE");
  server
      ->add_option("--oidc-username-claim", config.oidc_username_claim,
                   "Claim naming the user (then email, sub)")
      ->envname("TAMGA_OIDC_USERNAME_CLAIM")
      ->capture_default_str();
  server
      ->add_option("--oidc-groups-claim", config.oidc_groups_claim,
                   "Claim (dotted path) holding the user's groups: groups, realm_access.roles")
      ->envname("TAMGA_OIDC_GROUPS_CLAIM")
      ->capture_default_str();
  server->add_option("--oidc-admin-group", config.oidc_admin_group, "Members of this OIDC group are admins")
      ->envname("TAMGA_OIDC_ADMIN_GROUP");
  server
      ->add_option(
          "--public-url", config.public_url,
          "Where browsers reach this server (https://tamga.example.com): enables SSO sign-in at /login")
      ->envname("TAMGA_PUBLIC_URL");
  server
      ->add_option(
          "--advertise-url", config.advertise_url,
          "Replicas on one PostgreSQL: where the other replicas reach this one (http://10.0.0.5:5000; "
          "default: this machine's name and the bound port)")
      ->envname("TAMGA_ADVERTISE_URL");
  server
      ->add_option("--openlineage-url", config.openlineage_url,
                   "Send each job's OpenLineage run events here (e.g. http://marquez:5000/api/v1/lineage)")
      ->envname("TAMGA_OPENLINEAGE_URL");
  server->add_option("--openlineage-api-key", config.openlineage_api_key, "Bearer key for --openlineage-url")
      ->envname("TAMGA_OPENLINEAGE_API_KEY");
  server->add_option("--openlineage-namespace", config.openlineage_namespace, "OpenLineage job namespace")
      ->envname("TAMGA_OPENLINEAGE_NAMESPACE")
      ->capture_default_str();
  server
      ->add_option("--oidc-client-id", config.oidc_client_id,
                   "Client id of the browser sign-in (default: --oidc-audience)")
      ->envname("TAMGA_OIDC_CLIENT_ID");
  // The secret is read from the environment only: a flag would show in `ps` and shell history.
  config.oidc_client_secret = EnvOr("TAMGA_OIDC_CLIENT_SECRET", "");
  server
      ->add_option("--tls-cert", config.tls_cert_file,
                   "Serve HTTPS (and gRPC over TLS) with this PEM certificate chain; needs --tls-key")
      ->envname("TAMGA_TLS_CERT");
  server->add_option("--tls-key", config.tls_key_file, "The PEM private key of --tls-cert")
      ->envname("TAMGA_TLS_KEY");
  server
      ->add_option(
          "--backend-store-uri", config.backend_store_uri,
          "Metadata store: sqlite:///relative.db or sqlite:////absolute.db (default: <data-dir>/tamga.db)")
      ->envname("TAMGA_BACKEND_STORE_URI")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.empty() ? std::string(
                                   "is empty (unset variable?): name a store, or leave the flag out for "
                                   "<data-dir>/tamga.db")
                             : std::string();
          },
          "STORE_URI"));
  server
      ->add_option(
          "--artifacts-destination", config.artifacts_destination,
          "Artifact store: file:///absolute/dir, a path, or s3://bucket/prefix (endpoint and keys from "
          "MLFLOW_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; default: "
          "<data-dir>/artifacts)")
      ->envname("TAMGA_ARTIFACTS_DESTINATION")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.empty() ? std::string(
                                   "is empty (unset variable?): name a destination, or leave the flag "
                                   "out for <data-dir>/artifacts")
                             : std::string();
          },
          "DEST"));
  server
      ->add_option("--default-artifact-root", config.default_artifact_root,
                   "Where new experiments keep artifacts: mlflow-artifacts: (the proxy, default) or "
                   "s3://bucket/prefix, which clients write to directly (MLflow's direct mode)")
      ->envname("TAMGA_DEFAULT_ARTIFACT_ROOT");
  server->add_flag("--no-serve-artifacts", config.no_serve_artifacts,
                   "MLflow's direct mode: clients upload to --default-artifact-root themselves");
  server
      ->add_option(
          "--ui-dir", config.ui_dir,
          "Serve the web UI from this folder (node web/build.mjs --out DIR) instead of the built-in one")
      ->envname("TAMGA_UI_DIR");
  server->add_flag("--audit-ingest", config.audit_ingest,
                   "Also audit run-data writes (log-metric, log-batch, artifact uploads ...)");
  server->add_option("--model-cache-dir", config.model_cache_dir,
                     "Local deployments' model files (default <data-dir>/model-cache)");
  std::string job_log_limit = "256MiB";
  server
      ->add_option("--job-log-limit", job_log_limit,
                   "Stored output per job; past it output is dropped (e.g. 64MiB)")
      ->envname("TAMGA_JOB_LOG_LIMIT")
      ->capture_default_str();
  server
      ->add_option("--agent-timeout-ms", config.agent_timeout_ms,
                   "An agent silent this long is lost; its jobs are requeued")
      ->envname("TAMGA_AGENT_TIMEOUT_MS")
      ->capture_default_str();
  server
      ->add_option("--webhook-timeout-ms", config.webhook_timeout_ms,
                   "Timeout of one webhook delivery attempt")
      ->envname("TAMGA_WEBHOOK_TIMEOUT_MS")
      ->check(CLI::Range(100, 120000))
      ->capture_default_str();
  server
      ->add_option(
          "--outbound-allow", config.outbound_allow,
          "Webhook destinations allowed past the default deny of loopback/private/link-local/metadata "
          "addresses: CIDRs, addresses or host names (repeat or comma-separate)")
      ->envname("TAMGA_OUTBOUND_ALLOW")
      ->delimiter(',');
  AddHttpLimitFlags(server, &config.http_limits);
  server
      ->add_option("--drain-timeout-ms", config.drain_timeout_ms,
                   "On SIGTERM, how long in-flight requests may finish before connections are closed")
      ->envname("TAMGA_DRAIN_TIMEOUT_MS")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();

  tamga::ServeConfig serve_config;
  std::string preferred;
  auto* serve = app.add_subcommand(
      "serve", "Serve one model over MLflow /invocations and Open Inference Protocol REST and gRPC.");
  serve
      ->add_option("model", serve_config.model,
                   "Model directory, TorchScript .pt file, or models:/name@alias | models:/name/N")
      ->required();
  serve->add_option("--host", serve_config.host, "Address to bind")
      ->envname("TAMGA_SERVE_HOST")
      ->capture_default_str();
  serve->add_option("--port", serve_config.port, "Port (0 picks a free one)")
      ->envname("TAMGA_SERVE_PORT")
      ->capture_default_str();
  serve
      ->add_option("--tracking-uri", serve_config.registry,
                   "Tamga server URL for models:/ URIs (env TAMGA_TRACKING_URI, MLFLOW_TRACKING_URI)")
      ->envname("TAMGA_TRACKING_URI");
  serve->add_option("--registry", serve_config.registry, "Old spelling of --tracking-uri")->group("");
  serve->add_option("--token", serve_config.token, "Access token for --tracking-uri (env TAMGA_TOKEN)");
  serve
      ->add_option("--name", serve_config.name,
                   "Model name clients use (/v2/models/<name>, gRPC); default: the registered name, or the "
                   "directory's or file's name")
      ->check([](const std::string& v) -> std::string {
        if (v.empty() || v.size() > 128) return "1 to 128 characters";
        for (char ch : v) {
          if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
            return "letters, digits, '-', '_' and '.' only";
        }
        return "";
      });
  serve->add_option("--cache-dir", serve_config.cache_dir, "Downloaded registry models are cached here")
      ->envname("TAMGA_MODEL_CACHE")
      ->capture_default_str();
  serve->add_option("--port-file", serve_config.port_file, "Write the bound port to this file");
  serve
      ->add_option("--grpc-port", serve_config.grpc_port,
                   "OIP gRPC port (0 picks a free one, -1 turns gRPC off)")
      ->envname("TAMGA_SERVE_GRPC_PORT")
      ->capture_default_str();
  serve->add_option("--grpc-port-file", serve_config.grpc_port_file,
                    "Write the bound gRPC port to this file");
  serve->add_option("--workers", serve_config.workers, "HTTP I/O threads (0 = number of cores)")
      ->capture_default_str();
  serve
      ->add_option(
          "--device", serve_config.serving.runtime.device,
          "cpu, cuda:N, or auto (the GPU with the most free memory that fits the model, else refused)")
      ->capture_default_str();
  serve
      ->add_option("--intra-op-threads", serve_config.serving.runtime.intra_op_threads,
                   "Threads inside one model execution")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_option("--instances", serve_config.serving.instances, "Parallel executors (model instances)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--max-batch-size", serve_config.serving.batching.max_batch_size,
                   "Rows per batch (0/1 = batching off)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  serve
      ->add_option("--max-queue-delay-us", serve_config.serving.batching.max_queue_delay_us,
                   "How long a request may wait for a fuller batch")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  serve->add_option("--preferred-batch-sizes", preferred,
                    "Comma-separated sizes dispatched early, e.g. 8,16");
  serve->add_option("--max-queue", serve_config.serving.batching.max_queue, "Queued requests before 429")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  serve
      ->add_option("--python", serve_config.serving.runtime.python,
                   "Interpreter of the Python worker (python_function models)")
      ->envname("TAMGA_PYTHON")
      ->capture_default_str();
  serve
      ->add_option("--python-timeout-s", serve_config.serving.runtime.python_timeout_s,
                   "Longest predict call in the Python worker before it is killed and restarted")
      ->capture_default_str();
  serve->add_option("--max-body-mb", serve_config.max_body_mb, "Largest request body in MiB")
      ->capture_default_str();
  serve->add_flag("--follow,!--no-follow", serve_config.follow,
                  "Hot reload when the registry moves the alias (default on)");
  AddHttpLimitFlags(serve, &serve_config.http_limits);

  tamga::ClientCommands client = tamga::AddClientCommands(app);
  tamga::JobCommands job_commands = tamga::AddJobCommands(app);
  tamga::TokenCommands token_commands = tamga::AddTokenCommands(app);
  tamga::AdminCommands admin_commands = tamga::AddAdminCommands(app);
  tamga::PolicyCommands policy_commands = tamga::AddPolicyCommands(app);
  tamga::DataCommands data_commands = tamga::AddDataCommands(app);
  tamga::LineageCommands lineage_commands = tamga::AddLineageCommands(app);
  tamga::TriggerCommands trigger_commands = tamga::AddTriggerCommands(app);
  tamga::RolloutCommands rollout_commands = tamga::AddRolloutCommands(app);
  tamga::ScoreCommands score_commands = tamga::AddScoreCommands(app);

  auto* version = app.add_subcommand("version", "Print the version.");
  bool version_json = false;
  version->add_flag("--json", version_json, "As JSON: version, commit, mlflow_compat");

  argc = tamga::TakeJobCommand(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::string unknown = tamga::UnknownSubcommandMessage(app, argc, argv);
    if (!unknown.empty() && e.get_exit_code() != 0) {
      std::cerr << unknown << "\n";
      return 2;
    }
    // Usage errors exit 2 (as every client command documents), not CLI11's internal codes (105, 114, ...).
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  tamga::LogLevel level;
  if (!tamga::ParseLogLevel(log_level, &level)) {
    std::cerr << "invalid --log-level: " << log_level << "\n";
    return 2;
  }
  tamga::Logger::Configure(level, log_format == "json" ? tamga::LogFormat::kJson : tamga::LogFormat::kText);
  tamga::SetDefaultCaFile(ca_file);

  if (*version && version_json) {
    std::cout << "{\"version\": \"" << tamga::kVersion << "\", \"commit\": \"" << tamga::kGitCommit
              << "\", \"mlflow_compat\": \"" << tamga::kMlflowCompatVersion << "\"}\n";
    return 0;
  }
  if (*version) {
    std::cout << "tamga " << tamga::kVersion << " (commit " << tamga::kGitCommit << ", MLflow API "
              << tamga::kMlflowCompatVersion << ")\n";
    return 0;
  }
  if (*server) {
    auto limit = tamga::ParseByteSize(job_log_limit);
    if (!limit.ok() || *limit < 1024) {
      std::cerr << "invalid --job-log-limit: " << (limit.ok() ? "at least 1KiB" : limit.status().message())
                << "\n";
      return 2;
    }
    config.job_log_limit_bytes = *limit;
    config.admin_username = EnvOr("TAMGA_ADMIN_USERNAME", "admin");
    config.admin_password = EnvOr("TAMGA_ADMIN_PASSWORD", "");
    RaiseFileLimit();
    auto s = tamga::TamgaServer::Create(config);
    if (!s.ok()) {
      TAMGA_LOG(kError, "cannot start server", {{"error", s.status().ToString()}});
      return 1;
    }
    tamga::Status st = (*s)->Run();
    return st.ok() ? 0 : 1;
  }
  if (*serve) {
    if (serve_config.registry.empty()) serve_config.registry = EnvOr("TAMGA_REGISTRY_URI", "");
    if (serve_config.registry.empty()) serve_config.registry = EnvOr("MLFLOW_TRACKING_URI", "");
    for (size_t pos = 0; pos < preferred.size();) {
      size_t comma = preferred.find(',', pos);
      std::string item = preferred.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      int v = std::atoi(item.c_str());
      if (v < 1) {
        std::cerr << "invalid --preferred-batch-sizes entry: " << item << "\n";
        return 2;
      }
      serve_config.serving.batching.preferred_batch_sizes.push_back(v);
      pos = comma == std::string::npos ? preferred.size() : comma + 1;
    }
    RaiseFileLimit();
    auto s = tamga::ServeServer::Create(serve_config);
    if (!s.ok()) {
      TAMGA_LOG(kError, "cannot start serving", {{"error", s.status().ToString()}});
      return 1;
    }
    return (*s)->Run().ok() ? 0 : 1;
  }
  int job_code = tamga::RunJobCommands(job_commands);
  if (job_code >= 0) return job_code;
  int token_code = tamga::RunTokenCommands(token_commands);
  if (token_code >= 0) return token_code;
  int admin_code = tamga::RunAdminCommands(admin_commands);
  if (admin_code >= 0) return admin_code;
  int policy_code = tamga::RunPolicyCommands(policy_commands);
  if (policy_code >= 0) return policy_code;
  int data_code = tamga::RunDataCommands(data_commands);
  if (data_code >= 0) return data_code;
  int lineage_code = tamga::RunLineageCommands(lineage_commands);
  if (lineage_code >= 0) return lineage_code;
  int trigger_code = tamga::RunTriggerCommands(trigger_commands);
  if (trigger_code >= 0) return trigger_code;
  int model_test_code = tamga::RunRolloutCommands(rollout_commands);
  if (model_test_code >= 0) return model_test_code;
  int score_code = tamga::RunScoreCommands(score_commands);
  if (score_code >= 0) return score_code;
  return tamga::RunClientCommands(client);
}
