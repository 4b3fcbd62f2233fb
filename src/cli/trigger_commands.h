#pragma once
// `tamga triggers create|ls|show|fire|rm` (docs/data.md, "Retraining triggers").
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct TriggerCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

TriggerCommands AddTriggerCommands(CLI::App& app);
// The command's exit code, or -1 when no trigger command ran.
int RunTriggerCommands(const TriggerCommands& commands);

}  // namespace tamga
