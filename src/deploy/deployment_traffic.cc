#include "deploy/deployment_traffic.h"

#include <cmath>
#include <regex>
#include <set>

#include "core/utf8.h"
#include "registry/registry_validation.h"

namespace tamga {
namespace {

constexpr size_t kMaxVariants = 8;

Status Bad(const std::string& what) { return InvalidArgument("Deployment field 'traffic': " + what); }

std::string G(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

Status Number(const nlohmann::json& j, const char* key, double lo, double hi, double* out,
              const char* section = "traffic") {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_number() || !std::isfinite(j[key].get<double>()) || j[key].get<double>() < lo ||
      j[key].get<double>() > hi) {
    return InvalidArgument(std::string("Deployment field '") + section + "': '" + key +
                           "' must be a number in [" + G(lo) + ", " + G(hi) + "]");
  }
  *out = j[key].get<double>();
  return Status::Ok();
}

Status String(const nlohmann::json& j, const char* key, std::string* out) {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_string()) return Bad(std::string("'") + key + "' must be a string");
  *out = j[key].get<std::string>();
  return Status::Ok();
}

Status ParseVariant(const nlohmann::json& j, DeploymentVariant* v) {
  if (!j.is_object()) return Bad("each variant must be an object");
  static const std::set<std::string> kKnown = {"name", "alias", "version", "weight", "shadow"};
  for (const auto& [k, val] : j.items()) {
    if (!kKnown.count(k)) return Bad("unknown variant field '" + std::string(Utf8Prefix(k, 64)) + "'");
  }
  TAMGA_RETURN_IF_ERROR(String(j, "name", &v->name));
  TAMGA_RETURN_IF_ERROR(String(j, "alias", &v->alias));
  if (j.contains("version") && j["version"].is_number_integer()) {
    v->version = std::to_string(j["version"].get<int64_t>());
  } else {
    TAMGA_RETURN_IF_ERROR(String(j, "version", &v->version));
  }
  TAMGA_RETURN_IF_ERROR(Number(j, "weight", 0, 1e6, &v->weight));
  if (j.contains("shadow") && !j["shadow"].is_null()) {
    if (!j["shadow"].is_boolean()) return Bad("'shadow' must be true or false");
    v->shadow = j["shadow"].get<bool>();
  }
  static const std::regex kName("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  if (v->name.size() > 32 || !std::regex_match(v->name, kName)) {
    return Bad("variant name '" + std::string(Utf8Prefix(v->name, 64)) +
               "' must be 1-32 lower-case letters, digits and '-'");
  }
  if (v->alias.empty() == v->version.empty()) {
    return Bad("variant '" + v->name + "' needs exactly one of 'alias' or 'version'");
  }
  if (!v->alias.empty()) TAMGA_RETURN_IF_ERROR(ValidateAlias(v->alias));
  static const std::regex kVersion("^[1-9][0-9]{0,17}$");
  // Lengths are checked before any regex sees the text (libstdc++'s matcher recurses per character).
  if (!v->version.empty() && (v->version.size() > 18 || !std::regex_match(v->version, kVersion))) {
    return Bad("variant '" + v->name + "': version must be a registered version number");
  }
  if (v->shadow && j.contains("weight") && v->weight > 0) {
    return Bad("variant '" + v->name + "' is a shadow: it gets mirrored copies, not a weight");
  }
  return Status::Ok();
}

}  // namespace

Status ParseDeploymentTraffic(const nlohmann::json& j, DeploymentTraffic* out) {
  if (!j.is_object()) return Bad("must be an object");
  static const std::set<std::string> kKnown = {"policy",        "variants",    "sticky_header",
                                               "shadow_sample", "shadow_atol", "shadow_rtol"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k)) return Bad("unknown field '" + std::string(Utf8Prefix(k, 64)) + "'");
  }
  DeploymentTraffic t;
  TAMGA_RETURN_IF_ERROR(String(j, "policy", &t.policy));
  if (t.policy != "canary" && t.policy != "ab" && t.policy != "shadow") {
    return Bad("'policy' must be 'canary', 'ab' or 'shadow'");
  }
  TAMGA_RETURN_IF_ERROR(String(j, "sticky_header", &t.sticky_header));
  TAMGA_RETURN_IF_ERROR(Number(j, "shadow_sample", 0, 1, &t.shadow_sample));
  TAMGA_RETURN_IF_ERROR(Number(j, "shadow_atol", 0, 1e12, &t.shadow_atol));
  TAMGA_RETURN_IF_ERROR(Number(j, "shadow_rtol", 0, 1e6, &t.shadow_rtol));
  if (!j.contains("variants") || !j["variants"].is_array() || j["variants"].empty() ||
      j["variants"].size() > kMaxVariants) {
    return Bad("'variants' must be a list of 1-" + std::to_string(kMaxVariants) + " variants");
  }
  std::set<std::string> names;
  int serving = 0, shadows = 0;
  double total = 0;
  for (const auto& vj : j["variants"]) {
    DeploymentVariant v;
    TAMGA_RETURN_IF_ERROR(ParseVariant(vj, &v));
    if (!names.insert(v.name).second) return Bad("variant '" + v.name + "' appears twice");
    if (v.shadow) {
      ++shadows;
    } else {
      ++serving;
      total += v.weight;
    }
    t.variants.push_back(std::move(v));
  }
  if (t.policy == "shadow") {
    if (serving != 1 || shadows == 0)
      return Bad("policy 'shadow' needs exactly one serving variant and at least one shadow variant");
    for (auto& v : t.variants) {
      if (!v.shadow && v.weight == 0) v.weight = 1;  // the one serving variant takes everything
    }
  } else {
    if (serving < 2) return Bad("policy '" + t.policy + "' needs at least two serving (non-shadow) variants");
    if (!(total > 0)) return Bad("the serving variants' weights must add up to more than 0");
  }
  static const std::regex kHeader("^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$");
  if (t.policy == "ab") {
    for (auto& c : t.sticky_header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.sticky_header.empty()) {
      return Bad(
          "policy 'ab' needs 'sticky_header': the request header whose value keeps a caller on a variant");
    }
    static const std::set<std::string> kRefused = {
        "host",   "content-length",    "content-type", "authorization",
        "cookie", "transfer-encoding", "connection",   "te",
        "upgrade"};
    if (t.sticky_header.size() > 64 || !std::regex_match(t.sticky_header, kHeader) ||
        kRefused.count(t.sticky_header)) {
      return Bad("'sticky_header' '" + std::string(Utf8Prefix(t.sticky_header, 64)) +
                 "' is not a header a caller can key on (a header name of 1-64 token characters, not a "
                 "connection, body or credential header)");
    }
  } else if (!t.sticky_header.empty()) {
    return Bad("'sticky_header' applies to policy 'ab' only");
  }
  if (t.shadow_sample <= 0) return Bad("'shadow_sample' must be above 0");
  *out = std::move(t);
  return Status::Ok();
}

nlohmann::ordered_json DeploymentTrafficJson(const DeploymentTraffic& t) {
  nlohmann::ordered_json j;
  j["policy"] = t.policy;
  j["variants"] = nlohmann::ordered_json::array();
  for (const auto& v : t.variants) {
    nlohmann::ordered_json vj;
    vj["name"] = v.name;
    if (!v.alias.empty()) vj["alias"] = v.alias;
    if (!v.version.empty()) vj["version"] = v.version;
    vj["weight"] = v.weight;
    vj["shadow"] = v.shadow;
    j["variants"].push_back(std::move(vj));
  }
  if (!t.sticky_header.empty()) j["sticky_header"] = t.sticky_header;
  j["shadow_sample"] = t.shadow_sample;
  j["shadow_atol"] = t.shadow_atol;
  j["shadow_rtol"] = t.shadow_rtol;
  return j;
}

namespace {

Status RBad(const std::string& what) { return InvalidArgument("Deployment field 'rollout': " + what); }

Status NumberR(const nlohmann::json& j, const char* key, double lo, double hi, double* out) {
  return Number(j, key, lo, hi, out, "rollout");
}

Status CheckKeys(const nlohmann::json& j, const std::set<std::string>& known, const char* where) {
  if (!j.is_object()) return RBad(std::string(where) + " must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!known.count(k))
      return RBad(std::string("unknown field '") + std::string(Utf8Prefix(k, 64)) + "' in " + where);
  }
  return Status::Ok();
}

Status Int(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < lo || j[key].get<int64_t>() > hi) {
    return RBad(std::string("'") + key + "' must be an integer in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  }
  *out = j[key].get<int64_t>();
  return Status::Ok();
}

Status ParseStage(const nlohmann::json& j, bool weighted, RolloutStage* st, const char* where) {
  TAMGA_RETURN_IF_ERROR(CheckKeys(j,
                                  weighted ? std::set<std::string>{"weight", "min_seconds", "min_requests"}
                                           : std::set<std::string>{"min_seconds", "min_requests"},
                                  where));
  TAMGA_RETURN_IF_ERROR(Int(j, "min_seconds", 0, 86400 * 30, &st->min_seconds));
  TAMGA_RETURN_IF_ERROR(Int(j, "min_requests", 0, int64_t{1} << 40, &st->min_requests));
  if (weighted) {
    if (!j.contains("weight")) return RBad(std::string("each step needs a 'weight' (percent of traffic)"));
    if (!j["weight"].is_number() || !(j["weight"].get<double>() > 0) || !(j["weight"].get<double>() < 100)) {
      return RBad("a step's 'weight' must be a percentage above 0 and below 100");
    }
    st->weight = j["weight"].get<double>();
  }
  return Status::Ok();
}

}  // namespace

Status ParsePayloadLog(const nlohmann::json& j, DeploymentSpec* spec) {
  if (!j.is_object()) return InvalidArgument("Deployment field 'payload_log' must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "sample" && k != "max_record_bytes")
      return InvalidArgument("Deployment field 'payload_log': unknown field '" +
                             std::string(Utf8Prefix(k, 64)) + "'");
  }
  if (!j.contains("sample") || !j["sample"].is_number() || !(j["sample"].get<double>() > 0) ||
      j["sample"].get<double>() > 1) {
    return InvalidArgument("Deployment field 'payload_log': 'sample' must be a share in (0, 1]");
  }
  spec->payload_sample = j["sample"].get<double>();
  if (j.contains("max_record_bytes")) {
    if (!j["max_record_bytes"].is_number_integer() || j["max_record_bytes"].get<int64_t>() < 256 ||
        j["max_record_bytes"].get<int64_t>() > (int64_t{16} << 20)) {
      return InvalidArgument(
          "Deployment field 'payload_log': 'max_record_bytes' must be an integer in [256, 16 MiB]");
    }
    spec->payload_max_record_bytes = j["max_record_bytes"].get<int64_t>();
  }
  return Status::Ok();
}

Status ParseDeploymentRollout(const nlohmann::json& j, DeploymentRollout* out) {
  TAMGA_RETURN_IF_ERROR(CheckKeys(j, {"shadow", "steps", "gates", "shadow_atol", "shadow_rtol"}, "rollout"));
  DeploymentRollout r;
  r.enabled = true;
  if (j.contains("shadow") && !j["shadow"].is_null()) {
    r.shadow = true;
    TAMGA_RETURN_IF_ERROR(ParseStage(j["shadow"], false, &r.shadow_stage, "'shadow'"));
  }
  if (j.contains("steps") && !j["steps"].is_null()) {
    if (!j["steps"].is_array() || j["steps"].size() > 10)
      return RBad("'steps' must be a list of at most 10 steps");
    double last = 0;
    for (const auto& sj : j["steps"]) {
      RolloutStage st;
      TAMGA_RETURN_IF_ERROR(ParseStage(sj, true, &st, "a step"));
      if (st.weight <= last) return RBad("step weights must increase");
      last = st.weight;
      r.steps.push_back(st);
    }
  }
  if (!r.shadow && r.steps.empty()) return RBad("give a 'shadow' stage, 'steps', or both");
  if (j.contains("gates") && !j["gates"].is_null()) {
    const auto& g = j["gates"];
    TAMGA_RETURN_IF_ERROR(CheckKeys(
        g, {"max_error_rate", "max_p99_ms", "max_shadow_disagreement", "require_reference_test"}, "'gates'"));
    TAMGA_RETURN_IF_ERROR(NumberR(g, "max_error_rate", 0, 1, &r.max_error_rate));
    TAMGA_RETURN_IF_ERROR(NumberR(g, "max_p99_ms", 0, 3.6e6, &r.max_p99_ms));
    TAMGA_RETURN_IF_ERROR(NumberR(g, "max_shadow_disagreement", 0, 1, &r.max_shadow_disagreement));
    if (g.contains("require_reference_test") && !g["require_reference_test"].is_null()) {
      if (!g["require_reference_test"].is_boolean())
        return RBad("'require_reference_test' must be true or false");
      r.require_reference_test = g["require_reference_test"].get<bool>();
    }
  }
  TAMGA_RETURN_IF_ERROR(NumberR(j, "shadow_atol", 0, 1e12, &r.shadow_atol));
  TAMGA_RETURN_IF_ERROR(NumberR(j, "shadow_rtol", 0, 1e6, &r.shadow_rtol));
  *out = std::move(r);
  return Status::Ok();
}

nlohmann::ordered_json DeploymentRolloutJson(const DeploymentRollout& r) {
  nlohmann::ordered_json j;
  auto stage = [](const RolloutStage& st, bool weighted) {
    nlohmann::ordered_json s;
    if (weighted) s["weight"] = st.weight;
    s["min_seconds"] = st.min_seconds;
    s["min_requests"] = st.min_requests;
    return s;
  };
  if (r.shadow) j["shadow"] = stage(r.shadow_stage, false);
  j["steps"] = nlohmann::ordered_json::array();
  for (const auto& st : r.steps) j["steps"].push_back(stage(st, true));
  nlohmann::ordered_json g;
  g["max_error_rate"] = r.max_error_rate;
  if (r.max_p99_ms >= 0) g["max_p99_ms"] = r.max_p99_ms;
  g["max_shadow_disagreement"] = r.max_shadow_disagreement;
  g["require_reference_test"] = r.require_reference_test;
  j["gates"] = g;
  j["shadow_atol"] = r.shadow_atol;
  j["shadow_rtol"] = r.shadow_rtol;
  return j;
}

}  // namespace tamga
