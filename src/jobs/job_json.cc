// Job <-> JSON (the API's and the agent's view) and Job <-> JobRecord (storage).
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/secrets.h"
#include "core/utf8.h"
#include "jobs/job_internal.h"
#include "jobs/job_service.h"

namespace tamga {

std::string JobJson(const Job& j, SecretView view) {
  nlohmann::ordered_json o;
  o["id"] = j.id;
  o["queue"] = j.spec.queue;
  o["priority"] = j.spec.priority;
  o["state"] = JobStateName(j.state);
  o["reason"] = j.reason;
  if (j.exit_code) o["exit_code"] = *j.exit_code;
  o["run_id"] = j.run_id;
  o["agent_id"] = j.agent_id;
  o["gpu_uuids"] = j.gpu_uuids;
  o["attempts"] = j.attempts;
  o["abort_requested"] = j.abort_requested;
  o["created_ms"] = j.created_ms;
  o["started_ms"] = j.started_ms;
  o["ended_ms"] = j.ended_ms;
  if (!j.waiting_for.empty()) o["waiting_for"] = j.waiting_for;
  o["spec"] = jobs_internal::JobSpecObject(j.spec);
  if (view == SecretView::kRedacted) {
    for (auto& [k, v] : o["spec"]["env"].items()) {
      if (LooksSecret(k))
        v = kRedacted;
      else if (v.is_string())
        v = RedactUrlPassword(v.get<std::string>());
    }
    // A remote with a token in it (https://user:token@host/..., https://token@host/...) shows its userinfo,
    // query and fragment as ***.
    o["spec"]["git_repo"] = RedactUrlCredentials(j.spec.git_repo);
  }
  return DumpJson(o);
}

Result<Job> JobFromJson(const std::string& json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return InvalidArgument("malformed job JSON");
  nlohmann::json& o = *parsed;
  if (!o.is_object() || !o.contains("spec") || !o.contains("id"))
    return InvalidArgument("malformed job JSON");
  Job j;
  try {
    j.id = o.at("id").get<std::string>();
    auto st = ParseJobState(o.value("state", "queued"));
    if (!st) return InvalidArgument("malformed job state");
    j.state = *st;
    j.reason = o.value("reason", "");
    if (o.contains("exit_code")) j.exit_code = o["exit_code"].get<int>();
    j.run_id = o.value("run_id", "");
    j.agent_id = o.value("agent_id", "");
    j.gpu_uuids = o.value("gpu_uuids", std::vector<std::string>{});
    j.attempts = o.value("attempts", 0);
    j.abort_requested = o.value("abort_requested", false);
    j.created_ms = o.value("created_ms", int64_t{0});
    j.started_ms = o.value("started_ms", int64_t{0});
    j.ended_ms = o.value("ended_ms", int64_t{0});
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed job JSON: ") + e.what());
  }
  nlohmann::json spec = o["spec"];
  // Stored specs carry normalized resources (bytes); ParseJobSpec accepts them as they are.
  TAMGA_ASSIGN_OR_RETURN(j.spec, ParseJobSpec(DumpJson(spec)));
  return j;
}

namespace jobs_internal {

JobRecord ToRecord(const Job& j) {
  JobRecord r;
  r.id = j.id;
  r.seq = j.seq;
  r.queue = j.spec.queue;
  r.priority = j.spec.priority;
  r.state = JobStateName(j.state);
  r.reason = j.reason;
  r.spec_json = JobSpecJson(j.spec);
  r.run_id = j.run_id;
  r.agent_id = j.agent_id;
  for (size_t i = 0; i < j.gpu_uuids.size(); ++i) r.gpu_uuids += (i ? "," : "") + j.gpu_uuids[i];
  r.attempts = j.attempts;
  r.exit_code = j.exit_code;
  r.abort_requested = j.abort_requested;
  r.lease_expires_ms = j.lease_expires_ms;
  r.created_ms = j.created_ms;
  r.started_ms = j.started_ms;
  r.ended_ms = j.ended_ms;
  return r;
}

Result<Job> FromRecord(const JobRecord& r) {
  Job j;
  j.id = r.id;
  j.seq = r.seq;
  // Stores written before UTF-8 was enforced may hold ill-formed bytes in the spec's strings: replace them
  // rather than lose the job.
  TAMGA_ASSIGN_OR_RETURN(j.spec, ParseJobSpec(SanitizeUtf8(r.spec_json)));
  auto st = ParseJobState(r.state);
  if (!st) return Internal("job " + r.id + " has an unknown state '" + r.state + "'");
  j.state = *st;
  j.reason = r.reason;
  j.run_id = r.run_id;
  j.agent_id = r.agent_id;
  size_t s = 0;
  while (s < r.gpu_uuids.size()) {
    size_t c = r.gpu_uuids.find(',', s);
    j.gpu_uuids.push_back(r.gpu_uuids.substr(s, c == std::string::npos ? std::string::npos : c - s));
    s = c == std::string::npos ? r.gpu_uuids.size() : c + 1;
  }
  j.attempts = r.attempts;
  j.exit_code = r.exit_code;
  j.abort_requested = r.abort_requested;
  j.lease_expires_ms = r.lease_expires_ms;
  j.created_ms = r.created_ms;
  j.started_ms = r.started_ms;
  j.ended_ms = r.ended_ms;
  return j;
}

}  // namespace jobs_internal
}  // namespace tamga

namespace tamga {
namespace {

nlohmann::ordered_json GpuToJson(const GpuInfo& g) {
  nlohmann::ordered_json o;
  o["index"] = g.index;
  o["uuid"] = g.uuid;
  o["name"] = g.name;
  o["pci_bus_id"] = g.pci_bus_id;
  o["total_bytes"] = g.total_bytes;
  o["used_bytes"] = g.used_bytes;
  o["free_bytes"] = g.free_bytes;
  o["utilization_gpu"] = g.utilization_gpu;
  o["utilization_memory"] = g.utilization_memory;
  o["temperature_c"] = g.temperature_c;
  o["power_watts"] = g.power_watts;
  o["power_limit_watts"] = g.power_limit_watts;
  o["ecc_uncorrected_volatile"] = g.ecc_uncorrected_volatile;
  o["healthy"] = g.healthy;
  o["health_reason"] = g.health_reason;
  o["processes"] = nlohmann::ordered_json::array();
  for (const auto& p : g.processes) o["processes"].push_back({{"pid", p.pid}, {"used_bytes", p.used_bytes}});
  return o;
}

}  // namespace

std::string GpuInfoJson(const GpuInfo& g) { return DumpJson(GpuToJson(g)); }

std::string AgentReportJson(const AgentReport& r) {
  nlohmann::ordered_json o;
  o["name"] = r.name;
  o["queues"] = r.queues;
  o["cpus"] = r.cpus;
  o["memory_bytes"] = r.memory_bytes;
  o["gpus_enabled"] = r.gpus_enabled;
  o["gpu_error"] = r.gpu_error;
  o["gpus"] = nlohmann::ordered_json::array();
  for (const auto& g : r.gpus) o["gpus"].push_back(GpuToJson(g));
  o["allowed_gpus"] = std::vector<std::string>(r.allowed_gpus.begin(), r.allowed_gpus.end());
  nlohmann::ordered_json pids = nlohmann::ordered_json::object();
  for (const auto& [job, p] : r.job_pids) pids[job] = p;
  o["job_pids"] = pids;
  return DumpJson(o);
}

namespace {

// Strict readers for agent reports: a missing key keeps the default; a present key of the wrong type or out
// of range is InvalidArgument naming it. No typed access happens before the type check.
class Fields {
 public:
  Fields(const nlohmann::json& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}
  Status Str(const char* key, size_t max, std::string* out) const {
    const auto* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->is_string()) return Bad(key, "a string");
    if (v->get_ref<const std::string&>().size() > max)
      return Bad(key, "at most " + std::to_string(max) + " bytes");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  template <typename T>
  Status Int(const char* key, int64_t lo, int64_t hi, T* out) const {
    const auto* v = Find(key);
    if (!v) return Status::Ok();
    int64_t n = 0;
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return Bad(key, Range(lo, hi));
      n = static_cast<int64_t>(v->get<uint64_t>());
    } else if (v->is_number_integer()) {
      n = v->get<int64_t>();
    } else {
      return Bad(key, Range(lo, hi));
    }
    if (n < lo || n > hi) return Bad(key, Range(lo, hi));
    *out = static_cast<T>(n);
    return Status::Ok();
  }
  Status Double(const char* key, double* out) const {
    const auto* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->is_number()) return Bad(key, "a number");
    double d = v->get<double>();
    if (!(d >= -1e18 && d <= 1e18)) return Bad(key, "a number in [-1e18, 1e18]");
    *out = d;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const auto* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->is_boolean()) return Bad(key, "a boolean");
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status StrList(const char* key, size_t max_items, std::vector<std::string>* out) const {
    const auto* v = Find(key);
    if (!v) return Status::Ok();
    if (!v->is_array() || v->size() > max_items)
      return Bad(key, "a list of at most " + std::to_string(max_items) + " strings");
    for (const auto& e : *v) {
      if (!e.is_string() || e.get_ref<const std::string&>().size() > 256)
        return Bad(key, "a list of short strings");
      out->push_back(e.get<std::string>());
    }
    return Status::Ok();
  }
  const nlohmann::json* Find(const char* key) const {
    auto it = o_.find(key);
    return it == o_.end() || it->is_null() ? nullptr : &*it;
  }
  Status Bad(const std::string& key, const std::string& want) const {
    return InvalidArgument("field '" + prefix_ + key + "' must be " + want);
  }

 private:
  static std::string Range(int64_t lo, int64_t hi) {
    return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  }
  const nlohmann::json& o_;
  std::string prefix_;
};

constexpr int64_t kMaxBytes = int64_t{1} << 60;

Result<GpuInfo> GpuFromJson(const nlohmann::json& g, size_t i) {
  if (!g.is_object()) return InvalidArgument("field 'gpus[" + std::to_string(i) + "]' must be an object");
  Fields f(g, "gpus[" + std::to_string(i) + "].");
  GpuInfo gi;
  TAMGA_RETURN_IF_ERROR(f.Int("index", 0, 1024, &gi.index));
  TAMGA_RETURN_IF_ERROR(f.Str("uuid", 128, &gi.uuid));
  TAMGA_RETURN_IF_ERROR(f.Str("name", 256, &gi.name));
  TAMGA_RETURN_IF_ERROR(f.Str("pci_bus_id", 64, &gi.pci_bus_id));
  TAMGA_RETURN_IF_ERROR(f.Int("total_bytes", 0, kMaxBytes, &gi.total_bytes));
  TAMGA_RETURN_IF_ERROR(f.Int("used_bytes", 0, kMaxBytes, &gi.used_bytes));
  TAMGA_RETURN_IF_ERROR(f.Int("free_bytes", 0, kMaxBytes, &gi.free_bytes));
  TAMGA_RETURN_IF_ERROR(f.Int("utilization_gpu", -1, 100, &gi.utilization_gpu));
  TAMGA_RETURN_IF_ERROR(f.Int("utilization_memory", -1, 100, &gi.utilization_memory));
  TAMGA_RETURN_IF_ERROR(f.Int("temperature_c", -1, 1000, &gi.temperature_c));
  TAMGA_RETURN_IF_ERROR(f.Double("power_watts", &gi.power_watts));
  TAMGA_RETURN_IF_ERROR(f.Double("power_limit_watts", &gi.power_limit_watts));
  TAMGA_RETURN_IF_ERROR(f.Int("ecc_uncorrected_volatile", -1, INT64_MAX, &gi.ecc_uncorrected_volatile));
  TAMGA_RETURN_IF_ERROR(f.Bool("healthy", &gi.healthy));
  TAMGA_RETURN_IF_ERROR(f.Str("health_reason", 1000, &gi.health_reason));
  if (const auto* procs = f.Find("processes")) {
    if (!procs->is_array() || procs->size() > 4096)
      return f.Bad("processes", "a list of at most 4096 objects");
    for (const auto& p : *procs) {
      if (!p.is_object()) return f.Bad("processes", "a list of objects");
      Fields pf(p, "gpus[" + std::to_string(i) + "].processes[].");
      GpuProcess gp{0, -1};
      TAMGA_RETURN_IF_ERROR(pf.Int("pid", 0, 4194304, &gp.pid));
      TAMGA_RETURN_IF_ERROR(pf.Int("used_bytes", -1, kMaxBytes, &gp.used_bytes));
      gi.processes.push_back(gp);
    }
  }
  if (gi.uuid.empty()) return InvalidArgument("every GPU needs a uuid");
  return gi;
}

}  // namespace

Result<AgentReport> ParseAgentReport(const std::string& json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return InvalidArgument("agent report: " + parsed.status().message());
  const nlohmann::json& o = *parsed;
  if (!o.is_object()) return InvalidArgument("agent report must be a JSON object");
  Fields f(o, "");
  AgentReport r;
  TAMGA_RETURN_IF_ERROR(f.Str("name", 200, &r.name));
  TAMGA_RETURN_IF_ERROR(f.StrList("queues", 64, &r.queues));
  TAMGA_RETURN_IF_ERROR(f.Int("cpus", 0, 1 << 20, &r.cpus));
  TAMGA_RETURN_IF_ERROR(f.Int("memory_bytes", -1, kMaxBytes, &r.memory_bytes));
  TAMGA_RETURN_IF_ERROR(f.Bool("gpus_enabled", &r.gpus_enabled));
  TAMGA_RETURN_IF_ERROR(f.Str("gpu_error", 2000, &r.gpu_error));
  std::vector<std::string> allowed;
  TAMGA_RETURN_IF_ERROR(f.StrList("allowed_gpus", 64, &allowed));
  r.allowed_gpus.insert(allowed.begin(), allowed.end());
  if (const auto* gpus = f.Find("gpus")) {
    if (!gpus->is_array() || gpus->size() > 64)
      return InvalidArgument("field 'gpus' must be a list of at most 64");
    for (size_t i = 0; i < gpus->size(); ++i) {
      TAMGA_ASSIGN_OR_RETURN(GpuInfo gi, GpuFromJson((*gpus)[i], i));
      r.gpus.push_back(std::move(gi));
    }
  }
  if (const auto* pids = f.Find("job_pids")) {
    if (!pids->is_object() || pids->size() > 1024)
      return InvalidArgument("field 'job_pids' must be an object");
    for (const auto& [job, list] : pids->items()) {
      if (!list.is_array() || list.size() > 4096)
        return InvalidArgument("field 'job_pids' must map job ids to pid lists");
      std::vector<uint32_t> out;
      for (const auto& p : list) {
        if (!p.is_number_unsigned() || p.get<uint64_t>() > 4194304) {
          return InvalidArgument("field 'job_pids' must map job ids to lists of process ids");
        }
        out.push_back(static_cast<uint32_t>(p.get<uint64_t>()));
      }
      r.job_pids[job] = std::move(out);
    }
  }
  return r;
}

}  // namespace tamga
