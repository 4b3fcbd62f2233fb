#pragma once
// Renders a deployment of one model version to Kubernetes manifests and a Dockerfile.
//
// Layout (one file per object, so a GitOps diff shows exactly which object changed):
//   <namespace>/<deployment>/deployment.yaml   apps/v1 Deployment running `tamga serve` (ServeContainer)
//   <namespace>/<deployment>/service.yaml      v1 Service (ClusterIP; http 8080, grpc 8081)
//   <namespace>/<deployment>/pdb.yaml          policy/v1 PodDisruptionBudget (one pod disrupted at a time)
//   <namespace>/<deployment>/hpa.yaml          autoscaling/v2 HPA, when max_replicas > min_replicas
//   <namespace>/<deployment>/ingress.yaml      networking.k8s.io/v1 Ingress, when ingress_host is set
//   <namespace>/<deployment>/Dockerfile        FROM Tamga's image; model baked in and/or the model's pip
//                                              requirements installed (Python runtime)
//   <namespace>/<deployment>/requirements.txt  the model's pip requirements (Python runtime only)
// The manifests pin the exact version (models:/<name>/<version>), not the alias: the commit that changes
// it is the promotion, and reverting it is the rollback. Output is deterministic: same input, same bytes
// (stable key order, no timestamps). Pure function; thread-safe.
#include <string>
#include <vector>

#include "deploy/deployment_spec.h"

namespace tamga {

struct RenderInput {
  DeploymentSpec spec;
  int64_t version = 0;
  std::string run_id;         // "" when unknown
  std::string tamga_version;  // image tag of the default serving image
  // The model needs the Python worker (python_function only, or spec.runtime == "python"): the image is the
  // Python variant with `requirements` (pip lines from the model's requirements.txt / conda.yaml) installed.
  bool python_runtime = false;
  std::string requirements;
};

// Where things live inside the serving container. The root filesystem is read-only; these are emptyDirs.
inline constexpr const char* kContainerCacheDir = "/var/cache/tamga";  // downloaded models
inline constexpr const char* kContainerTmpDir = "/tmp";                // HOME and temporary files
inline constexpr const char* kContainerModelDir = "/models/model";     // a baked-in model
inline constexpr const char* kContainerPythonEnv = "/opt/tamga-model-env";
inline constexpr int kServeHttpPort = 8080;
inline constexpr int kServeGrpcPort = 8081;

// The serving container's process: the one place its command line is made, used by deployment.yaml and
// the Dockerfile's ENTRYPOINT/CMD alike (tests execute it with the real binary).
struct ServeContainer {
  std::vector<std::string> command;  // ["tamga", "serve"]
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  // Variables from a Secret (name, secret, key), optional: the deployment's pull token.
  struct SecretEnv {
    std::string name, secret, key;
  };
  std::vector<SecretEnv> secret_env;
};
ServeContainer ServeContainerFor(const RenderInput& in);
// models:/<name>/<version>: the manifests pin the version, not the alias.
std::string PinnedModelUri(const RenderInput& in);
// The image the Deployment runs: spec.image, else Tamga's image (…-python for the Python runtime) for a
// pulled native model, else the per-model image built from the rendered Dockerfile.
std::string ServingImage(const RenderInput& in);
// True when the rendered Dockerfile must be built (baked model or Python requirements).
bool NeedsModelImage(const RenderInput& in);

struct RenderedFile {
  std::string path;  // relative to the GitOps root
  std::string content;
};

std::vector<RenderedFile> RenderDeployment(const RenderInput& in);
// The per-model Dockerfile (dockerfile_renderer.cc).
std::string RenderDockerfile(const RenderInput& in);
// The folder holding a deployment's files ("<namespace>/<name>").
std::string DeploymentDir(const DeploymentSpec& spec);

}  // namespace tamga
