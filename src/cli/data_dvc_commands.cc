// `tamga data import-dvc` and `tamga data export-dvc` (docs/data.md, "DVC").
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/data_session.h"
#include "data/client/dvc_interop.h"
#include "data/client/progress.h"
#include "data/dataset_ref.h"

namespace tamga {
namespace {

using json = nlohmann::json;

struct DvcArgs {
  DataOptions o;
  std::string project = ".";
  std::vector<std::string> caches, remotes, tags;
  std::string name, target, to, dvc_file, path;
  bool push = false;
};

int RunImport(const DvcArgs& a) {
  auto s = OpenDataSession(a.o, a.push);
  if (!s) return 2;
  DvcImportOptions io;
  io.name = a.name;
  io.object_roots = a.caches;
  if (io.object_roots.empty()) io.object_roots.push_back(a.project + "/.dvc/cache");
  for (const auto& r : a.remotes) io.object_roots.push_back(r);
  if (a.remotes.empty())
    for (const auto& r : DvcLocalRemotes(a.project)) io.object_roots.push_back(r);
  auto imported = ImportDvcProject(s->ctx, a.project, io);
  if (!imported.ok()) return DataFail(imported.status());
  json out = json::array();
  for (const auto& i : *imported) {
    const DataPointer& p = i.added.pointer;
    json row = {{"dvc_file", i.dvc_file}, {"pointer", i.added.pointer_path},
                {"dataset", p.dataset},   {"files", p.files},
                {"size", p.size},         {"manifest", p.manifest}};
    if (a.push) {
      auto pushed =
          PushPointer(s->ctx, i.added.pointer_path, PushOptions{a.tags, "imported from " + i.dvc_file});
      if (!pushed.ok()) return DataFail(pushed.status());
      row["version"] = pushed->pointer.version;
      row["uploaded_objects"] = pushed->uploaded_objects;
    }
    if (!a.o.c.as_json) {
      std::cout << "imported " << i.dvc_file << " -> " << i.added.pointer_path << ": " << p.files
                << " files, " << HumanBytes(static_cast<double>(p.size));
      if (a.push) std::cout << "; pushed " << FormatDatasetRef(p.dataset, row["version"].get<int64_t>());
      std::cout << "\n";
    }
    out.push_back(row);
  }
  if (a.o.c.as_json)
    std::cout << out.dump(2) << "\n";
  else if (!a.push)
    std::cout << "Next: `tamga data push` (the .dvc files can stay; `tamga data` reads only .tamga files).\n";
  return 0;
}

int RunExport(const DvcArgs& a) {
  auto ref = ParseDatasetRef(a.target);
  if (!ref.ok()) return DataFail(ref.status());
  auto s = OpenDataSession(a.o, true);
  if (!s) return 2;
  std::string q = "/api/2.0/tamga/datasets/versions/get?name=" + Escape(ref->name) +
                  (ref->ref.empty() ? "" : "&version=" + Escape(ref->ref));
  auto v = s->remote->Call("GET", q, nullptr);
  if (!v.ok()) return DataFail(v.status());
  const json& ver = (*v)["version"];
  auto fetched = FetchVersion(s->ctx, ref->name, ver.value("manifest", ""), true);
  if (!fetched.ok()) return DataFail(fetched.status());
  std::string out_path = a.path.empty() ? ref->name : a.path;
  auto exported = ExportDvcRemote(s->ctx, fetched->manifest, a.to, out_path);
  if (!exported.ok()) return DataFail(exported.status());
  std::string dvc_file = a.dvc_file.empty() ? out_path + ".dvc" : a.dvc_file;
  {
    std::ofstream f(dvc_file, std::ios::trunc);
    f << exported->dvc_file_text;
    if (!f) return DataFail(Internal("write " + dvc_file));
  }
  if (a.o.c.as_json) {
    std::cout << json{{"dvc_file", dvc_file},
                      {"remote", a.to},
                      {"written", exported->written},
                      {"files", fetched->manifest.files.size()},
                      {"version", ver.value("version", int64_t{0})}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << "exported " << FormatDatasetRef(ref->name, ver.value("version", int64_t{0}))
            << " to the DVC remote " << a.to << " (" << exported->written << " objects written) and "
            << dvc_file << "\nWith DVC: `dvc remote add -d tamga " << a.to << "` then `dvc pull " << dvc_file
            << "`.\n";
  return 0;
}

}  // namespace

void AddDvcCommands(CLI::App* data, DataAction action) {
  auto imp = std::make_shared<DvcArgs>();
  auto* import =
      data->add_subcommand("import-dvc",
                           "Bring a DVC project's data over: its .dvc files become .tamga pointers, its "
                           "objects come from DVC's cache or a local remote (verified by md5).");
  AddDataOptions(import, &imp->o, true);
  import->add_option("project", imp->project, "The DVC project's folder")->capture_default_str();
  import->add_option("--cache", imp->caches, "A DVC cache folder (default PROJECT/.dvc/cache; repeat)");
  import->add_option("--remote", imp->remotes,
                     "A local DVC remote folder (default: those in .dvc/config; repeat)");
  import->add_option("--name", imp->name, "Dataset name when the project has one .dvc file");
  import->add_flag("--push", imp->push, "Push each imported dataset too");
  import->add_option("--tag", imp->tags, "With --push: tag the versions (repeat)");
  import->callback([action, imp] { *action = [imp] { return RunImport(*imp);
};
}  // namespace tamga
);

auto exp = std::make_shared<DvcArgs>();
auto* export_cmd = data->add_subcommand("export-dvc",
                                        "Write a dataset version as a DVC remote folder and a .dvc file, for "
                                        "`dvc pull`.");
AddDataOptions(export_cmd, &exp->o, true);
export_cmd->add_option("target", exp->target, "NAME[@VERSION|@TAG]")->required();
export_cmd->add_option("--to", exp->to, "The DVC remote folder to write (created when missing)")->required();
export_cmd->add_option("--dvc-file", exp->dvc_file, "The .dvc file to write (default: PATH.dvc here)");
export_cmd->add_option("--path", exp->path,
                       "The folder name the .dvc file checks out to (default: the name)");
export_cmd->callback([action, exp] { *action = [exp] { return RunExport(*exp); }; });
}

}  // namespace tamga
