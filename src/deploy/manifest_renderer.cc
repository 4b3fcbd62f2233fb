#include "deploy/manifest_renderer.h"

#include <yaml-cpp/yaml.h>

namespace tamga {
namespace {

constexpr int kHttpPort = kServeHttpPort;
constexpr int kGrpcPort = kServeGrpcPort;
constexpr int kRunAsUser = 65532;  // the images' non-root user

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
void Bool(YAML::Emitter& e, const std::string& key, bool value) {
  e << YAML::Key << key << YAML::Value << YAML::TrueFalseBool << value;
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
  Annotations a = {{"tamga.io/model-name", in.spec.model_name}, {"tamga.io/model-uri", PinnedModelUri(in)}};
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
  Bool(e, "automountServiceAccountToken", false);  // the server needs no Kubernetes API access
  Bool(e, "enableServiceLinks", false);
  Int(e, "terminationGracePeriodSeconds", 30);
  e << YAML::Key << "securityContext" << YAML::Value << YAML::BeginMap;
  Bool(e, "runAsNonRoot", true);
  Int(e, "runAsUser", kRunAsUser);
  Int(e, "runAsGroup", kRunAsUser);
  Int(e, "fsGroup", kRunAsUser);
  e << YAML::Key << "seccompProfile" << YAML::Value << YAML::BeginMap;
  Str(e, "type", "RuntimeDefault");
  e << YAML::EndMap << YAML::EndMap;
  const ServeContainer sc = ServeContainerFor(in);
  e << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "name", "model-server");
  Str(e, "image", ServingImage(in));
  Str(e, "imagePullPolicy", "IfNotPresent");
  e << YAML::Key << "command" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& c : sc.command) e << YAML::DoubleQuoted << c;
  e << YAML::EndSeq;
  e << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
  for (const auto& a : sc.args) e << YAML::DoubleQuoted << a;
  e << YAML::EndSeq;
  e << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
  for (const auto& [k, v] : sc.env) {
    e << YAML::BeginMap;
    Str(e, "name", k);
    Str(e, "value", v);
    e << YAML::EndMap;
  }
  for (const auto& se : sc.secret_env) {
    e << YAML::BeginMap;
    Str(e, "name", se.name);
    e << YAML::Key << "valueFrom" << YAML::Value << YAML::BeginMap << YAML::Key << "secretKeyRef"
      << YAML::Value << YAML::BeginMap;
    Str(e, "name", se.secret);
    Str(e, "key", se.key);
    Bool(e, "optional", true);
    e << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  }
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
  auto probe = [&](const char* key, const char* path, int period, int failures) {
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "httpGet" << YAML::Value << YAML::BeginMap;
    Str(e, "path", path);
    Str(e, "port", "http");
    e << YAML::EndMap;
    Int(e, "periodSeconds", period);
    Int(e, "timeoutSeconds", 5);
    Int(e, "failureThreshold", failures);
    e << YAML::EndMap;
  };
  // Startup: ready (downloaded, loaded, warmed up) within startup_timeout_s, else the pod restarts.
  // Liveness only asks whether the process answers, so a slow load is never killed by it.
  probe("startupProbe", "/v2/health/ready", 10, (s.startup_timeout_s + 9) / 10);
  probe("readinessProbe", "/v2/health/ready", 5, 3);
  probe("livenessProbe", "/v2/health/live", 10, 3);
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
  e << YAML::Key << "securityContext" << YAML::Value << YAML::BeginMap;
  Bool(e, "allowPrivilegeEscalation", false);
  Bool(e, "readOnlyRootFilesystem", true);
  e << YAML::Key << "capabilities" << YAML::Value << YAML::BeginMap << YAML::Key << "drop" << YAML::Value
    << YAML::Flow << YAML::BeginSeq << YAML::DoubleQuoted << "ALL" << YAML::EndSeq << YAML::EndMap;
  e << YAML::EndMap;
  const bool pull = s.model_delivery != "bake";
  e << YAML::Key << "volumeMounts" << YAML::Value << YAML::BeginSeq;
  if (pull) {
    e << YAML::BeginMap;
    Str(e, "name", "model-cache");
    Str(e, "mountPath", kContainerCacheDir);
    e << YAML::EndMap;
  }
  e << YAML::BeginMap;
  Str(e, "name", "tmp");
  Str(e, "mountPath", kContainerTmpDir);
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap << YAML::EndSeq;  // container, containers
  e << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq;
  if (pull) {
    e << YAML::BeginMap;
    Str(e, "name", "model-cache");
    e << YAML::Key << "emptyDir" << YAML::Value << YAML::BeginMap;
    if (!s.cache_size.empty()) Str(e, "sizeLimit", s.cache_size);
    e << YAML::EndMap << YAML::EndMap;
  }
  e << YAML::BeginMap;
  Str(e, "name", "tmp");
  e << YAML::Key << "emptyDir" << YAML::Value << YAML::BeginMap;
  Str(e, "sizeLimit", "1Gi");
  e << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
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

// At most one pod of the deployment is evicted at a time by drains and upgrades (with one replica this
// allows the eviction: a PDB that blocks every drain would wedge node maintenance).
std::string PdbYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  Head(e, in, "policy/v1", "PodDisruptionBudget", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  Int(e, "maxUnavailable", 1);
  e << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels" << YAML::Value;
  Labels(e, in, true);
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

// Scale to zero (docs/rollouts.md §8) with the KEDA HTTP add-on: its interceptor holds requests while the
// Deployment scales up from zero and scales it down after `idle_seconds` without traffic. KEDA then owns the
// replica count (no HPA is rendered).
constexpr const char* kKedaInterceptor = "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local";
constexpr int kKedaInterceptorPort = 8080;

std::string SnoozeHost(const RenderInput& in) {
  return in.spec.ingress_host.empty() ? in.spec.name + "." + in.spec.ns + ".svc.cluster.local"
                                      : in.spec.ingress_host;
}

std::string KedaYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  Head(e, in, "http.keda.sh/v1alpha1", "HTTPScaledObject", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "hosts" << YAML::Value << YAML::BeginSeq << SnoozeHost(in) << YAML::EndSeq;
  e << YAML::Key << "scaleTargetRef" << YAML::Value << YAML::BeginMap;
  Str(e, "name", in.spec.name);
  Str(e, "kind", "Deployment");
  Str(e, "apiVersion", "apps/v1");
  Str(e, "service", in.spec.name);
  Int(e, "port", kHttpPort);
  e << YAML::EndMap;
  e << YAML::Key << "replicas" << YAML::Value << YAML::BeginMap;
  Int(e, "min", 0);
  Int(e, "max", in.spec.max_replicas);
  e << YAML::EndMap;
  Int(e, "scaledownPeriod", static_cast<int>(in.spec.snooze.idle_seconds));
  e << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

// The Ingress of a snoozing deployment sends to the interceptor (in KEDA's namespace) through this alias,
// Service <name>-keda (deployment names are at most 53 characters: this stays a valid 63-character name).
std::string InterceptorServiceYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  RenderInput named = in;
  named.spec.name = in.spec.name + "-keda";
  Head(e, named, "v1", "Service", ModelAnnotations(in));
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  Str(e, "type", "ExternalName");
  Str(e, "externalName", kKedaInterceptor);
  e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "name", "http");
  Int(e, "port", kKedaInterceptorPort);
  Str(e, "protocol", "TCP");
  e << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

std::string IngressYaml(const RenderInput& in) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  // ingress-nginx caps bodies at 1 MiB by default: match the server's own, visible limit.
  Head(e, in, "networking.k8s.io/v1", "Ingress",
       {{"nginx.ingress.kubernetes.io/proxy-body-size", std::to_string(in.spec.max_body_mb) + "m"},
        {"tamga.io/model-uri", PinnedModelUri(in)}});
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  if (!in.spec.ingress_class.empty()) Str(e, "ingressClassName", in.spec.ingress_class);
  e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "host", in.spec.ingress_host);
  e << YAML::Key << "http" << YAML::Value << YAML::BeginMap << YAML::Key << "paths" << YAML::Value
    << YAML::BeginSeq << YAML::BeginMap;
  Str(e, "path", "/");
  Str(e, "pathType", "Prefix");
  e << YAML::Key << "backend" << YAML::Value << YAML::BeginMap << YAML::Key << "service" << YAML::Value
    << YAML::BeginMap;
  Str(e, "name", in.spec.snooze.idle_seconds > 0 ? in.spec.name + "-keda" : in.spec.name);
  e << YAML::Key << "port" << YAML::Value << YAML::BeginMap;
  Str(e, "name", "http");
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap;  // port, service, backend
  e << YAML::EndMap << YAML::EndSeq << YAML::EndMap;  // path, paths, http
  e << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return Finish(e);
}

}  // namespace

std::string DeploymentDir(const DeploymentSpec& spec) { return spec.ns + "/" + spec.name; }

std::vector<RenderedFile> RenderDeployment(const RenderInput& in) {
  std::string dir = DeploymentDir(in.spec) + "/";
  std::vector<RenderedFile> files;
  files.push_back({dir + "Dockerfile", RenderDockerfile(in)});
  files.push_back({dir + "deployment.yaml", DeploymentYaml(in)});
  const bool snooze = in.spec.snooze.idle_seconds > 0;
  if (in.spec.replicas > 0 && in.spec.max_replicas > in.spec.min_replicas && !snooze)
    files.push_back({dir + "hpa.yaml", HpaYaml(in)});
  if (snooze) files.push_back({dir + "keda.yaml", KedaYaml(in)});
  if (snooze && !in.spec.ingress_host.empty())
    files.push_back({dir + "keda-service.yaml", InterceptorServiceYaml(in)});
  if (!in.spec.ingress_host.empty()) files.push_back({dir + "ingress.yaml", IngressYaml(in)});
  files.push_back({dir + "pdb.yaml", PdbYaml(in)});
  if (in.python_runtime) files.push_back({dir + "requirements.txt", in.requirements});
  files.push_back({dir + "service.yaml", ServiceYaml(in)});
  return files;
}

}  // namespace tamga
