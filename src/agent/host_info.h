#pragma once
// What the agent reads from its host (Linux /proc and cgroup v2) about memory and the jobs' processes.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tamga {

// MemTotal from /proc/meminfo in bytes, -1 when unreadable.
int64_t MemTotal();
// The kernel's count of OOM kills in this agent's cgroup (v2), -1 when unavailable.
int64_t OomKills();
// Every process whose process group is `pgid` (the job and what it started).
std::vector<uint32_t> GroupPids(pid_t pgid);
// "exit code 3", "killed by signal 9 (Killed)" for a waitpid status.
std::string DescribeWaitStatus(int status);

}  // namespace tamga
