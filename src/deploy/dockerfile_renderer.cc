// The serving container's command line, its image, and the per-model Dockerfile (manifest_renderer.h).
#include <nlohmann/json.hpp>

#include "deploy/manifest_renderer.h"

namespace tamga {
namespace {

constexpr const char* kImageRepo = "ghcr.io/tamga-mlops/tamga";

bool Bake(const RenderInput& in) { return in.spec.model_delivery == "bake"; }

// Tamga's own image for this tier: <version>[-cuda][-python] (deploy/docker/).
std::string BaseImage(const RenderInput& in) {
  return std::string(kImageRepo) + ":" + in.tamga_version + (in.spec.gpu_count > 0 ? "-cuda" : "") +
         (in.python_runtime ? "-python" : "");
}

std::string JsonArray(const std::vector<std::string>& items) {
  // Exec form: a JSON array of strings (bytes that are not UTF-8 are replaced, never thrown on).
  return nlohmann::json(items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string PinnedModelUri(const RenderInput& in) {
  return "models:/" + in.spec.model_name + "/" + std::to_string(in.version);
}

ServeContainer ServeContainerFor(const RenderInput& in) {
  const DeploymentSpec& s = in.spec;
  ServeContainer c;
  c.command = {"tamga", "serve"};
  if (Bake(in)) {
    c.args = {kContainerModelDir};
  } else {
    c.args = {PinnedModelUri(in), "--tracking-uri", s.tracking_uri, "--cache-dir", kContainerCacheDir};
  }
  // Clients call /v2/models/<deployment>/infer on the Service of the same name (as KServe names models).
  const std::vector<std::string> common = {
      "--name", s.name, "--host", "0.0.0.0", "--port", std::to_string(kServeHttpPort), "--grpc-port",
      std::to_string(kServeGrpcPort), "--max-body-mb", std::to_string(s.max_body_mb), "--device",
      s.gpu_count > 0 ? "cuda" : "cpu",
      // The manifest pins the version: the GitOps commit is the rollout.
      "--no-follow"};
  c.args.insert(c.args.end(), common.begin(), common.end());
  c.env = {{"TAMGA_LOG_FORMAT", "json"}, {"HOME", kContainerTmpDir}};
  if (in.python_runtime) c.env.emplace_back("PYTHONDONTWRITEBYTECODE", "1");
  if (!Bake(in) && !s.token_secret.empty()) c.secret_env.push_back({"TAMGA_TOKEN", s.token_secret, "token"});
  return c;
}

bool NeedsModelImage(const RenderInput& in) { return Bake(in) || in.python_runtime; }

std::string ServingImage(const RenderInput& in) {
  if (!in.spec.image.empty()) return in.spec.image;
  if (NeedsModelImage(in)) return "tamga-model-" + in.spec.name + ":v" + std::to_string(in.version);
  return BaseImage(in);
}

std::string RenderDockerfile(const RenderInput& in) {
  const DeploymentSpec& s = in.spec;
  const std::string uri = PinnedModelUri(in);
  const ServeContainer c = ServeContainerFor(in);
  std::string out;
  out += "# Rendered by tamga " + in.tamga_version + " for deployment " + s.name + " (" + uri + ", @" +
         s.alias + ").\n# Do not edit: Tamga re-renders this file when the alias moves.\n";
  if (!NeedsModelImage(in)) {
    out +=
        "# Model delivery: pull, native runtime. deployment.yaml runs Tamga's image as it is and\n"
        "# `tamga serve` downloads " +
        uri + " from " + s.tracking_uri +
        " at start-up: no build is needed.\n"
        "# This file only documents (and lets you pin) that image.\n";
  } else {
    out += "# Build and push it as the image deployment.yaml names:\n#   docker build -t " +
           ServingImage(in) + " .\n";
    if (Bake(in)) {
      out +=
          "# Model delivery: bake. First fetch the model's files into ./model, e.g. with the MLflow\n"
          "# client against Tamga: mlflow artifacts download -u " +
          uri + " -d model\n";
    }
    if (in.python_runtime) {
      out +=
          "# Python runtime: the model's pip requirements (requirements.txt, rendered from its\n"
          "# requirements.txt or conda.yaml) are installed into a virtual environment at build time.\n";
    }
  }
  out += "ARG TAMGA_IMAGE=" + BaseImage(in) + "\n";
  out += "FROM ${TAMGA_IMAGE}\n";
  if (in.python_runtime) {
    out += "USER 0:0\n";
    out += "COPY requirements.txt /opt/tamga-model-requirements.txt\n";
    out += std::string("RUN python3 -m venv --system-site-packages ") + kContainerPythonEnv + " \\\n && " +
           kContainerPythonEnv + "/bin/pip install --no-cache-dir -r /opt/tamga-model-requirements.txt\n";
    out += std::string("ENV TAMGA_PYTHON=") + kContainerPythonEnv + "/bin/python\n";
  }
  if (Bake(in)) out += std::string("COPY --chown=65532:65532 model/ ") + kContainerModelDir + "/\n";
  if (s.gpu_count > 0) out += "ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility\n";
  out += "USER 65532:65532\n";
  out += "EXPOSE " + std::to_string(kServeHttpPort) + " " + std::to_string(kServeGrpcPort) + "\n";
  // The same process deployment.yaml starts (its env too), so `docker run` behaves like the pod.
  for (const auto& [k, v] : c.env)
    out += "ENV " + k + "=" +
           nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  out += "ENTRYPOINT " + JsonArray(c.command) + "\n";
  out += "CMD " + JsonArray(c.args) + "\n";
  return out;
}

}  // namespace tamga
