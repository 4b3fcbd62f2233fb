#include "deploy/manifest_renderer.h"

#include <yaml-cpp/yaml.h>

namespace tamga {
namespace {

constexpr int kHttpPort = 8080;
constexpr int kGrpcPort = 8081;

// Label values: <= 63 chars of [A-Za-z0-9-_.], alphanumeric at both ends.
std::string LabelValue(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
  return out.empty() ? "model" : out;
}

// Strings are always double-quoted: "3", "true" or "1Gi" must stay strings whatever reads them.
void Str(YAML::Emitter& e, const std::string& key, const std::string& value) {
  e << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}
void Int(YAML::Emitter& e, const std::string& key, int64_t value) {
  e << YAML::Key << key << YAML::Value << value;
}

std::string ModelUri(const RenderInput& in) {
  return "models:/" + in.spec.model_name + "/" + std::to_string(in.version);
}

std::string Image(const RenderInput& in) {
  if (in.spec.model_delivery == "bake") {
    return in.spec.image.empty() ? "tamga-model-" + in.spec.name + ":v" + std::to_string(in.version)
                                 : in.spec.image;
  }
  if (!in.spec.image.empty()) return in.spec.image;
  return "ghcr.io/tamga-mlops/tamga:" + in.tamga_version + (in.spec.gpu_count > 0 ? "-cuda" : "");
}

void Labels(YAML::Emitter& e, const RenderInput& in, bool selector_only) {
  e << YAML::BeginMap;
  Str(e, "app.kubernetes.io/name", in.spec.name);
  Str(e, "app.kubernetes.io/instance", in.spec.name);
  if (!selector_only) {
    Str(e, "app.kubernetes.io/version", std::to_string(in.version));
    Str(e, "app.kubernetes.io/component", "model-server");
    Str(e, "app.kubernetes.io/managed-by", "tamga");
    Str(e, "tamga.io/model", LabelValue(in.spec.model_name));
    Str(e, "tamga.io/alias", in.spec.alias);
  }
  e << YAML::EndMap;
}

using Annotations = std::vector<std::pair<std::string, std::string>>;

Annotations ModelAnnotations(const RenderInput& in) {
  Annotations a = {{"tamga.io/model-name", in.spec.model_name}, {"tamga.io/model-uri", ModelUri(in)}};
  if (!in.run_id.empty()) a.emplace_back("tamga.io/run-id", in.run_id);
  return a;
}

// apiVersion, kind and metadata (name, namespace, labels, annotations): the head of every object.
void Head(YAML::Emitter& e, const RenderInput& in, const char* api_version, const char* kind,
          const Annotations& annotations) {
  Str(e, "apiVersion", api_version);
  Str(e, "kind", kind);
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  Str(e, "name", in.spec.name);
  Str(e, "namespace", in.spec.ns);
  e << YAML::Key << "labels" << YAML::Value;
  Labels(e, in, false);
  e << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : annotations) Str(e, k, v);
  e << YAML::EndMap;
  e << YAML::EndMap;
}

std::string Finish(YAML::Emitter& e) { return std::string(e.c_str()) + "\n"; }

std::string DeploymentYaml(const RenderInput& in) {
  const DeploymentSpec& s = in.spec;
  bool hpa = s.replicas > 0 && s.max_replicas > s.min_replicas;
  YAML::Emitter e;
  e << YAML::BeginMap;
  Head(e, in, "apps/v1", "Deployment", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  if (!hpa) Int(e, "replicas", s.replicas);  // with an HPA, the HPA owns the replica count
  Int(e, "revisionHistoryLimit", 5);
  e << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels" << YAML::Value;
  Labels(e, in, true);
  e << YAML::EndMap;
  e << YAML::Key << "strategy" << YAML::Value << YAML::BeginMap;
  Str(e, "type", "RollingUpdate");
  e << YAML::Key << "rollingUpdate" << YAML::Value << YAML::BeginMap;
  Int(e, "maxSurge", 1);
  Int(e, "maxUnavailable", 0);
  e << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "labels" << YAML::Value;
  Labels(e, in, false);
  e << YAML::EndMap;
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "name", "model-server");
  Str(e, "image", Image(in));
  Str(e, "imagePullPolicy", "IfNotPresent");
  e << YAML::Key << "command" << YAML::Value << YAML::Flow << YAML::BeginSeq << YAML::DoubleQuoted << "tamga"
    << YAML::DoubleQuoted << "serve" << YAML::EndSeq;
  e << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
  std::vector<std::string> args;
  if (s.model_delivery == "bake") {
    args = {"--model-dir", "/models/model", "--model-uri", ModelUri(in)};
  } else {
    args = {"--model-uri", ModelUri(in), "--tracking-uri", s.tracking_uri};
  }
  for (const std::string& a :
       {std::string("--port"), std::to_string(kHttpPort), std::string("--grpc-port"),
        std::to_string(kGrpcPort), std::string("--max-body-mb"), std::to_string(s.max_body_mb),
        std::string("--device"), std::string(s.gpu_count > 0 ? "cuda" : "cpu")}) {
    args.push_back(a);
  }
  for (const auto& a : args) e << YAML::DoubleQuoted << a;
  e << YAML::EndSeq;
  e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  e << YAML::BeginMap;
  Str(e, "name", "http");
  Int(e, "containerPort", kHttpPort);
  Str(e, "protocol", "TCP");
  e << YAML::EndMap << YAML::BeginMap;
  Str(e, "name", "grpc");
  Int(e, "containerPort", kGrpcPort);
  Str(e, "protocol", "TCP");
  e << YAML::EndMap << YAML::EndSeq;
  auto probe = [&](const char* key, const char* path, int delay, int period, int failures) {
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "httpGet" << YAML::Value << YAML::BeginMap;
    Str(e, "path", path);
    Str(e, "port", "http");
    e << YAML::EndMap;
    Int(e, "initialDelaySeconds", delay);
    Int(e, "periodSeconds", period);
    Int(e, "failureThreshold", failures);
    e << YAML::EndMap;
  };
  probe("readinessProbe", "/v2/health/ready", 5, 5, 3);
  probe("livenessProbe", "/health", 30, 10, 6);
  e << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "requests" << YAML::Value << YAML::BeginMap;
  Str(e, "cpu", s.cpu);
  Str(e, "memory", s.memory);
  e << YAML::EndMap;
  e << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  Str(e, "cpu", s.cpu);
  Str(e, "memory", s.memory);
  if (s.gpu_count > 0) Int(e, "nvidia.com/gpu", s.gpu_count);  // GPUs: limits only, whole devices
  e << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
  e << YAML::BeginMap;
  Str(e, "name", "TAMGA_MODEL_URI");
  Str(e, "value", ModelUri(in));
  e << YAML::EndMap << YAML::BeginMap;
  Str(e, "name", "TAMGA_LOG_FORMAT");
  Str(e, "value", "json");
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap << YAML::EndSeq;  // container, containers
  if (s.gpu_count > 0) {
    e << YAML::Key << "nodeSelector" << YAML::Value << YAML::BeginMap;
    Str(e, "nvidia.com/gpu.present", "true");
    if (!s.gpu_product.empty()) Str(e, "nvidia.com/gpu.product", s.gpu_product);
    e << YAML::EndMap;
    e << YAML::Key << "tolerations" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    Str(e, "key", "nvidia.com/gpu");
    Str(e, "operator", "Exists");
    Str(e, "effect", "NoSchedule");
    e << YAML::EndMap << YAML::EndSeq;
  }
  e << YAML::EndMap << YAML::EndMap;  // pod spec, template
  e << YAML::EndMap << YAML::EndMap;  // spec, document
  return Finish(e);
}

std::string ServiceYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  Head(e, in, "v1", "Service", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  Str(e, "type", "ClusterIP");
  e << YAML::Key << "selector" << YAML::Value;
  Labels(e, in, true);
  e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  for (auto [name, port] : {std::pair<const char*, int>{"http", kHttpPort}, {"grpc", kGrpcPort}}) {
    e << YAML::BeginMap;
    Str(e, "name", name);
    Int(e, "port", port);
    Str(e, "targetPort", name);
    Str(e, "protocol", "TCP");
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

std::string HpaYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  Head(e, in, "autoscaling/v2", "HorizontalPodAutoscaler", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "scaleTargetRef" << YAML::Value << YAML::BeginMap;
  Str(e, "apiVersion", "apps/v1");
  Str(e, "kind", "Deployment");
  Str(e, "name", in.spec.name);
  e << YAML::EndMap;
  Int(e, "minReplicas", in.spec.min_replicas);
  Int(e, "maxReplicas", in.spec.max_replicas);
  e << YAML::Key << "metrics" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "type", "Resource");
  e << YAML::Key << "resource" << YAML::Value << YAML::BeginMap;
  Str(e, "name", "cpu");
  e << YAML::Key << "target" << YAML::Value << YAML::BeginMap;
  Str(e, "type", "Utilization");
  Int(e, "averageUtilization", in.spec.target_cpu_percent);
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

std::string IngressYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  // ingress-nginx caps bodies at 1 MiB by default: match the server's own, visible limit.
  Head(e, in, "networking.k8s.io/v1", "Ingress",
       {{"nginx.ingress.kubernetes.io/proxy-body-size", std::to_string(in.spec.max_body_mb) + "m"},
        {"tamga.io/model-uri", ModelUri(in)}});
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "host", in.spec.ingress_host);
  e << YAML::Key << "http" << YAML::Value << YAML::BeginMap << YAML::Key << "paths" << YAML::Value
    << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "path", "/");
  Str(e, "pathType", "Prefix");
  e << YAML::Key << "backend" << YAML::Value << YAML::BeginMap << YAML::Key << "service" << YAML::Value
    << YAML::BeginMap;
  Str(e, "name", in.spec.name);
  e << YAML::Key << "port" << YAML::Value << YAML::BeginMap;
  Str(e, "name", "http");
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap;  // port, service, backend
  e << YAML::EndMap << YAML::EndSeq << YAML::EndMap;  // path, paths, http
  e << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

std::string Dockerfile(const RenderInput& in) {
  const DeploymentSpec& s = in.spec;
  bool gpu = s.gpu_count > 0;
  std::string uri = ModelUri(in);
  std::string out;
  out += "# Rendered by tamga " + in.tamga_version + " for deployment " + s.name + " (" + uri + ", @" +
         s.alias + ").\n# Do not edit: Tamga re-renders this file when the alias moves.\n";
  out += "# Model delivery: " + s.model_delivery +
         (s.model_delivery == "bake"
              ? " - before `docker build`, fetch the model's files into ./model, e.g. with the\n"
                "# MLflow client against Tamga: mlflow artifacts download -u " +
                    uri + " -d model\n"
              : " - `tamga serve` downloads the model from " + s.tracking_uri + " at start-up.\n");
  out += "ARG TAMGA_IMAGE=ghcr.io/tamga-mlops/tamga:" + in.tamga_version + "\n";
  out += "FROM ${TAMGA_IMAGE} AS tamga\n\n";
  out += gpu ? "FROM nvidia/cuda:12.2.2-runtime-ubuntu22.04\n" : "FROM debian:12-slim\n";
  out +=
      "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\\n"
      " && rm -rf /var/lib/apt/lists/*\n";
  out += "COPY --from=tamga /usr/local/bin/tamga /usr/local/bin/tamga\n";
  if (s.model_delivery == "bake") out += "COPY model/ /models/model/\n";
  out += "ENV TAMGA_MODEL_URI=\"" + uri + "\"\n";
  if (gpu) out += "ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility\n";
  out += "USER 65532:65532\n";
  out += "EXPOSE " + std::to_string(kHttpPort) + " " + std::to_string(kGrpcPort) + "\n";
  out += "ENTRYPOINT [\"tamga\", \"serve\"]\n";
  std::string cmd = s.model_delivery == "bake"
                        ? "\"--model-dir\", \"/models/model\", \"--model-uri\", \"" + uri + "\""
                        : "\"--model-uri\", \"" + uri + "\", \"--tracking-uri\", \"" + s.tracking_uri + "\"";
  out += "CMD [" + cmd + ", \"--port\", \"" + std::to_string(kHttpPort) + "\", \"--device\", \"" +
         (gpu ? "cuda" : "cpu") + "\"]\n";
  return out;
}

}  // namespace

std::string DeploymentDir(const DeploymentSpec& spec) { return spec.ns + "/" + spec.name; }

std::vector<RenderedFile> RenderDeployment(const RenderInput& in) {
  std::string dir = DeploymentDir(in.spec) + "/";
  std::vector<RenderedFile> files;
  files.push_back({dir + "Dockerfile", Dockerfile(in)});
  files.push_back({dir + "deployment.yaml", DeploymentYaml(in)});
  if (in.spec.replicas > 0 && in.spec.max_replicas > in.spec.min_replicas)
    files.push_back({dir + "hpa.yaml", HpaYaml(in)});
  if (!in.spec.ingress_host.empty()) files.push_back({dir + "ingress.yaml", IngressYaml(in)});
  files.push_back({dir + "service.yaml", ServiceYaml(in)});
  return files;
}

}  // namespace tamga
