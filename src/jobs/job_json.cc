// Job <-> JSON (the API's and the agent's view) and Job <-> JobRecord (storage).
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/secrets.h"
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
      if (LooksSecret(k)) v = kRedacted;
    }
  }
  return DumpJson(o);
}

Result<Job> JobFromJson(const std::string& json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return InvalidArgument("malformed job JSON");
  nlohmann::json& o = *parsed;
  if (!o.is_object() || !o.contains("spec") || !o.contains("id")) return InvalidArgument("malformed job JSON");
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
  TAMGA_ASSIGN_OR_RETURN(j.spec, ParseJobSpec(r.spec_json));
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

Result<AgentReport> ParseAgentReport(const std::string& json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return InvalidArgument("agent report: " + parsed.status().message());
  const nlohmann::json& o = *parsed;
  if (!o.is_object()) return InvalidArgument("agent report must be a JSON object");
  AgentReport r;
  try {
    r.name = o.value("name", "");
    if (r.name.size() > 200) return InvalidArgument("field 'name' is longer than 200");
    r.queues = o.value("queues", std::vector<std::string>{});
    if (r.queues.size() > 64) return InvalidArgument("field 'queues' has more than 64 entries");
    r.cpus = o.value("cpus", 0);
    r.memory_bytes = o.value("memory_bytes", int64_t{-1});
    r.gpus_enabled = o.value("gpus_enabled", false);
    r.gpu_error = o.value("gpu_error", "");
    for (const auto& u : o.value("allowed_gpus", std::vector<std::string>{})) r.allowed_gpus.insert(u);
    if (o.contains("gpus")) {
      if (!o["gpus"].is_array() || o["gpus"].size() > 64) return InvalidArgument("field 'gpus' must be a list of at most 64");
      for (const auto& g : o["gpus"]) {
        GpuInfo gi;
        gi.index = g.value("index", 0);
        gi.uuid = g.value("uuid", "");
        gi.name = g.value("name", "");
        gi.pci_bus_id = g.value("pci_bus_id", "");
        gi.total_bytes = g.value("total_bytes", int64_t{0});
        gi.used_bytes = g.value("used_bytes", int64_t{0});
        gi.free_bytes = g.value("free_bytes", int64_t{0});
        gi.utilization_gpu = g.value("utilization_gpu", -1);
        gi.utilization_memory = g.value("utilization_memory", -1);
        gi.temperature_c = g.value("temperature_c", -1);
        gi.power_watts = g.value("power_watts", -1.0);
        gi.power_limit_watts = g.value("power_limit_watts", -1.0);
        gi.ecc_uncorrected_volatile = g.value("ecc_uncorrected_volatile", int64_t{-1});
        gi.healthy = g.value("healthy", true);
        gi.health_reason = g.value("health_reason", "");
        for (const auto& p : g.value("processes", nlohmann::json::array())) {
          gi.processes.push_back({p.value("pid", 0u), p.value("used_bytes", int64_t{-1})});
        }
        if (gi.uuid.empty()) return InvalidArgument("every GPU needs a uuid");
        r.gpus.push_back(std::move(gi));
      }
    }
    if (o.contains("job_pids")) {
      if (!o["job_pids"].is_object()) return InvalidArgument("field 'job_pids' must be an object");
      for (const auto& [job, p] : o["job_pids"].items()) r.job_pids[job] = p.get<std::vector<uint32_t>>();
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed agent report: ") + e.what());
  }
  return r;
}

}  // namespace tamga
