#pragma once
// What the `tamga data` command files share (data_commands.cc, data_query_commands.cc,
// data_dvc_commands.cc): the options every data command takes, the session they open (local cache, hash
// cache, server), and error printing.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_http.h"
#include "data/client/data_workflow.h"

namespace tamga {

struct DataOptions {
  Common c;
  std::string cache_dir;
  std::string link;
  int jobs = 4;
  int threads = 0;
  int retries = 4;
};
// --cache-dir, --link, --jobs, --threads; with `server` the server options and --retries, else --json.
void AddDataOptions(CLI::App* cmd, DataOptions* o, bool server);

struct DataSession {
  std::unique_ptr<LocalCache> cache;
  std::unique_ptr<HashCache> hashes;
  std::unique_ptr<DataRemote> remote;
  DataContext ctx;
};
// Prints the problem and returns null on failure.
std::unique_ptr<DataSession> OpenDataSession(const DataOptions& o, bool with_remote);
// Prints "error: ..." and returns the exit code (2 for connection problems, else 1).
int DataFail(const Status& s);
// The pointer files the arguments name (a pointer or its data path), or every one under the current folder.
Result<std::vector<std::string>> PointerFiles(const std::vector<std::string>& args);

using DataAction = std::shared_ptr<std::function<int()>>;
// ls, log, tag, diff (data_query_commands.cc); import-dvc, export-dvc (data_dvc_commands.cc).
void AddDataQueryCommands(CLI::App* data, DataAction action);
void AddDvcCommands(CLI::App* data, DataAction action);

}  // namespace tamga
