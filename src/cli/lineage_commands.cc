#include "cli/lineage_commands.h"

#include <ctime>
#include <iostream>

#include "cli/cli_http.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

void PrintModel(const json& r) {
  if (r.contains("model_version")) {
    const json& mv = r["model_version"];
    std::cout << "model     " << Str(mv, "name") << " v" << Str(mv, "version");
    if (mv.contains("aliases") && !mv["aliases"].empty()) std::cout << "  aliases " << mv["aliases"].dump();
    std::cout << "\n";
  }
  if (!r.contains("run")) {
    std::cout << "run       (none recorded)\n";
    return;
  }
  const json& run = r["run"];
  if (run.value("hidden", false)) {
    std::cout << "run       " << Str(run, "run_id") << " (you may not read its experiment)\n";
    return;
  }
  const json& info = run["info"];
  std::cout << "run       " << Str(info, "run_id") << "  " << Str(info, "run_name") << "  experiment "
            << Str(info, "experiment_id") << "  " << Str(info, "status") << "\n";
  for (const auto& p : r.value("parent_runs", json::array()))
    std::cout << "  parent  " << Str(p, "run_id") << "  " << Str(p, "run_name") << "\n";
  if (run.contains("data") && run["data"].contains("params"))
    for (const auto& p : run["data"]["params"])
      std::cout << "  param   " << Str(p, "key") << " = " << Str(p, "value") << "\n";
  for (const auto& d : r.value("datasets", json::array())) {
    if (d.value("tamga", false))
      std::cout << "data      " << Str(d, "uri") << "  manifest " << Str(d, "manifest") << "  "
                << d.value("file_count", 0) << " files"
                << (d.contains("context") ? "  (" + Str(d, "context") + ")" : "") << "\n";
    else
      std::cout << "data      " << Str(d, "name") << "  digest " << Str(d, "digest")
                << "  (not a Tamga dataset)\n";
  }
  const json code = r.value("code", json::object());
  if (!code.empty()) {
    std::cout << "code      " << Str(code, "repo") << (Str(code, "repo").empty() ? "" : " ") << "commit "
              << Str(code, "commit")
              << (Str(code, "dirty") == "true" ? "  + diff sha256 " + Str(code, "diff_sha256") : "") << "\n";
  }
  const json env = r.value("environment", json::object());
  if (!env.empty()) {
    std::cout << "env       python " << Str(env, "python_version") << "  packages sha256 "
              << Str(env, "pip_freeze_sha256")
              << (Str(env, "lockfile_sha256").empty()
                      ? ""
                      : "  lock " + Str(env, "lockfile") + " " + Str(env, "lockfile_sha256"))
              << "\n          " << Str(env, "os_release") << "  cuda " << Str(env, "cuda_driver")
              << "  driver " << Str(env, "nvidia_driver") << "  gpu " << Str(env, "gpu") << "\n";
  }
  if (r.contains("job")) {
    const json& job = r["job"];
    std::cout << "job       " << Str(job, "id") << "  queue " << Str(job, "queue") << "  "
              << Str(job, "state") << "\n";
  }
}

void PrintDataset(const json& r) {
  const json& v = r["dataset_version"];
  std::cout << "dataset   " << Str(v, "uri") << "  manifest " << Str(v, "manifest") << "  "
            << v.value("file_count", 0) << " files\n";
  for (const auto& u : r["runs"])
    std::cout << "  run     " << Str(u, "run_id")
              << (u.contains("context") ? "  (" + Str(u, "context") + ")" : "") << "\n";
  for (const auto& mv : r["model_versions"])
    std::cout << "  model   " << Str(mv, "name") << " v" << Str(mv, "version") << "  run "
              << Str(mv, "run_id") << "\n";
}

// The job spec that re-creates `job` with the exact dataset versions its run used.
json ReproduceSpec(const json& lineage, const std::string& queue, const std::vector<std::string>& env) {
  json spec = lineage["job"]["spec"];
  json data = json::array();
  for (const auto& d : lineage.value("datasets", json::array())) {
    if (!d.value("tamga", false) || d.value("hidden", false)) continue;
    std::string path = "data/" + Str(d, "name");
    for (const auto& orig : spec.value("data", json::array()))
      if (Str(orig, "ref").substr(0, Str(orig, "ref").find('@')) == Str(d, "name")) path = Str(orig, "path");
    data.push_back({{"ref", Str(d, "name") + "@v" + std::to_string(d.value("version", 0))}, {"path", path}});
  }
  if (!data.empty()) spec["data"] = data;
  if (!queue.empty()) spec["queue"] = queue;
  spec["tags"]["tamga.reproduces.job"] = Str(lineage["job"], "id");
  spec["tags"]["tamga.reproduces.run"] = Str(lineage["run"]["info"], "run_id");
  std::string name = Str(lineage["run"]["info"], "run_name");
  spec["run_name"] = "reproduce " + (name.empty() ? Str(lineage["job"], "id") : name);
  spec.erase("team");  // the server charges the submitter's team
  // Secrets are never returned by the server: variables it masked are left out (give them with --env).
  if (spec.contains("env") && spec["env"].is_object()) {
    for (auto it = spec["env"].begin(); it != spec["env"].end();) {
      if (it->is_string() && it->get<std::string>().find("***") != std::string::npos) {
        std::cerr << "note: the original job's variable " << it.key()
                  << " was a secret; give it again with --env\n";
        it = spec["env"].erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& kv : env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) spec["env"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return spec;
}

}  // namespace

LineageCommands AddLineageCommands(CLI::App& app) {
  LineageCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;

  struct Args {
    Common c;
    std::string uri, queue;
    std::vector<std::string> env;
    bool dry_run = false;
  };
  auto la = std::make_shared<Args>();
  auto* lineage = app.add_subcommand("lineage",
                                     "Which data, code and environment made a model (models:/NAME@ALIAS, "
                                     "models:/NAME/3, runs:/ID), or what a dataset version fed (NAME@v3).");
  AddServerOptions(lineage, &la->c);
  lineage->add_option("uri", la->uri, "models:/..., runs:/..., or NAME@REF / tamga-data://NAME@REF")
      ->required();
  lineage->callback([action, la] {
    *action = [la]() -> int {
      int code = 0;
      auto r = Call(la->c, "GET", "/api/2.0/tamga/lineage?uri=" + Escape(la->uri), nullptr, &code);
      if (!r) return code;
      if (la->c.as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
      }
      if (r->contains("dataset_version"))
        PrintDataset(*r);
      else
        PrintModel(*r);
      return 0;
    };
  });

  auto ra = std::make_shared<Args>();
  auto* reproduce = app.add_subcommand("reproduce",
                                       "Queue again the job that produced a model, with the same dataset "
                                       "versions, code and environment.");
  AddServerOptions(reproduce, &ra->c);
  reproduce->add_option("uri", ra->uri, "models:/NAME/3, models:/NAME@ALIAS or runs:/ID")->required();
  reproduce->add_option("--queue", ra->queue, "Another queue than the original job's");
  reproduce->add_option("--env", ra->env, "KEY=VALUE for the new job (repeat): secrets the original had");
  reproduce->add_flag("--dry-run", ra->dry_run, "Print the job spec instead of submitting it");
  reproduce->callback([action, ra] {
    *action = [ra]() -> int {
      int code = 0;
      auto r = Call(ra->c, "GET", "/api/2.0/tamga/lineage?uri=" + Escape(ra->uri), nullptr, &code);
      if (!r) return code;
      if (!r->contains("job") || !(*r)["job"].contains("spec")) {
        std::cerr << "error: " << ra->uri
                  << " was not produced by a Tamga job (its run has no tamga.job.id), or you may "
                  << "not read its run; nothing to reproduce\n";
        return 1;
      }
      json spec = ReproduceSpec(*r, ra->queue, ra->env);
      if (ra->dry_run) {
        std::cout << spec.dump(2) << "\n";
        return 0;
      }
      auto job = Call(ra->c, "POST", "/api/2.0/tamga/jobs", spec, &code);
      if (!job) return code;
      if (ra->c.as_json) {
        std::cout << job->dump(2) << "\n";
        return 0;
      }
      std::cout << "queued job " << Str((*job)["job"], "id") << " reproducing " << ra->uri << " (job "
                << Str((*r)["job"], "id") << ") on queue " << spec.value("queue", "") << "\n"
                << Str((*job)["job"], "id") << "\n";
      return 0;
    };
  });
  return cmds;
}

int RunLineageCommands(const LineageCommands& commands) {
  if (!*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
