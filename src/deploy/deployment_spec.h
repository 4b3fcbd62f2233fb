#pragma once
// DeploymentSpec: a deployment as data. It names a registered model, the alias it follows, replicas and
// autoscaling bounds, a resource tier, where the model files come from at start-up, and the Kubernetes
// target (namespace, optional ingress host). Stored as canonical JSON; rendered by manifest_renderer.h.
// Pure values and functions; thread-safe.
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

// One variant of a traffic policy (docs/rollouts.md §2): follows `alias` or is pinned to `version`.
struct DeploymentVariant {
  std::string name;     // [a-z0-9-], 1-32 characters, unique in the policy
  std::string alias;    // exactly one of alias / version
  std::string version;  // a registered version number
  double weight = 0;    // share of the traffic among serving variants
  bool shadow = false;  // mirrored copies only, never answers
};

// Outliers and drift of a local deployment's inputs against each version's reference statistics
// (docs/rollouts.md §7).
struct DeploymentMonitoring {
  bool enabled = false;
  double max_z = 4;            // a row is an outlier with a feature further than this many stddevs out
  double max_mahalanobis = 0;  // or at this Mahalanobis distance (0: the chi-square 0.999 quantile)
  int64_t window_rows = 1000;  // rows per drift window
  double psi_threshold = 0.2;  // a feature drifted above either threshold
  double ks_threshold = 0.1;
  int64_t event_cooldown_s = 3600;  // at most one drift event per deployment this often
};

// Scale to zero (docs/rollouts.md §8): idle this long, the versions are unloaded; the next request loads
// them and waits up to wake_timeout_s (0: 503 with Retry-After at once).
struct DeploymentSnooze {
  int64_t idle_seconds = 0;  // 0 = never
  int64_t wake_timeout_s = 30;
};

// How a local deployment splits traffic between versions. `policy` "" = none: one variant following the
// deployment's `alias`.
struct DeploymentTraffic {
  std::string policy;  // "", "canary", "ab", "shadow"
  std::vector<DeploymentVariant> variants;
  std::string sticky_header;  // "ab": the request header (lower-case) whose value keeps a caller on a variant
  double shadow_sample = 1.0;
  double shadow_atol = 1e-6;
  double shadow_rtol = 1e-4;
};

// A progressive rollout (docs/rollouts.md §3): when the followed alias moves, the new version is taken
// through an optional shadow stage and weighted steps, each judged by the gates, then promoted or rolled
// back.
struct RolloutStage {
  double weight = 0;           // the candidate's share of traffic in percent (shadow stage: 0)
  int64_t min_seconds = 60;    // at least this long...
  int64_t min_requests = 100;  // ...and at least this many candidate requests before the gates decide
};
struct DeploymentRollout {
  bool enabled = false;
  bool shadow = false;  // a shadow stage first (shadow_stage's durations)
  RolloutStage shadow_stage;
  std::vector<RolloutStage> steps;  // weights in (0, 100), increasing
  // Gates, judged on the candidate over the current stage; < 0 = not checked.
  double max_error_rate = 0.01;
  double max_p99_ms = -1;
  double max_shadow_disagreement = 0.01;  // share of compared responses beyond the tolerances
  bool require_reference_test = false;
  double shadow_atol = 1e-6;
  double shadow_rtol = 1e-4;
};

struct DeploymentSpec {
  std::string name;  // DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 53 chars
  std::string model_name;
  std::string alias = "production";  // the alias this deployment follows
  std::string ns = "default";        // Kubernetes namespace
  int replicas = 1;                  // initial replicas (HPA lower bound unless min_replicas is set)
  int min_replicas = 1;
  int max_replicas = 3;
  int target_cpu_percent = 70;
  std::string cpu = "1";  // requests = limits for CPU and memory (Guaranteed QoS)
  std::string memory = "2Gi";
  int gpu_count = 0;                    // > 0: nvidia.com/gpu limit, CUDA base image, GPU node selector
  std::string gpu_product;              // optional node selector nvidia.com/gpu.product
  std::string image;                    // serving image; "" = tamga's default for the tier
  std::string model_delivery = "pull";  // "pull": fetched from tracking_uri at start; "bake": in the image
  std::string tracking_uri = "http://tamga:5000";  // where `tamga serve` pulls models from
  std::string ingress_host;                        // "" = no Ingress
  int max_body_mb = 64;                            // serving request body limit, visible in the manifest
  std::string ingress_class = "nginx";             // Ingress spec.ingressClassName; "" = the cluster default
  int startup_timeout_s = 600;                     // startupProbe budget for download + load + warm-up
  std::string cache_size;                          // sizeLimit of the model-cache emptyDir; "" = none
  // "auto": python_function-only models get the Python runtime image (their pip requirements installed at
  // build time), pytorch/xgboost models the native one; "native" or "python" force a choice.
  std::string runtime = "auto";
  // "kubernetes": manifests rendered into the GitOps folder; "local": served in-process by `tamga server`
  // (V2 REST /v2/models/{name}, MLflow /endpoints/{name}/invocations), nothing rendered.
  std::string target = "kubernetes";
  // The Kubernetes Secret (key `token`) whose access token `tamga serve` presents when it pulls the model
  // from an auth-on tracking server (env TAMGA_TOKEN, optional: a server with auth off needs none); "" =
  // none. The token itself never appears in a manifest.
  std::string token_secret = "tamga-serving-token";
  // Traffic between versions (target "local" only).
  DeploymentTraffic traffic;
  // Progressive rollout of each new version of the alias (target "local" only; not with `traffic`).
  DeploymentRollout rollout;
  // Payload logging (target "local" only): the share of requests whose inputs and outputs are written to the
  // blob store (0 = off), and the largest record kept.
  double payload_sample = 0;
  int64_t payload_max_record_bytes = 65536;
  DeploymentMonitoring monitoring;  // target "local" only
  // Local: unload when idle. Kubernetes: rendered as a KEDA ScaledObject scaling the Deployment to zero.
  DeploymentSnooze snooze;
};

// Parses and validates a spec from JSON text. Unknown fields are rejected (a setting we would ignore is
// worse than an error). InvalidArgument with the offending field.
Result<DeploymentSpec> ParseDeploymentSpec(const std::string& json);
// Canonical JSON (stable key order) for storage and the API.
std::string DeploymentSpecJson(const DeploymentSpec& spec);

}  // namespace tamga
