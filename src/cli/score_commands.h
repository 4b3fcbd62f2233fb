#pragma once
// `tamga score MODEL --input CSV|DIR --output CSV` (docs/rollouts.md §5): retro / batch scoring with the
// exact registered version and the runtime that serves it, on this machine.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct ScoreCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

ScoreCommands AddScoreCommands(CLI::App& app);
// The command's exit code (0 scored, 1 the model or table was refused, 2 usage), or -1 when it did not run.
int RunScoreCommands(const ScoreCommands& commands);

}  // namespace tamga
