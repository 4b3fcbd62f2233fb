#pragma once
// `tamga admin migrate`: moves an installation between store URIs and artifact destinations
// (src/admin/store_migrate.h, docs/operations.md). Runs locally against the stores, not through a server.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct AdminCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

AdminCommands AddAdminCommands(CLI::App& app);
// The command's exit code, or -1 when no admin command ran.
int RunAdminCommands(const AdminCommands& commands);

}  // namespace tamga
