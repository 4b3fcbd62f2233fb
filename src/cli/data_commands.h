#pragma once
// `tamga data add|push|pull|checkout|status|ls|log|tag|diff` (docs/data.md): datasets versioned like code —
// pointer files to commit to git, contents in the local cache and on the server's blob store.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct DataCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

DataCommands AddDataCommands(CLI::App& app);
// The command's exit code, or -1 when no data command ran.
int RunDataCommands(const DataCommands& commands);

}  // namespace tamga
