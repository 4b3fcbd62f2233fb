#pragma once
// `tamga models|webhooks|deploy ...`: user commands that talk to a running server over its HTTP API
// (--tracking-uri, env TAMGA_TRACKING_URI or MLFLOW_TRACKING_URI, default http://127.0.0.1:5000).
// Every command prints human-readable lines, or the server's JSON with --json.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct ClientCommands {
  // The action of the subcommand that was parsed (empty when none of these ran).
  std::shared_ptr<std::function<int()>> action;
};

ClientCommands AddClientCommands(CLI::App& app);
// Runs the parsed command; returns the process exit code (0 ok, 1 server error, 2 usage/connection).
int RunClientCommands(const ClientCommands& commands);

}  // namespace tamga
