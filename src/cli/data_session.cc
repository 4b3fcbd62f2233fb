#include "cli/data_session.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "net/http_client.h"

namespace tamga {

void AddDataOptions(CLI::App* cmd, DataOptions* o, bool server) {
  if (server)
    AddServerOptions(cmd, &o->c);
  else
    cmd->add_flag("--json", o->c.as_json, "Print the result as JSON");
  cmd->add_option("--cache-dir", o->cache_dir,
                  "Local object cache (env TAMGA_CACHE_DIR; default ~/.cache/tamga)");
  cmd->add_option("--link", o->link,
                  "How files are placed in workspaces: reflink (default), hardlink or copy "
                  "(env TAMGA_DATA_LINK)");
  cmd->add_option("--jobs", o->jobs, "Parallel transfers")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--threads", o->threads, "Hashing threads (0 = every core)")->check(CLI::Range(0, 256));
  if (server)
    cmd->add_option("--retries", o->retries,
                    "Attempts after a connection failure or a busy server (1 s, 2 s, 4 s ... apart)")
        ->capture_default_str()
        ->check(CLI::Range(0, 20));
}

std::unique_ptr<DataSession> OpenDataSession(const DataOptions& o, bool with_remote) {
  auto s = std::make_unique<DataSession>();
  auto cache = LocalCache::Open(o.cache_dir.empty() ? LocalCache::DefaultRoot() : o.cache_dir);
  if (!cache.ok()) {
    std::cerr << "error: " << cache.status().message() << "\n";
    return nullptr;
  }
  s->cache = std::move(*cache);
  auto hashes = HashCache::Open(s->cache->root() + "/hashes.v1");
  if (!hashes.ok()) {
    std::cerr << "error: " << hashes.status().message() << "\n";
    return nullptr;
  }
  s->hashes = std::move(*hashes);
  std::string link = o.link;
  if (link.empty()) {
    const char* env = std::getenv("TAMGA_DATA_LINK");
    link = env ? env : "";
  }
  auto mode = ParseLinkMode(link);
  if (!mode.ok()) {
    std::cerr << "error: " << mode.status().message() << "\n";
    return nullptr;
  }
  if (with_remote) {
    DataRemoteOptions ro;
    ro.base_url = o.c.uri;
    while (!ro.base_url.empty() && ro.base_url.back() == '/') ro.base_url.pop_back();
    Common c = o.c;
    ro.authorize = [c](HttpClientRequest* req) { AddAuth(c, req); };
    ro.jobs = o.jobs;
    ro.retries = o.retries;
    s->remote = std::make_unique<DataRemote>(ro);
  }
  s->ctx = {s->cache.get(), s->hashes.get(), s->remote.get(), *mode, o.threads};
  return s;
}

int DataFail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ? 2 : 1;
}

Result<std::vector<std::string>> PointerFiles(const std::vector<std::string>& args) {
  if (args.empty()) {
    TAMGA_ASSIGN_OR_RETURN(auto all, FindPointers("."));
    if (all.empty()) return NotFound("no .tamga pointer files here; run `tamga data add PATH` first");
    return all;
  }
  std::vector<std::string> out;
  for (const auto& a : args) {
    std::string p = a.size() > 6 && a.compare(a.size() - 6, 6, ".tamga") == 0 ? a : PointerPathFor(a);
    if (a.find('@') != std::string::npos && ::access(p.c_str(), F_OK) != 0)
      return InvalidArgument("'" + a +
                             "' names a dataset version, not a pointer file: give a folder with --out DIR");
    out.push_back(p);
  }
  return out;
}

}  // namespace tamga
