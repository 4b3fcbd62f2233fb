#pragma once
// `tamga tokens create|ls|revoke`: personal access tokens (and, for admins, agent tokens) of a server with
// --auth on (docs/security.md). The command signs in like every client command: --token, TAMGA_TOKEN, or
// MLflow's credential variables.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct TokenCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

TokenCommands AddTokenCommands(CLI::App& app);
// The command's exit code, or -1 when no token command ran.
int RunTokenCommands(const TokenCommands& commands);

}  // namespace tamga
