#pragma once
// `tamga models validate` (a reference-score test of a registered version, docs/rollouts.md §4) and
// `tamga rollout status|promote|pause|resume|abort <deployment>` (progressive rollouts, §3).
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct RolloutCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

// Adds `validate` under the `models` command AddClientCommands created, and the `rollout` command.
RolloutCommands AddRolloutCommands(CLI::App& app);
// The command's exit code (0 passed, 1 failed or refused, 2 usage or connection), or -1 when it did not run.
int RunRolloutCommands(const RolloutCommands& commands);

}  // namespace tamga
