#pragma once
// `tamga tiers ls|set|rm` and `tamga quotas ls|set|rm`: resource tiers and team quotas on job queues
// (docs/jobs.md, "Tiers and quotas"). Setting and removing are for admins; anyone signed in lists.
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
