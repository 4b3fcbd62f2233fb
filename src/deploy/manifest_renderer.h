#pragma once
// Renders a deployment of one model version to Kubernetes manifests and a Dockerfile.
//
// Layout (one file per object, so a GitOps diff shows exactly which object changed):
//   <namespace>/<deployment>/deployment.yaml   apps/v1 Deployment running `tamga serve`
//   <namespace>/<deployment>/service.yaml      v1 Service (ClusterIP; http 8080, grpc 8081)
//   <namespace>/<deployment>/hpa.yaml          autoscaling/v2 HPA, when max_replicas > min_replicas
//   <namespace>/<deployment>/ingress.yaml      networking.k8s.io/v1 Ingress, when ingress_host is set
//   <namespace>/<deployment>/Dockerfile        CPU or CUDA base image; model pulled at start or baked in
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
};

struct RenderedFile {
  std::string path;  // relative to the GitOps root
  std::string content;
};

std::vector<RenderedFile> RenderDeployment(const RenderInput& in);
// The folder holding a deployment's files ("<namespace>/<name>").
std::string DeploymentDir(const DeploymentSpec& spec);

}  // namespace tamga
