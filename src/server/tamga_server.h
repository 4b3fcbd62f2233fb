#pragma once
// TamgaServer: the composition root of `tamga server`. The only place that names concrete backends
// (SQLite, local folder); everything below it takes interfaces.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/http_server.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 5000;
  std::string data_dir = "./tamga-data";  // tamga.db + artifacts/
  int workers = 0;                        // I/O threads; 0 = number of cores (at least 2)
  std::string sqlite_sync = "NORMAL";     // NORMAL: survives kill -9; FULL: survives power loss too
  size_t max_body_mb = 64;
  std::string port_file;   // when set, the bound port is written here (port 0 in tests)
  std::string gitops_dir;  // rendered deployments; "" = <data_dir>/gitops
  // Several replicas on one PostgreSQL: where the others reach this one (the job scheduler's leader is
  // reached there); "" = http(s)://<host or this machine's name>:<port>.
  std::string advertise_url;
  // OpenLineage (docs/data.md): where job run events are POSTed ("" = off), its bearer key, the job
  // namespace.
  std::string openlineage_url;
  std::string openlineage_api_key;
  std::string openlineage_namespace = "tamga";
  bool gitops_git = true;          // keep the GitOps folder as a git repository (commit per change)
  int webhook_timeout_ms = 10000;  // per delivery attempt
  // Webhook destinations re-admitted past the default deny of loopback/private/link-local/metadata addresses
  // (CIDRs, addresses or host names; --outbound-allow).
  std::vector<std::string> outbound_allow;
  HttpLimits http_limits;
  int drain_timeout_ms = 30000;                      // SIGTERM: how long in-flight requests may finish
  int64_t job_log_limit_bytes = int64_t{256} << 20;  // stored output per job
  int64_t agent_timeout_ms = 30000;  // an agent silent this long is lost; its jobs are requeued
  // Local deployments (target "local") are served in-process with these options.
  ServingOptions serving;
  std::string model_cache_dir;  // "" = <data_dir>/model-cache
  int grpc_port = -1;           // OIP gRPC for local deployments; -1 = off, 0 = pick a free port
  std::string grpc_port_file;
  // Identity and access (docs/identity.md).
  std::string auth = "off";                 // on | off
  bool insecure_no_auth = false;            // auth off on a non-loopback address
  std::string default_permission = "READ";  // on objects without a grant
  std::string metrics_auth = "token";       // token | open
  bool audit_ingest = false;                // audit run-data writes too
  std::string admin_username = "admin";     // first start: TAMGA_ADMIN_USERNAME
  std::string admin_password;               // TAMGA_ADMIN_PASSWORD; "" = generated into the data dir
  std::string oidc_issuer;                  // Bearer JWTs from this issuer ("" = none)
  std::string oidc_audience;
  std::string oidc_username_claim = "preferred_username";
  std::string oidc_groups_claim = "groups";
  std::string oidc_admin_group;  // its members are admins
  // The browser sign-in through the issuer: where browsers reach this server (https://tamga.example.com),
  // the client id (default: the audience) and its secret ("" = a public client, PKCE alone).
  std::string public_url;
  std::string oidc_client_id;
  std::string oidc_client_secret;
  // HTTPS and gRPC over TLS: PEM certificate chain and key (both or neither).
  std::string tls_cert_file;
  std::string tls_key_file;
  // The web UI from this folder (written by web/build.mjs) instead of the assets compiled in ("" = embedded).
  std::string ui_dir;
  // MLflow's flag names (docs/scale-out.md): "" = <data_dir>/tamga.db and <data_dir>/artifacts.
  std::string backend_store_uri;      // sqlite:///path.db (postgresql:// in progress)
  std::string artifacts_destination;  // file:///dir, a path, or s3://bucket/prefix
  // MLflow's direct mode: experiments get s3://... locations and clients upload with boto3 themselves;
  // "" = mlflow-artifacts: (the proxy). The server reads the same bucket (registry, UI, serving).
  std::string default_artifact_root;
  bool no_serve_artifacts = false;
};

class TamgaServer {
 public:
  static Result<std::unique_ptr<TamgaServer>> Create(const ServerConfig& config);
  ~TamgaServer();
  int port() const;
  // Serves until SIGINT/SIGTERM; then drains requests, commits queued writes and checkpoints the store.
  Status Run();

  struct Parts;

 private:
  explicit TamgaServer(std::unique_ptr<Parts> parts);
  static std::function<std::optional<std::string>()> LeaderUrlSource(Parts* p);
  static Status StartReplicaLinks(Parts* p);
  std::unique_ptr<Parts> parts_;
};

}  // namespace tamga
