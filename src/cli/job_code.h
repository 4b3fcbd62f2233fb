#pragma once
// `tamga jobs submit` ships the job's code, as ClearML's agent does (docs/jobs.md, "Shipping code"):
//   --code auto (default): inside a git checkout, git; elsewhere, dir.
//   --code git: the checkout's remote and the newest commit of HEAD that the remote has (unpushed commits
//     ride in the patch), plus one binary patch of everything not on the remote (commits, staged and
//     unstaged changes, untracked files that .gitignore does not ignore, each at most --max-untracked-mb),
//     and the subdirectory the command was started in.
//   --code dir: the current directory as a tar.gz (.git, venvs, caches and .tamgaignore patterns left out).
//   --code none: nothing (the agent's --workdir or --git-repo decides).
// --env requirements records the packages of the interpreter the command would run here (python_env.h) and
// the agent installs them into a venv cached by their hash.
// Blobs go to the server's artifact store at tamga-code/<sha256> (skipped when already there) and are
// verified by the agent. Sizes past --max-code-mb are refused with the reason.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli/cli_http.h"
#include "core/result.h"

namespace tamga {

struct CodeOptions {
  std::string mode = "auto";  // auto | git | dir | none
  int64_t max_bytes = int64_t{50} << 20;
  int64_t max_untracked_file_bytes = int64_t{1} << 20;
  bool requirements = false;  // --env requirements
};

// Adds git_repo, git_commit and `code` to the spec; prints what it ships on stderr.
Status ShipJobCode(const Common& c, const CodeOptions& options, const std::vector<std::string>& command,
                   nlohmann::json* spec);

}  // namespace tamga
