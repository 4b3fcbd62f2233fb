// Job <-> JSON (the API's and the agent's view) and Job <-> JobRecord (storage).
#include <nlohmann/json.hpp>

#include "jobs/job_service.h"
#include "jobs/job_internal.h"

namespace tamga {

std::string JobJson(const Job& j) {
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
  o["spec"] = nlohmann::ordered_json::parse(JobSpecJson(j.spec));
  return o.dump();
}

Result<Job> JobFromJson(const std::string& json) {
  auto o = nlohmann::json::parse(json, nullptr, false);
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
  TAMGA_ASSIGN_OR_RETURN(j.spec, ParseJobSpec(spec.dump()));
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
