#pragma once
// `tamga agent`, `tamga jobs ...`, `tamga queues ...` and `tamga gpu`.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct JobCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

// `tamga jobs submit ... -- COMMAND ARGS...`: everything after the first "--" is the job's argv, taken out
// before CLI11 parses (so the job's own flags are never read as Tamga's). Returns the new argc.
int TakeJobCommand(int argc, char** argv);

JobCommands AddJobCommands(CLI::App& app);
int RunJobCommands(const JobCommands& commands);

}  // namespace tamga
