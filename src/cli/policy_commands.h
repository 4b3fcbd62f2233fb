#pragma once
// `tamga queues ls|create`, `tamga tiers ls|set|rm` and `tamga quotas ls|set|rm`: job queues (with each
// team's usage against its quota), resource tiers and team quotas (docs/jobs.md, "Tiers and quotas").
// Creating and setting are for admins; anyone signed in lists.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct PolicyCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

PolicyCommands AddPolicyCommands(CLI::App& app);
// The command's exit code, or -1 when no tier or quota command ran.
int RunPolicyCommands(const PolicyCommands& commands);

}  // namespace tamga
