#pragma once
// Jobs as data: a spec (what to run and what it needs), its lifecycle state with a reason, and agents.
// States: queued -> leased -> running -> succeeded | failed | aborted | lost. "lost" is an infrastructure
// failure (the agent vanished or could not start the job); the retry policy requeues it. A user failure
// (non-zero exit, signal, OOM, timeout) is final.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

enum class JobState { kQueued, kLeased, kRunning, kSucceeded, kFailed, kAborted, kLost };
const char* JobStateName(JobState s);
std::optional<JobState> ParseJobState(const std::string& s);
bool IsTerminal(JobState s);

struct ResourceRequest {
  int cpus = 1;
  int64_t memory_bytes = 0;  // 0 = no memory requirement
  int gpus = 0;
  int64_t gpu_memory_bytes = 0;  // per GPU; 0 with gpus > 0 = whole GPUs
};

// Code a submitter shipped with the job (src/cli/job_code.cc makes it, src/agent/job_code.cc applies it).
// Each blob is content-addressed in the artifact store at tamga-code/<sha256> and verified by the agent.
struct JobCode {
  std::string patch_sha256;         // with git_repo + git_commit: `git apply` this (uncommitted + untracked)
  std::string archive_sha256;       // no git: a tar.gz of the submitter's directory, extracted as the tree
  std::string subdir;               // where in the tree the command runs ("" = its root)
  std::string requirements_sha256;  // pip requirements installed into a venv cached by this hash
  bool empty() const {
    return patch_sha256.empty() && archive_sha256.empty() && subdir.empty() && requirements_sha256.empty();
  }
};
inline constexpr const char* kJobCodePrefix = "tamga-code/";

// A dataset version the agent checks out into the job's folder before it starts (docs/data.md, "Lineage").
struct JobData {
  std::string ref;   // NAME[@VERSION|@TAG]
  std::string path;  // relative to the job's folder; default data/NAME
};

struct JobSpec {
  std::string queue;
  int priority = 0;                  // higher first; FIFO within a priority
  std::vector<std::string> command;  // argv; command[0] looked up on PATH
  std::map<std::string, std::string> env;
  std::string working_dir;  // on the agent; "" = a fresh scratch directory
  std::string git_repo;     // optional: cloned into the scratch directory
  std::string git_commit;   // with git_repo
  JobCode code;
  ResourceRequest resources;
  int64_t timeout_s = 0;  // 0 = none
  int max_retries = 2;    // requeues after infrastructure failures (lost)
  std::map<std::string, std::string> tags;
  std::string experiment_id;  // "" = the default experiment
  std::string run_name;
  // A named resource tier ("gpu1"): at submission its resources replace `resources` (giving both is refused).
  std::string tier;
  // The team the job is charged to (quotas). With auth on the server sets it: one of the submitter's teams.
  std::string team;
  std::vector<JobData> data;     // at most 32
  bool resources_given = false;  // parsed: the spec named `resources` itself (not stored)
};

// Parses and validates a spec (JSON); InvalidArgument naming the field. Sizes accept numbers (bytes) or
// strings like "8GiB", "512MiB", "2G".
Result<JobSpec> ParseJobSpec(const std::string& json);
// {"jobs": [spec, ...]} with at most kMaxJobBatch specs; an error names the spec ("jobs[3]: field ...").
inline constexpr size_t kMaxJobBatch = 1000;
Result<std::vector<JobSpec>> ParseJobSpecBatch(const std::string& json);
std::string JobSpecJson(const JobSpec& spec);
Result<int64_t> ParseByteSize(const std::string& text);

struct Job {
  std::string id;
  int64_t seq = 0;  // enqueue order
  JobSpec spec;
  JobState state = JobState::kQueued;
  std::string
      reason;  // "exit code 3", "signal 9 (Killed)", "oom", "timeout", "aborted by user", "agent lost"
  std::optional<int> exit_code;
  std::string run_id;
  std::string agent_id;
  std::vector<std::string> gpu_uuids;
  int attempts = 0;  // times leased
  bool abort_requested = false;
  int64_t lease_expires_ms = 0;
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string waiting_for;  // while queued: why no agent took it yet (not stored)
};

// An admin-defined resource tier: data scientists pick "gpu1" rather than quantities (docs/jobs.md, "Tiers").
struct ResourceTier {
  std::string name;
  ResourceRequest resources;
  std::string description;
};
// {"name", "cpus", "memory", "gpus", "gpu_memory", "description"}; InvalidArgument naming the field.
Result<ResourceTier> ParseResourceTier(const std::string& json);
std::string ResourceTierJson(const ResourceTier& t);

// A team's quota on one queue (docs/jobs.md, "Quotas"); -1 = no limit on that dimension. The scheduler does
// not lease a job of the team past max_running or max_gpus (its waiting_for names the quota), and a
// submission past max_queued is refused.
struct TeamQuota {
  std::string queue;
  std::string team;
  int max_gpus = -1;     // GPUs held by the team's leased and running jobs on the queue
  int max_running = -1;  // leased + running jobs
  int max_queued = -1;   // jobs waiting
  // Stated in tiers ({"tier": "gpu2", "count": 3}): the limits above were computed from them when set.
  std::string tier;
  int tier_count = 0;
};
// {"queue", "team", "max_gpus"?, "max_running"?, "max_queued"?, "tier"?, "count"?}; a tier is resolved with
// `tiers` (max_running = count, max_gpus = count x the tier's GPUs, unless given); null `tiers` reads the
// stored form (limits already resolved). InvalidArgument.
Result<TeamQuota> ParseTeamQuota(const std::string& json, const std::map<std::string, ResourceTier>* tiers);
std::string TeamQuotaJson(const TeamQuota& q);

// What a team holds on a queue now.
struct TeamUsage {
  int queued = 0;
  int running = 0;
  int gpus = 0;
};

struct QueueInfo {
  std::string name;
  int max_concurrency = 0;          // 0 = unlimited
  std::string strategy = "spread";  // GPU placement: spread | pack
  int64_t created_ms = 0;
};

struct LogChunk {
  int64_t seq = 0;
  std::string stream;  // "stdout" | "stderr" | "agent"
  std::string data;
};

}  // namespace tamga
