#pragma once
// The job's code and Python environment on the agent, as the submitter shipped them (jobs/job_types.h
// JobCode; the CLI side is src/cli/job_code.cc).
//
// PrepareJobTree makes the tree the command runs in, inside the job's scratch directory:
//   git_repo (+ git_commit, + code.patch_sha256): a bare mirror per repository under
//     <work-dir>/git-cache/ (cloned once, fetched when the commit is missing), a shared clone of it checked
//     out at the commit, and the submitter's uncommitted and untracked changes applied with `git apply`;
//   code.archive_sha256: the submitter's directory, downloaded and extracted;
// then code.subdir inside it. Blobs come from the server's artifact store (tamga-code/<sha256>) and are
// verified against their hash before use. Errors say what failed; a failure fails the job (not the agent).
//
// PrepareRequirementsVenv installs code.requirements_sha256's pip requirements into a virtual environment
// cached under <work-dir>/venvs/<sha256> (made once per hash, atomically published; pip reads the agent's
// PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX and proxy variables).
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/agent_client.h"
#include "core/result.h"
#include "jobs/job_types.h"

namespace tamga {

inline constexpr size_t kMaxCodeBlobBytes = size_t{512} << 20;
inline constexpr int64_t kMaxTreeBytes = int64_t{8} << 30;  // an archive's unpacked size (sparse files count)
inline constexpr int64_t kMaxTreeEntries = 1000000;

// Every step (git, tar, pip) ends by this deadline and stops at once when `cancelled` says so (an abort).
struct PrepContext {
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(30);
  std::function<bool()> cancelled;
  std::vector<std::string> secrets;  // masked in every error message (the git remote's credentials)
};

// Downloads tamga-code/<sha256> and checks its hash.
Result<std::string> FetchCodeBlob(const AgentClient& client, const std::string& sha256, size_t max_bytes);

// Returns the directory the command runs in. Git runs with GIT_ALLOW_PROTOCOL=http:https:ssh:git:file (no
// ext::, fd::), no terminal prompt, and gives up on a transfer slower than 1 KB/s for a minute. An archive is
// listed first: only regular files, folders and symlinks, at most kMaxTreeBytes and kMaxTreeEntries.
Result<std::string> PrepareJobTree(const AgentClient& client, const std::string& work_dir,
                                   const JobSpec& spec, const std::string& job_dir,
                                   const PrepContext& prep = {});

// Returns the venv's root. The requirements are checked as the renderer's are (core/pip_requirements.h: no
// options such as -r or --index-url) before pip sees them.
Result<std::string> PrepareRequirementsVenv(const AgentClient& client, const std::string& work_dir,
                                            const std::string& requirements_sha256, const std::string& python,
                                            const PrepContext& prep = {});

}  // namespace tamga
