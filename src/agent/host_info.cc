#include "agent/host_info.h"

#include <dirent.h>
#include <sys/wait.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tamga {

int64_t MemTotal() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") return kb * 1024;
    in.ignore(256, '\n');
  }
  return -1;
}

int64_t OomKills() {
  std::ifstream in("/sys/fs/cgroup/memory.events");
  std::string key;
  int64_t v;
  while (in >> key >> v) {
    if (key == "oom_kill") return v;
  }
  return -1;
}

std::vector<uint32_t> GroupPids(pid_t pgid) {
  std::vector<uint32_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    std::getline(in, stat);
    size_t rp = stat.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream rest(stat.substr(rp + 2));
    char state;
    long ppid, pgrp;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid)
      out.push_back(static_cast<uint32_t>(std::stoul(e->d_name)));
  }
  closedir(d);
  return out;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

}  // namespace tamga
