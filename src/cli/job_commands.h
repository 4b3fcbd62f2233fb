#pragma once
// `tamga agent`, `tamga jobs ...`, `tamga queues ...` and `tamga gpu`.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct JobCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

JobCommands AddJobCommands(CLI::App& app);
int RunJobCommands(const JobCommands& commands);

}  // namespace tamga
