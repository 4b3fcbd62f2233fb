#include "deploy/deployment_spec.h"
#include "core/json_parse.h"

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/utf8.h"
#include "deploy/deployment_serving.h"
#include "deploy/deployment_traffic.h"
#include "registry/registry_validation.h"

namespace tamga {
namespace {

bool Dns1123Label(const std::string& s, size_t max) {
  static const std::regex kRe("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return !s.empty() && s.size() <= max && std::regex_match(s, kRe);
}

bool K8sQuantity(const std::string& s) {
  static const std::regex kRe("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$");
  return !s.empty() && s.size() <= 32 && std::regex_match(s, kRe);
}

}  // namespace

Result<DeploymentSpec> ParseDeploymentSpec(const std::string& text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgument("Deployment spec is not valid JSON: " + parsed.status().message());
  nlohmann::json& j = *parsed;
  if (!j.is_object()) return InvalidArgument("Deployment spec must be a JSON object");
  static const std::set<std::string> kKnown = {
      "name",          "model_name",         "alias",        "namespace",    "replicas",     "min_replicas",
      "max_replicas",  "target_cpu_percent", "cpu",          "memory",       "gpu_count",    "gpu_product",
      "image",         "model_delivery",     "tracking_uri", "ingress_host", "max_body_mb",  "target",
      "ingress_class", "startup_timeout_s",  "cache_size",   "runtime",      "token_secret", "traffic",
      "rollout",       "payload_log",        "monitoring",   "snooze"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k))
      return InvalidArgument("Unknown deployment field '" + std::string(Utf8Prefix(k, 64)) + "'");
  }
  DeploymentSpec s;
  auto str = [&](const char* key, std::string* out) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_string())
      return InvalidArgument(std::string("Deployment field '") + key + "' must be a string");
    *out = j[key].get<std::string>();
    return Status::Ok();
  };
  auto num = [&](const char* key, int* out, int lo, int hi) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_number_integer() || j[key].get<int64_t>() < lo || j[key].get<int64_t>() > hi) {
      return InvalidArgument(std::string("Deployment field '") + key + "' must be an integer in [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    *out = j[key].get<int>();
    return Status::Ok();
  };
  TAMGA_RETURN_IF_ERROR(str("name", &s.name));
  TAMGA_RETURN_IF_ERROR(str("model_name", &s.model_name));
  TAMGA_RETURN_IF_ERROR(str("alias", &s.alias));
  TAMGA_RETURN_IF_ERROR(str("namespace", &s.ns));
  TAMGA_RETURN_IF_ERROR(str("cpu", &s.cpu));
  TAMGA_RETURN_IF_ERROR(str("memory", &s.memory));
  TAMGA_RETURN_IF_ERROR(str("gpu_product", &s.gpu_product));
  TAMGA_RETURN_IF_ERROR(str("image", &s.image));
  TAMGA_RETURN_IF_ERROR(str("model_delivery", &s.model_delivery));
  TAMGA_RETURN_IF_ERROR(str("tracking_uri", &s.tracking_uri));
  TAMGA_RETURN_IF_ERROR(str("ingress_host", &s.ingress_host));
  TAMGA_RETURN_IF_ERROR(str("target", &s.target));
  TAMGA_RETURN_IF_ERROR(str("ingress_class", &s.ingress_class));
  TAMGA_RETURN_IF_ERROR(str("cache_size", &s.cache_size));
  TAMGA_RETURN_IF_ERROR(str("runtime", &s.runtime));
  TAMGA_RETURN_IF_ERROR(str("token_secret", &s.token_secret));
  if (!s.token_secret.empty() && !Dns1123Label(s.token_secret, 253)) {
    return InvalidArgument("Invalid token_secret '" + std::string(Utf8Prefix(s.token_secret, 64)) +
                           "': a Kubernetes Secret name");
  }
  if (s.runtime != "auto" && s.runtime != "native" && s.runtime != "python") {
    return InvalidArgument("Deployment field 'runtime' must be 'auto', 'native' or 'python'");
  }
  if (s.target != "kubernetes" && s.target != "local") {
    return InvalidArgument("Deployment field 'target' must be 'kubernetes' or 'local'");
  }
  bool has_min = j.contains("min_replicas");
  TAMGA_RETURN_IF_ERROR(num("replicas", &s.replicas, 0, 1000));
  TAMGA_RETURN_IF_ERROR(num("min_replicas", &s.min_replicas, 1, 1000));
  TAMGA_RETURN_IF_ERROR(num("max_replicas", &s.max_replicas, 1, 1000));
  TAMGA_RETURN_IF_ERROR(num("target_cpu_percent", &s.target_cpu_percent, 1, 100));
  TAMGA_RETURN_IF_ERROR(num("gpu_count", &s.gpu_count, 0, 16));
  TAMGA_RETURN_IF_ERROR(num("max_body_mb", &s.max_body_mb, 1, 4096));
  TAMGA_RETURN_IF_ERROR(num("startup_timeout_s", &s.startup_timeout_s, 10, 86400));
  if (!has_min) s.min_replicas = std::max(1, s.replicas);
  if (!Dns1123Label(s.name, 53)) {
    return InvalidArgument(
        "Invalid deployment name '" + std::string(Utf8Prefix(s.name, 64)) +
        "': use 1-53 lower-case letters, digits and '-', starting and ending with a letter or digit");
  }
  TAMGA_RETURN_IF_ERROR(ValidateModelName(s.model_name));
  TAMGA_RETURN_IF_ERROR(ValidateAlias(s.alias));
  if (!Dns1123Label(s.ns, 63))
    return InvalidArgument("Invalid namespace '" + std::string(Utf8Prefix(s.ns, 64)) + "'");
  if (!K8sQuantity(s.cpu))
    return InvalidArgument("Invalid cpu quantity '" + std::string(Utf8Prefix(s.cpu, 32)) + "'");
  if (!K8sQuantity(s.memory))
    return InvalidArgument("Invalid memory quantity '" + std::string(Utf8Prefix(s.memory, 32)) + "'");
  if (!s.cache_size.empty() && !K8sQuantity(s.cache_size))
    return InvalidArgument("Invalid cache_size quantity '" + std::string(Utf8Prefix(s.cache_size, 32)) + "'");
  if (!s.ingress_class.empty() && !Dns1123Label(s.ingress_class, 63)) {
    return InvalidArgument("Invalid ingress_class '" + std::string(Utf8Prefix(s.ingress_class, 64)) + "'");
  }
  if (s.replicas > s.max_replicas) {
    return InvalidArgument("replicas (" + std::to_string(s.replicas) + ") must not exceed max_replicas (" +
                           std::to_string(s.max_replicas) +
                           (j.contains("max_replicas") ? "" : ", the default") + ")");
  }
  if (s.min_replicas > s.max_replicas) {
    return InvalidArgument("min_replicas (" + std::to_string(s.min_replicas) +
                           ") must not exceed max_replicas (" + std::to_string(s.max_replicas) + ")");
  }
  if (s.model_delivery != "pull" && s.model_delivery != "bake") {
    return InvalidArgument("model_delivery must be 'pull' or 'bake'");
  }
  if (s.tracking_uri.rfind("http://", 0) != 0 && s.tracking_uri.rfind("https://", 0) != 0) {
    return InvalidArgument("tracking_uri must be an http(s) URL");
  }
  static const std::regex kHost("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
  if (!s.ingress_host.empty() && (s.ingress_host.size() > 253 || !std::regex_match(s.ingress_host, kHost))) {
    return InvalidArgument("Invalid ingress_host '" + std::string(Utf8Prefix(s.ingress_host, 64)) + "'");
  }
  static const std::regex kLabelValue("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");
  if (!s.gpu_product.empty() &&
      (s.gpu_product.size() > 63 || !std::regex_match(s.gpu_product, kLabelValue))) {
    return InvalidArgument("Invalid gpu_product '" + std::string(Utf8Prefix(s.gpu_product, 64)) + "'");
  }
  if (!s.gpu_product.empty() && s.gpu_count == 0) return InvalidArgument("gpu_product needs gpu_count > 0");
  static const std::regex kImage("^[A-Za-z0-9][A-Za-z0-9._/:@-]*$");
  if (!s.image.empty() && (s.image.size() > 255 || !std::regex_match(s.image, kImage))) {
    return InvalidArgument("Invalid image '" + std::string(Utf8Prefix(s.image, 64)) + "'");
  }
  if (s.tracking_uri.size() > 2048 || s.tracking_uri.find_first_of(" \t\r\n\"'") != std::string::npos) {
    return InvalidArgument("Invalid tracking_uri");
  }
  if (j.contains("rollout") && !j["rollout"].is_null()) {
    TAMGA_RETURN_IF_ERROR(ParseDeploymentRollout(j["rollout"], &s.rollout));
    if (s.target != "local") {
      return InvalidArgument(
          "Deployment field 'rollout' needs target 'local': progressive rollouts are run by tamga server "
          "(docs/rollouts.md)");
    }
    if (j.contains("traffic") && !j["traffic"].is_null()) {
      return InvalidArgument(
          "Deployment fields 'traffic' and 'rollout' exclude each other: a rollout sets the traffic");
    }
  }
  if (j.contains("payload_log") && !j["payload_log"].is_null()) {
    TAMGA_RETURN_IF_ERROR(ParsePayloadLog(j["payload_log"], &s));
    if (s.target != "local") {
      return InvalidArgument("Deployment field 'payload_log' needs target 'local' (docs/rollouts.md)");
    }
  }
  if (j.contains("monitoring") && !j["monitoring"].is_null()) {
    TAMGA_RETURN_IF_ERROR(ParseDeploymentMonitoring(j["monitoring"], &s.monitoring));
    if (s.target != "local") {
      return InvalidArgument("Deployment field 'monitoring' needs target 'local' (docs/rollouts.md)");
    }
  }
  if (j.contains("snooze") && !j["snooze"].is_null()) {
    TAMGA_RETURN_IF_ERROR(ParseDeploymentSnooze(j["snooze"], &s.snooze));
    if (s.rollout.enabled) {
      return InvalidArgument(
          "Deployment fields 'snooze' and 'rollout' exclude each other: a rollout judges live traffic");
    }
  }
  if (j.contains("traffic") && !j["traffic"].is_null()) {
    TAMGA_RETURN_IF_ERROR(ParseDeploymentTraffic(j["traffic"], &s.traffic));
    if (s.target != "local") {
      return InvalidArgument(
          "Deployment field 'traffic' needs target 'local': traffic policies between versions are served by "
          "tamga server (docs/rollouts.md)");
    }
  }
  return s;
}

std::string DeploymentSpecJson(const DeploymentSpec& s) {
  nlohmann::ordered_json j;
  j["name"] = s.name;
  j["model_name"] = s.model_name;
  j["alias"] = s.alias;
  j["namespace"] = s.ns;
  j["replicas"] = s.replicas;
  j["min_replicas"] = s.min_replicas;
  j["max_replicas"] = s.max_replicas;
  j["target_cpu_percent"] = s.target_cpu_percent;
  j["cpu"] = s.cpu;
  j["memory"] = s.memory;
  j["gpu_count"] = s.gpu_count;
  j["gpu_product"] = s.gpu_product;
  j["image"] = s.image;
  j["model_delivery"] = s.model_delivery;
  j["tracking_uri"] = s.tracking_uri;
  j["ingress_host"] = s.ingress_host;
  j["max_body_mb"] = s.max_body_mb;
  j["target"] = s.target;
  j["ingress_class"] = s.ingress_class;
  j["startup_timeout_s"] = s.startup_timeout_s;
  j["cache_size"] = s.cache_size;
  j["runtime"] = s.runtime;
  j["token_secret"] = s.token_secret;
  if (!s.traffic.policy.empty()) j["traffic"] = DeploymentTrafficJson(s.traffic);
  if (s.rollout.enabled) j["rollout"] = DeploymentRolloutJson(s.rollout);
  if (s.payload_sample > 0) {
    j["payload_log"] = {{"sample", s.payload_sample}, {"max_record_bytes", s.payload_max_record_bytes}};
  }
  if (s.monitoring.enabled) j["monitoring"] = DeploymentMonitoringJson(s.monitoring);
  if (s.snooze.idle_seconds > 0) j["snooze"] = DeploymentSnoozeJson(s.snooze);
  return DumpJson(j);
}

}  // namespace tamga
