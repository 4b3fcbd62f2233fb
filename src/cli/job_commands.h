#pragma once
// `tamga agent`, `tamga jobs ...`, `tamga queues ...` and `tamga gpu`.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tamga {

struct JobCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

// `tamga jobs submit ... -- COMMAND ARGS...`: everything after the first "--" is the job's argv, taken out
// before CLI11 parses (so the job's own flags are never read as Tamga's). Returns the new argc.
// (`tamga triggers create ... -- COMMAND` too.)
int TakeJobCommand(int argc, char** argv);
// The argv TakeJobCommand took.
std::vector<std::string>& TrailingCommand();

JobCommands AddJobCommands(CLI::App& app);
int RunJobCommands(const JobCommands& commands);

}  // namespace tamga
