#pragma once
// A job's datasets (docs/data.md, "Lineage"): before the job starts, each `data` entry of its spec is
// resolved to an exact version, checked out into the job's folder from the agent's own object cache (hard
// links: read-only files shared between the jobs of this agent; what the cache lacks is downloaded as the
// job's submitter), and recorded as an input of the job's run (MLflow log_inputs with source
// tamga-data://NAME@vN and the manifest digest), which is what makes lineage and `tamga reproduce` exact.
#include <map>
#include <string>

#include "agent/agent_client.h"
#include "core/result.h"
#include "jobs/job_types.h"

namespace tamga {

struct JobDataOptions {
  std::string server;         // the Tamga server's URL
  std::string authorization;  // "Bearer ..." of the job's submitter (or the agent's), "" with auth off
  std::string cache_dir;      // the agent's object cache
};

// Returns environment variables for the job: TAMGA_DATA_<NAME> (the absolute path) and
// TAMGA_DATA_<NAME>_VERSION (NAME@vN). Unavailable when the server cannot be reached (the job is requeued);
// NotFound/InvalidArgument/PermissionDenied name the entry.
Result<std::map<std::string, std::string>> PrepareJobData(const JobDataOptions& o, const Job& job,
                                                          const std::string& dir,
                                                          const AgentClient& run_client);

}  // namespace tamga
