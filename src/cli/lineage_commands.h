#pragma once
// `tamga lineage URI` and `tamga reproduce URI` (docs/data.md, "Lineage").
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace tamga {

struct LineageCommands {
  std::shared_ptr<std::function<int()>> action;  // the parsed command's action, empty when none ran
};

LineageCommands AddLineageCommands(CLI::App& app);
// The command's exit code, or -1 when no lineage command ran.
int RunLineageCommands(const LineageCommands& commands);

}  // namespace tamga
