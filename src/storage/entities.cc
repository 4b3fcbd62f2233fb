#include "storage/entities.h"

namespace tamga {

const char* LifecycleStageName(LifecycleStage s) {
  return s == LifecycleStage::kActive ? "active" : "deleted";
}

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

bool ParseRunStatus(const std::string& s, RunStatus* out) {
  static const std::pair<const char*, RunStatus> kNames[] = {{"RUNNING", RunStatus::kRunning},
                                                             {"SCHEDULED", RunStatus::kScheduled},
                                                             {"FINISHED", RunStatus::kFinished},
                                                             {"FAILED", RunStatus::kFailed},
                                                             {"KILLED", RunStatus::kKilled}};
  for (const auto& [name, st] : kNames) {
    if (s == name || s == std::to_string(static_cast<int>(st))) {
      *out = st;
      return true;
    }
  }
  return false;
}

}  // namespace tamga
