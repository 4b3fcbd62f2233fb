#include "deploy/deployment_serving.h"

#include <cmath>
#include <set>

#include "core/utf8.h"

namespace tamga {
namespace {

Status Bad(const char* field, const std::string& what) {
  return InvalidArgument(std::string("Deployment field '") + field + "': " + what);
}

Status Keys(const nlohmann::json& j, const std::set<std::string>& known, const char* field,
            const char* where) {
  if (!j.is_object()) return Bad(field, std::string(where) + " must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!known.count(k))
      return Bad(field, "unknown field '" + std::string(Utf8Prefix(k, 64)) + "' in " + where);
  }
  return Status::Ok();
}

Status Real(const nlohmann::json& j, const char* key, double lo, double hi, double* out, const char* field) {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_number() || !std::isfinite(j[key].get<double>()) || j[key].get<double>() < lo ||
      j[key].get<double>() > hi) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "'%s' must be a number in [%g, %g]", key, lo, hi);
    return Bad(field, buf);
  }
  *out = j[key].get<double>();
  return Status::Ok();
}

Status Integer(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, int64_t* out,
               const char* field) {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < lo || j[key].get<int64_t>() > hi) {
    return Bad(field, std::string("'") + key + "' must be an integer in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  }
  *out = j[key].get<int64_t>();
  return Status::Ok();
}

}  // namespace

Status ParseDeploymentMonitoring(const nlohmann::json& j, DeploymentMonitoring* out) {
  const char* f = "monitoring";
  TAMGA_RETURN_IF_ERROR(Keys(j, {"outliers", "drift"}, f, "monitoring"));
  DeploymentMonitoring m;
  m.enabled = true;
  if (j.contains("outliers") && !j["outliers"].is_null()) {
    const auto& o = j["outliers"];
    TAMGA_RETURN_IF_ERROR(Keys(o, {"max_z", "max_mahalanobis"}, f, "'outliers'"));
    TAMGA_RETURN_IF_ERROR(Real(o, "max_z", 0.5, 1e6, &m.max_z, f));
    TAMGA_RETURN_IF_ERROR(Real(o, "max_mahalanobis", 0, 1e6, &m.max_mahalanobis, f));
  }
  if (j.contains("drift") && !j["drift"].is_null()) {
    const auto& d = j["drift"];
    TAMGA_RETURN_IF_ERROR(
        Keys(d, {"window_rows", "psi_threshold", "ks_threshold", "event_cooldown_s"}, f, "'drift'"));
    TAMGA_RETURN_IF_ERROR(Integer(d, "window_rows", 100, 1000000, &m.window_rows, f));
    TAMGA_RETURN_IF_ERROR(Real(d, "psi_threshold", 0.001, 100, &m.psi_threshold, f));
    TAMGA_RETURN_IF_ERROR(Real(d, "ks_threshold", 0.001, 1, &m.ks_threshold, f));
    TAMGA_RETURN_IF_ERROR(Integer(d, "event_cooldown_s", 0, 7 * 86400, &m.event_cooldown_s, f));
  }
  *out = m;
  return Status::Ok();
}

nlohmann::ordered_json DeploymentMonitoringJson(const DeploymentMonitoring& m) {
  nlohmann::ordered_json j;
  j["outliers"] = {{"max_z", m.max_z}, {"max_mahalanobis", m.max_mahalanobis}};
  j["drift"] = {{"window_rows", m.window_rows},
                {"psi_threshold", m.psi_threshold},
                {"ks_threshold", m.ks_threshold},
                {"event_cooldown_s", m.event_cooldown_s}};
  return j;
}

Status ParseDeploymentSnooze(const nlohmann::json& j, DeploymentSnooze* out) {
  const char* f = "snooze";
  TAMGA_RETURN_IF_ERROR(Keys(j, {"idle_seconds", "wake_timeout_s"}, f, "snooze"));
  DeploymentSnooze s;
  if (!j.contains("idle_seconds")) return Bad(f, "'idle_seconds' is required");
  TAMGA_RETURN_IF_ERROR(Integer(j, "idle_seconds", 1, 30 * 86400, &s.idle_seconds, f));
  TAMGA_RETURN_IF_ERROR(Integer(j, "wake_timeout_s", 0, 300, &s.wake_timeout_s, f));
  *out = s;
  return Status::Ok();
}

nlohmann::ordered_json DeploymentSnoozeJson(const DeploymentSnooze& s) {
  return {{"idle_seconds", s.idle_seconds}, {"wake_timeout_s", s.wake_timeout_s}};
}

}  // namespace tamga
