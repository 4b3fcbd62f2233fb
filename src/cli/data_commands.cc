#include "cli/data_commands.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/cli_http.h"
#include "cli/data_session.h"
#include "core/hmac.h"
#include "data/client/data_workflow.h"
#include "data/client/workspace.h"
#include "data/dataset_ref.h"
#include "net/http_client.h"

namespace tamga {
namespace {

using json = nlohmann::json;

json EntryJson(const ManifestEntry& e) { return {{"path", e.path}, {"size", e.size}, {"digest", e.digest}}; }

void PrintChanges(const ManifestDiff& d, size_t limit) {
  auto list = [&](const char* what, const std::vector<std::string>& paths) {
    for (size_t i = 0; i < paths.size() && i < limit; ++i) std::cout << "  " << what << paths[i] << "\n";
    if (paths.size() > limit) std::cout << "  ... " << paths.size() - limit << " more " << what << "\n";
  };
  std::vector<std::string> m, a, r;
  for (const auto& [from, to] : d.modified) m.push_back(to.path);
  for (const auto& e : d.added) a.push_back(e.path);
  for (const auto& e : d.removed) r.push_back(e.path);
  list("modified: ", m);
  list("added:    ", a);
  list("deleted:  ", r);
}

}  // namespace

int RunAdd(const DataOptions& o, const std::vector<std::string>& paths, const std::string& name) {
  auto s = OpenDataSession(o, false);
  if (!s) return 2;
  json out = json::array();
  for (const auto& path : paths) {
    auto r = AddPath(s->ctx, path, name);
    if (!r.ok()) return DataFail(r.status());
    const DataPointer& p = r->pointer;
    if (o.c.as_json) {
      out.push_back({{"pointer", r->pointer_path},
                     {"dataset", p.dataset},
                     {"manifest", p.manifest},
                     {"files", p.files},
                     {"size", p.size},
                     {"hashed_files", r->hashed_files},
                     {"hashed_bytes", r->hashed_bytes},
                     {"changed", r->changed},
                     {"seconds", r->seconds}});
      continue;
    }
    std::cout << (r->changed ? "added " : "unchanged ") << path << " -> " << r->pointer_path << ": "
              << p.files << " files, " << HumanBytes(static_cast<double>(p.size)) << " (hashed "
              << r->hashed_files << " files, " << HumanBytes(static_cast<double>(r->hashed_bytes)) << " in "
              << HumanDuration(r->seconds) << ")";
    if (r->skipped) std::cout << "; skipped " << r->skipped << " links or special files";
    std::cout << "\n";
  }
  if (o.c.as_json)
    std::cout << out.dump(2) << "\n";
  else
    std::cout << "Next: git add the .tamga file(s), then `tamga data push`.\n";
  return 0;
}

// Digests like sha256sum's output ("<sha256>  <path>"), per file of each path; the hash cache answers for
// unchanged files unless --no-cache.
int RunHash(const DataOptions& o, const std::vector<std::string>& paths, bool no_cache) {
  auto s = OpenDataSession(o, false);
  if (!s) return 2;
  json out = json::array();
  for (const auto& path : paths) {
    ScanOptions so;
    so.threads = o.threads;
    auto r = ScanPath(path, no_cache ? nullptr : s->hashes.get(), s->cache.get(), so);
    if (!r.ok()) return DataFail(r.status());
    std::string manifest = Sha256Hex(EncodeManifest(r->manifest));
    if (o.c.as_json) {
      json files = json::array();
      for (const auto& f : r->manifest.files) files.push_back(EntryJson(f));
      out.push_back({{"path", path},
                     {"manifest", manifest},
                     {"files", files},
                     {"hashed_files", r->hashed_files},
                     {"hashed_bytes", r->hashed_bytes}});
      continue;
    }
    std::string prefix = r->is_file ? "" : path + (path.back() == '/' ? "" : "/");
    for (const auto& f : r->manifest.files)
      std::cout << f.digest << "  " << (r->is_file ? path : prefix + f.path) << "\n";
  }
  if (o.c.as_json) std::cout << out.dump(2) << "\n";
  return 0;
}

int RunPush(const DataOptions& o, const std::vector<std::string>& args, const PushOptions& po) {
  auto pointers = PointerFiles(args);
  if (!pointers.ok()) return DataFail(pointers.status());
  auto s = OpenDataSession(o, true);
  if (!s) return 2;
  json out = json::array();
  for (const auto& ptr : *pointers) {
    auto r = PushPointer(s->ctx, ptr, po);
    if (!r.ok()) return DataFail(r.status());
    const DataPointer& p = r->pointer;
    if (o.c.as_json) {
      out.push_back({{"pointer", ptr},
                     {"dataset", p.dataset},
                     {"version", p.version},
                     {"created", r->created},
                     {"uploaded_objects", r->uploaded_objects},
                     {"uploaded_bytes", r->uploaded_bytes},
                     {"total_objects", r->total_objects},
                     {"seconds", r->seconds}});
      continue;
    }
    std::cout << "pushed " << FormatDatasetRef(p.dataset, p.version) << (r->created ? "" : " (unchanged)")
              << ": " << p.files << " files, " << HumanBytes(static_cast<double>(p.size)) << "; uploaded "
              << r->uploaded_objects << " objects (" << HumanBytes(static_cast<double>(r->uploaded_bytes))
              << ") in " << HumanDuration(r->seconds) << "\n";
  }
  if (o.c.as_json) std::cout << out.dump(2) << "\n";
  return 0;
}

int RunPull(const DataOptions& o, const std::vector<std::string>& args, const std::string& out_dir,
            bool force, bool download) {
  auto s = OpenDataSession(o, download);
  if (!s) return 2;
  json out = json::array();
  auto report = [&](const std::string& what, const std::string& where, const CheckoutResult& r) {
    if (o.c.as_json) {
      out.push_back({{"source", what},
                     {"path", where},
                     {"written", r.written},
                     {"unchanged", r.unchanged},
                     {"removed", r.removed},
                     {"downloaded_objects", r.downloaded_objects},
                     {"downloaded_bytes", r.downloaded_bytes},
                     {"seconds", r.seconds}});
      return;
    }
    std::cout << (download ? "pulled " : "checked out ") << what << " into " << where << ": " << r.written
              << " written, " << r.unchanged << " unchanged, " << r.removed << " removed";
    if (download)
      std::cout << "; downloaded " << r.downloaded_objects << " objects ("
                << HumanBytes(static_cast<double>(r.downloaded_bytes)) << ")";
    std::cout << " in " << HumanDuration(r.seconds) << "\n";
  };
  if (!out_dir.empty()) {  // NAME@REF ... into a folder, no pointer file
    for (const auto& a : args) {
      auto ref = ParseDatasetRef(a);
      if (!ref.ok()) return DataFail(ref.status());
      std::string q = "/api/2.0/tamga/datasets/versions/get?name=" + Escape(ref->name) +
                      (ref->ref.empty() ? "" : "&version=" + Escape(ref->ref));
      auto v = s->remote->Call("GET", q, nullptr);
      if (!v.ok()) return DataFail(v.status());
      const json& ver = (*v)["version"];
      std::string dest = args.size() == 1 ? out_dir : out_dir + "/" + ref->name;
      auto r = PullManifest(s->ctx, ref->name, ver.value("manifest", ""), dest, false, force, true);
      if (!r.ok()) return DataFail(r.status());
      report(FormatDatasetRef(ref->name, ver.value("version", int64_t{0})), dest, *r);
    }
  } else {
    auto pointers = PointerFiles(args);
    if (!pointers.ok()) return DataFail(pointers.status());
    for (const auto& ptr : *pointers) {
      auto p = ReadPointer(ptr);
      if (!p.ok()) return DataFail(p.status());
      auto r = PullPointer(s->ctx, ptr, force, download);
      if (!r.ok()) return DataFail(r.status());
      report(p->version ? FormatDatasetRef(p->dataset, p->version) : p->dataset, DataPathOf(ptr, *p), *r);
    }
  }
  if (o.c.as_json) std::cout << out.dump(2) << "\n";
  return 0;
}

int RunStatus(const DataOptions& o, const std::vector<std::string>& args) {
  auto pointers = PointerFiles(args);
  if (!pointers.ok()) return DataFail(pointers.status());
  auto s = OpenDataSession(o, true);
  if (!s) return 2;
  json out = json::array();
  for (const auto& ptr : *pointers) {
    auto r = PointerStatus(s->ctx, ptr);
    if (!r.ok()) return DataFail(r.status());
    const DataPointer& p = r->pointer;
    const ManifestDiff& d = r->diff;
    if (o.c.as_json) {
      json mod = json::array(), add = json::array(), del = json::array();
      for (const auto& [a, b] : d.modified) mod.push_back(b.path);
      for (const auto& e : d.added) add.push_back(e.path);
      for (const auto& e : d.removed) del.push_back(e.path);
      out.push_back({{"pointer", ptr},
                     {"dataset", p.dataset},
                     {"version", p.version},
                     {"pushed", p.version > 0},
                     {"clean", d.empty()},
                     {"missing", r->missing_path},
                     {"modified", mod},
                     {"added", add},
                     {"deleted", del}});
      continue;
    }
    std::cout << ptr << " ("
              << (p.version ? FormatDatasetRef(p.dataset, p.version) : p.dataset + ", not pushed") << "): ";
    if (r->missing_path) {
      std::cout << "data missing (run `tamga data pull` or `tamga data checkout`)\n";
    } else if (d.empty()) {
      std::cout << "clean\n";
    } else {
      std::cout << d.modified.size() << " modified, " << d.added.size() << " added, " << d.removed.size()
                << " deleted (run `tamga data add` to record them)\n";
      PrintChanges(d, 20);
    }
  }
  if (o.c.as_json) std::cout << out.dump(2) << "\n";
  return 0;
}

DataCommands AddDataCommands(CLI::App& app) {
  DataCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;
  auto* data = app.add_subcommand("data",
                                  "Version datasets: add, push, pull, checkout, status, ls, log, tag, diff, "
                                  "hash, import-dvc, export-dvc.");
  data->require_subcommand(1);

  struct Args {
    DataOptions o;
    std::vector<std::string> paths;
    std::string name, out, prefix, tag, a, b;
    std::vector<std::string> tags;
    std::string message;
    bool force = false, remove = false;
  };

  auto add_args = std::make_shared<Args>();
  auto* add =
      data->add_subcommand("add", "Hash files into the local cache and write PATH.tamga pointer files.");
  AddDataOptions(add, &add_args->o, false);
  add->add_option("paths", add_args->paths, "Files or folders")->required();
  add->add_option("--name", add_args->name,
                  "Dataset name (default: the pointer's, else the path's base name)");
  add->callback([action, add_args] {
    *action = [add_args] { return RunAdd(add_args->o, add_args->paths, add_args->name); };
  });

  auto hash_args = std::make_shared<Args>();
  auto* hash =
      data->add_subcommand("hash", "Print SHA-256 digests of files (as sha256sum does), in parallel.");
  AddDataOptions(hash, &hash_args->o, false);
  hash->add_option("paths", hash_args->paths, "Files or folders")->required();
  hash->add_flag("--no-cache", hash_args->force, "Read every file (ignore and do not update the hash cache)");
  hash->callback([action, hash_args] {
    *action = [hash_args] { return RunHash(hash_args->o, hash_args->paths, hash_args->force); };
  });

  auto push_args = std::make_shared<Args>();
  auto* push = data->add_subcommand("push", "Upload what the server lacks and record a version.");
  AddDataOptions(push, &push_args->o, true);
  push->add_option("pointers", push_args->paths,
                   "Pointer files or data paths (default: every .tamga file here)");
  push->add_option("--tag", push_args->tags, "Also tag the version (repeat)");
  push->add_option("--message,-m", push_args->message, "What changed");
  push->callback([action, push_args] {
    *action = [push_args] {
      PushOptions po{push_args->tags, push_args->message};
      return RunPush(push_args->o, push_args->paths, po);
    };
  });

  auto pull_args = std::make_shared<Args>();
  auto* pull = data->add_subcommand(
      "pull", "Download a version and check it out (pointer files, or NAME@REF --out DIR).");
  AddDataOptions(pull, &pull_args->o, true);
  pull->add_option("targets", pull_args->paths,
                   "Pointer files or data paths; with --out, NAME[@VERSION|@TAG]");
  pull->add_option("--out", pull_args->out, "Folder to check NAME@REF out into");
  pull->add_flag("--force", pull_args->force, "Overwrite or delete local changes");
  pull->callback([action, pull_args] {
    *action = [pull_args] {
      return RunPull(pull_args->o, pull_args->paths, pull_args->out, pull_args->force, true);
    };
  });

  auto co_args = std::make_shared<Args>();
  auto* co =
      data->add_subcommand("checkout", "Make the workspace match its pointer files, from the local cache.");
  AddDataOptions(co, &co_args->o, false);
  co->add_option("pointers", co_args->paths, "Pointer files or data paths (default: every .tamga file here)");
  co->add_flag("--force", co_args->force, "Overwrite or delete local changes");
  co->callback([action, co_args] {
    *action = [co_args] { return RunPull(co_args->o, co_args->paths, "", co_args->force, false); };
  });

  auto st_args = std::make_shared<Args>();
  auto* st = data->add_subcommand(
      "status", "What changed in the workspace since `add` (fast: unchanged files are not read).");
  AddDataOptions(st, &st_args->o, true);
  st->add_option("pointers", st_args->paths, "Pointer files or data paths (default: every .tamga file here)");
  st->callback([action, st_args] { *action = [st_args] { return RunStatus(st_args->o, st_args->paths); }; });

  AddDataQueryCommands(data, action);
  AddDvcCommands(data, action);
  return cmds;
}

int RunDataCommands(const DataCommands& commands) {
  if (!*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
