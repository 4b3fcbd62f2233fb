// Resource tiers and team quotas as data (job_types.h): parsing with clear errors, canonical JSON for
// storage and the API.
#include <nlohmann/json.hpp>
#include <set>

#include "core/json_parse.h"
#include "core/utf8.h"
#include "jobs/job_types.h"

namespace tamga {
namespace {

bool ValidName(const std::string& s, size_t max) {
  return !s.empty() && s.size() <= max && std::isalnum(static_cast<unsigned char>(s[0])) &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos;
}

Status Known(const nlohmann::json& j, const std::set<std::string>& known, const char* what) {
  if (!j.is_object()) return InvalidArgument(std::string(what) + " must be a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (!known.count(k))
      return InvalidArgument("unknown " + std::string(what) + " field '" + std::string(Utf8Prefix(k, 64)) +
                             "'");
  }
  return Status::Ok();
}

Result<std::string> Str(const nlohmann::json& j, const char* key, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return InvalidArgument(std::string("missing field '") + key + "'");
    return std::string();
  }
  if (!j[key].is_string()) return InvalidArgument(std::string("field '") + key + "' must be a string");
  return j[key].get<std::string>();
}

// An integer in [lo, hi]; `dflt` when absent.
Result<int64_t> Int(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, int64_t dflt) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  const auto& x = j[key];
  if (x.is_number_unsigned() && x.get<uint64_t>() <= static_cast<uint64_t>(hi) &&
      static_cast<int64_t>(x.get<uint64_t>()) >= lo)
    return static_cast<int64_t>(x.get<uint64_t>());
  if (x.is_number_integer() && !x.is_number_unsigned() && x.get<int64_t>() >= lo && x.get<int64_t>() <= hi)
    return x.get<int64_t>();
  return InvalidArgument(std::string("field '") + key + "' must be an integer in [" + std::to_string(lo) +
                         ", " + std::to_string(hi) + "]");
}

Result<int64_t> Size(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return int64_t{0};
  if (j[key].is_number_unsigned() && j[key].get<uint64_t>() <= uint64_t{9000000000000000000})
    return static_cast<int64_t>(j[key].get<uint64_t>());
  if (!j[key].is_string())
    return InvalidArgument(std::string("field '") + key + "' must be a size (bytes or \"8GiB\")");
  auto v = ParseByteSize(j[key].get<std::string>());
  if (!v.ok()) return InvalidArgument(std::string("field '") + key + "': " + v.status().message());
  return *v;
}

}  // namespace

Result<ResourceTier> ParseResourceTier(const std::string& text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgument("tier is not valid JSON: " + parsed.status().message());
  const nlohmann::json& j = *parsed;
  TAMGA_RETURN_IF_ERROR(Known(j, {"name", "cpus", "memory", "gpus", "gpu_memory", "description"}, "tier"));
  ResourceTier t;
  TAMGA_ASSIGN_OR_RETURN(t.name, Str(j, "name", true));
  if (!ValidName(t.name, 64))
    return InvalidArgument("invalid tier name '" + std::string(Utf8Prefix(t.name, 64)) +
                           "': use letters, digits, '.', '_' and '-'");
  TAMGA_ASSIGN_OR_RETURN(int64_t cpus, Int(j, "cpus", 0, 4096, 1));
  TAMGA_ASSIGN_OR_RETURN(int64_t gpus, Int(j, "gpus", 0, 64, 0));
  t.resources.cpus = static_cast<int>(cpus);
  t.resources.gpus = static_cast<int>(gpus);
  TAMGA_ASSIGN_OR_RETURN(t.resources.memory_bytes, Size(j, "memory"));
  TAMGA_ASSIGN_OR_RETURN(t.resources.gpu_memory_bytes, Size(j, "gpu_memory"));
  if (t.resources.gpu_memory_bytes > 0 && t.resources.gpus == 0)
    return InvalidArgument("field 'gpu_memory' needs 'gpus' > 0");
  TAMGA_ASSIGN_OR_RETURN(t.description, Str(j, "description", false));
  if (t.description.size() > 1000) return InvalidArgument("field 'description' is longer than 1000");
  return t;
}

std::string ResourceTierJson(const ResourceTier& t) {
  nlohmann::ordered_json j;
  j["name"] = t.name;
  j["cpus"] = t.resources.cpus;
  j["memory"] = t.resources.memory_bytes;
  j["gpus"] = t.resources.gpus;
  j["gpu_memory"] = t.resources.gpu_memory_bytes;
  j["description"] = t.description;
  return DumpJson(j);
}

Result<TeamQuota> ParseTeamQuota(const std::string& text, const std::map<std::string, ResourceTier>* tiers) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgument("quota is not valid JSON: " + parsed.status().message());
  const nlohmann::json& j = *parsed;
  TAMGA_RETURN_IF_ERROR(
      Known(j, {"queue", "team", "max_gpus", "max_running", "max_queued", "tier", "count"}, "quota"));
  TeamQuota q;
  TAMGA_ASSIGN_OR_RETURN(q.queue, Str(j, "queue", true));
  TAMGA_ASSIGN_OR_RETURN(q.team, Str(j, "team", true));
  if (q.team.empty() || q.team.size() > 256) return InvalidArgument("field 'team' must be 1-256 characters");
  constexpr int64_t kMax = 1000000;
  TAMGA_ASSIGN_OR_RETURN(int64_t gpus, Int(j, "max_gpus", -1, kMax, -1));
  TAMGA_ASSIGN_OR_RETURN(int64_t running, Int(j, "max_running", -1, kMax, -1));
  TAMGA_ASSIGN_OR_RETURN(int64_t queued, Int(j, "max_queued", -1, kMax, -1));
  TAMGA_ASSIGN_OR_RETURN(q.tier, Str(j, "tier", false));
  TAMGA_ASSIGN_OR_RETURN(int64_t count, Int(j, "count", 0, kMax, 0));
  if (!q.tier.empty() && tiers == nullptr) {  // the stored form: limits resolved, the tier a note
    q.tier_count = static_cast<int>(count);
  } else if (!q.tier.empty()) {
    auto t = tiers->find(q.tier);
    if (t == tiers->end())
      return InvalidArgument("unknown tier '" + std::string(Utf8Prefix(q.tier, 64)) +
                             "' (tamga tiers ls lists them)");
    if (!j.contains("count")) return InvalidArgument("a quota stated in a tier needs 'count'");
    q.tier_count = static_cast<int>(count);
    if (running < 0) running = count;
    if (gpus < 0) gpus = count * t->second.resources.gpus;
  } else if (j.contains("count")) {
    return InvalidArgument("field 'count' needs 'tier'");
  }
  q.max_gpus = static_cast<int>(gpus);
  q.max_running = static_cast<int>(running);
  q.max_queued = static_cast<int>(queued);
  return q;
}

std::string TeamQuotaJson(const TeamQuota& q) {
  nlohmann::ordered_json j;
  j["queue"] = q.queue;
  j["team"] = q.team;
  j["max_gpus"] = q.max_gpus;
  j["max_running"] = q.max_running;
  j["max_queued"] = q.max_queued;
  if (!q.tier.empty()) {
    j["tier"] = q.tier;
    j["count"] = q.tier_count;
  }
  return DumpJson(j);
}

}  // namespace tamga
