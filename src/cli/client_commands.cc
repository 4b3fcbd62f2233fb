#include "cli/client_commands.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "artifacts/artifact_path.h"
#include "cli/cli_http.h"
#include "net/http_client.h"

namespace tamga {
namespace {

using json = nlohmann::json;

// A traffic weight as written in the spec: 80, 0.5.
std::string FormatWeight(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", w);
  return buf;
}

void PrintVersion(const json& v) {
  std::cout << v.value("name", "") << "  v" << v.value("version", "")
            << "  stage=" << v.value("current_stage", "");
  if (v.contains("aliases") && v["aliases"].is_array()) {
    std::cout << "  aliases=";
    for (size_t i = 0; i < v["aliases"].size(); ++i)
      std::cout << (i ? "," : "") << (v["aliases"][i].is_string() ? v["aliases"][i].get<std::string>() : "?");
  }
  std::cout << "  run=" << v.value("run_id", "-") << "\n";
}

// Registers a subcommand whose action is `fn`, sharing the common options.
CLI::App* Command(CLI::App* parent, const char* name, const char* help, Common* common, ClientCommands* cmds,
                  std::function<int()> fn) {
  auto* sub = parent->add_subcommand(name, help);
  sub->add_option("--tracking-uri", common->uri,
                  "Tamga server URL (env TAMGA_TRACKING_URI, MLFLOW_TRACKING_URI)");
  sub->add_flag("--json", common->as_json, "Print the server's JSON");
  sub->add_option("--token", common->token,
                  "Access token (env TAMGA_TOKEN; or MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN)");
  sub->callback([cmds, fn] { *cmds->action = fn; });
  return sub;
}

}  // namespace

ClientCommands AddClientCommands(CLI::App& app) {
  ClientCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto c = std::make_shared<Common>();
  c->uri = DefaultUri();
  auto s = std::make_shared<std::map<std::string, std::string>>();  // positional/option values
  auto flag = std::make_shared<bool>(false);
  auto out = [c](const json& j) { std::cout << j.dump(2) << "\n"; };

  // models
  auto* models = app.add_subcommand("models", "Registered models: list, inspect, aliases, stages.");
  models->require_subcommand(1);
  auto* ls = Command(models, "ls", "List registered models.", c.get(), &cmds, [c, s, out] {
    int code = 0;
    std::string q = "/api/2.0/mlflow/registered-models/search?max_results=1000";
    if (!(*s)["filter"].empty()) q += "&filter=" + Escape((*s)["filter"]);
    auto j = Call(*c, "GET", q, nullptr, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    for (const auto& m : j->value("registered_models", json::array())) {
      std::cout << m.value("name", "");
      for (const auto& a : m.value("aliases", json::array())) {
        std::cout << "  @" << a.value("alias", "") << "=v" << a.value("version", "");
      }
      std::cout << "\n";
    }
    return 0;
  });
  ls->add_option("--filter", (*s)["filter"], "MLflow filter, e.g. \"name LIKE 'fraud%'\"");
  auto* show = Command(
      models, "show", "Show a registered model (or models:/ URI resolution).", c.get(), &cmds, [c, s, out] {
        int code = 0;
        const std::string& target = (*s)["model"];
        std::string path = target.rfind("models:", 0) == 0
                               ? "/api/2.0/tamga/models/resolve?uri=" + Escape(target)
                               : "/api/2.0/mlflow/registered-models/get?name=" + Escape(target);
        auto j = Call(*c, "GET", path, nullptr, &code);
        if (!j) return code;
        if (c->as_json) return out(*j), 0;
        auto str = [](const json& o, const char* k) {
          return o.contains(k) && !o[k].is_null() ? (o[k].is_string() ? o[k].get<std::string>() : o[k].dump())
                                                  : "";
        };
        auto line = [](const std::string& k, const std::string& v) {
          if (!v.empty()) std::cout << k << ": " << v << "\n";
        };
        if (j->contains("registered_model")) {
          const json& m = (*j)["registered_model"];
          line("name", str(m, "name"));
          line("description", str(m, "description"));
          std::string aliases, versions, tags;
          for (const auto& a : m.value("aliases", json::array()))
            aliases += (aliases.empty() ? "" : ", ") + str(a, "alias") + " -> " + str(a, "version");
          for (const auto& v : m.value("latest_versions", json::array()))
            versions +=
                (versions.empty() ? "" : ", ") + str(v, "version") + " (" + str(v, "current_stage") + ")";
          for (const auto& t : m.value("tags", json::array()))
            tags += (tags.empty() ? "" : ", ") + str(t, "key") + "=" + str(t, "value");
          line("aliases", aliases);
          line("latest versions", versions);
          line("tags", tags);
        } else {
          for (const char* k : {"name", "version", "run_id", "artifact_location", "source", "flavors"})
            line(k, str(*j, k));
        }
        return 0;
      });
  show->add_option("model", (*s)["model"], "Model name or models:/ URI")->required();
  auto* versions = Command(models, "versions", "List a model's versions.", c.get(), &cmds, [c, s, out] {
    int code = 0;
    std::string filter = "name='" + (*s)["vmodel"] + "'";
    auto j =
        Call(*c, "GET", "/api/2.0/mlflow/model-versions/search?filter=" + Escape(filter), nullptr, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    for (const auto& v : j->value("model_versions", json::array())) PrintVersion(v);
    return 0;
  });
  versions->add_option("model", (*s)["vmodel"], "Model name")->required();
  auto* alias = models->add_subcommand("alias", "Set or remove an alias.");
  alias->require_subcommand(1);
  auto* aset = Command(alias, "set", "Point an alias at a version.", c.get(), &cmds, [c, s] {
    int code = 0;
    json body = {{"name", (*s)["a_model"]}, {"alias", (*s)["a_alias"]}, {"version", (*s)["a_version"]}};
    if (!Call(*c, "POST", "/api/2.0/mlflow/registered-models/alias", body, &code)) return code;
    std::cout << (*s)["a_model"] << "@" << (*s)["a_alias"] << " -> v" << (*s)["a_version"] << "\n";
    return 0;
  });
  aset->add_option("model", (*s)["a_model"])->required();
  aset->add_option("alias", (*s)["a_alias"])->required();
  aset->add_option("version", (*s)["a_version"])->required();
  auto* arm = Command(alias, "rm", "Remove an alias.", c.get(), &cmds, [c, s] {
    int code = 0;
    json body = {{"name", (*s)["r_model"]}, {"alias", (*s)["r_alias"]}};
    if (!Call(*c, "DELETE", "/api/2.0/mlflow/registered-models/alias", body, &code)) return code;
    std::cout << "removed " << (*s)["r_model"] << "@" << (*s)["r_alias"] << "\n";
    return 0;
  });
  arm->add_option("model", (*s)["r_model"])->required();
  arm->add_option("alias", (*s)["r_alias"])->required();
  auto* stage = Command(models, "stage", "Move a version to a stage.", c.get(), &cmds, [c, s, flag, out] {
    int code = 0;
    json body = {{"name", (*s)["s_model"]},
                 {"version", (*s)["s_version"]},
                 {"stage", (*s)["s_stage"]},
                 {"archive_existing_versions", *flag}};
    auto j = Call(*c, "POST", "/api/2.0/mlflow/model-versions/transition-stage", body, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    PrintVersion((*j)["model_version"]);
    return 0;
  });
  stage->add_option("model", (*s)["s_model"])->required();
  stage->add_option("version", (*s)["s_version"])->required();
  stage->add_option("stage", (*s)["s_stage"], "None|Staging|Production|Archived")->required();
  stage->add_flag("--archive-existing", *flag, "Archive other versions in that stage");

  // webhooks
  auto* hooks = app.add_subcommand("webhooks", "Webhooks (MLflow 3 compatible) and their delivery log.");
  hooks->require_subcommand(1);
  auto* add = Command(hooks, "add", "Create a webhook.", c.get(), &cmds, [c, s, out] {
    int code = 0;
    json events = json::array();
    std::stringstream in((*s)["h_events"]);
    std::string e;
    while (std::getline(in, e, ',')) {
      if (!e.empty()) events.push_back(e);
    }
    json body = {{"name", (*s)["h_name"]}, {"url", (*s)["h_url"]}, {"events", events}};
    if (!(*s)["h_secret"].empty()) body["secret"] = (*s)["h_secret"];
    auto j = Call(*c, "POST", "/api/2.0/mlflow/webhooks", body, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    std::cout << (*j)["webhook"].value("webhook_id", "") << "\n";
    return 0;
  });
  add->add_option("--name", (*s)["h_name"])->required();
  add->add_option("--url", (*s)["h_url"])->required();
  add->add_option("--events", (*s)["h_events"], "Comma-separated, e.g. model_version_alias.created")
      ->required();
  add->add_option("--secret", (*s)["h_secret"], "HMAC secret (env TAMGA_WEBHOOK_SECRET)")
      ->envname("TAMGA_WEBHOOK_SECRET");
  Command(hooks, "ls", "List webhooks.", c.get(), &cmds, [c, out] {
    int code = 0;
    auto j = Call(*c, "GET", "/api/2.0/mlflow/webhooks?max_results=1000", nullptr, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    for (const auto& h : j->value("webhooks", json::array())) {
      std::cout << h.value("webhook_id", "") << "  " << h.value("name", "") << "  " << h.value("url", "")
                << "  " << h.value("status", "") << "\n";
    }
    return 0;
  });
  auto* rm = Command(hooks, "rm", "Delete a webhook.", c.get(), &cmds, [c, s] {
    int code = 0;
    if (!Call(*c, "DELETE", "/api/2.0/mlflow/webhooks/" + Escape((*s)["rm_id"]), nullptr, &code)) return code;
    std::cout << "deleted " << (*s)["rm_id"] << "\n";
    return 0;
  });
  rm->add_option("webhook_id", (*s)["rm_id"])->required();
  auto* test = Command(hooks, "test", "Send a test delivery now.", c.get(), &cmds, [c, s, out] {
    int code = 0;
    auto j =
        Call(*c, "POST", "/api/2.0/mlflow/webhooks/" + Escape((*s)["t_id"]) + "/test", json::object(), &code);
    if (!j) return code;
    out(*j);
    return (*j)["result"].value("success", false) ? 0 : 1;
  });
  test->add_option("webhook_id", (*s)["t_id"])->required();
  auto* deliveries =
      Command(hooks, "deliveries", "Show a webhook's delivery log.", c.get(), &cmds, [c, s, out] {
        int code = 0;
        auto j = Call(*c, "GET", "/api/2.0/tamga/webhooks/" + Escape((*s)["d_id"]) + "/deliveries", nullptr,
                      &code);
        if (!j) return code;
        if (c->as_json) return out(*j), 0;
        for (const auto& d : j->value("deliveries", json::array())) {
          std::cout << d.value("delivery_id", "") << "  " << d.value("event", "") << "  "
                    << d.value("state", "") << "  attempts=" << d.value("attempts", 0)
                    << "  status=" << d.value("last_status", 0) << "\n";
        }
        return 0;
      });
  deliveries->add_option("webhook_id", (*s)["d_id"])->required();

  // deploy
  auto* deploy = app.add_subcommand("deploy", "Deployments rendered to a GitOps folder.");
  deploy->require_subcommand(1);
  Command(deploy, "ls", "List deployments.", c.get(), &cmds, [c, out] {
    int code = 0;
    auto j = Call(*c, "GET", "/api/2.0/tamga/deployments", nullptr, &code);
    if (!j) return code;
    if (c->as_json) return out(*j), 0;
    std::optional<json> ready;  // local deployments: what the server itself serves (/v2/health/ready)
    for (const auto& d : j->value("deployments", json::array())) {
      bool spec_ok = d.contains("spec") && d["spec"].is_object();
      std::string alias = spec_ok ? d["spec"].value("alias", "") : "";
      std::string version = d.value("rendered_version", "");
      std::string state = version.empty()
                              ? "not rendered yet (alias '" + alias + "' does not point at a version)"
                              : "rendered version " + version;
      if (spec_ok && d["spec"].value("target", "") == "local") {
        if (!ready) {  // 503 while something loads: the body still lists every model
          HttpClientRequest req;
          std::string base = c->uri;
          while (!base.empty() && base.back() == '/') base.pop_back();
          req.url = base + "/v2/health/ready";
          AddAuth(*c, &req);
          auto r = HttpCall(req);
          ready = r.ok() ? json::parse(r->body, nullptr, false) : json::object();
          if (!ready->is_object()) ready = json::object();
        }
        state = "local: not loaded";
        for (const auto& m : ready->value("models", json::array())) {
          if (m.value("name", "") != d.value("name", "")) continue;
          state = m.value("version", "").empty()
                      ? "local: " + m.value("state", "") +
                            (m.value("error", "").empty() ? "" : " (" + m.value("error", "") + ")")
                      : "local: serving version " + m.value("version", "");
          if (m.contains("variants") && m["variants"].is_array()) {  // a traffic policy: each variant's share
            state = "local: " + m.value("traffic", "");
            for (const auto& v : m["variants"]) {
              if (!v.is_object()) continue;
              std::string ver = v.value("version", "");
              state += " " + v.value("name", "") + "=" + (ver.empty() ? v.value("state", "") : "v" + ver);
              state +=
                  v.value("shadow", false) ? " (shadow)" : " (" + FormatWeight(v.value("weight", 0.0)) + ")";
            }
          }
        }
      }
      std::cout << d.value("name", "") << "  " << d.value("model_name", "") << "@" << alias << "  " << state
                << "\n";
    }
    return 0;
  });
  auto* drm = Command(
      deploy, "rm", "Delete a deployment and its files in the GitOps folder.", c.get(), &cmds, [c, s] {
        int code = 0;
        const std::string& name = (*s)["drm_name"];
        auto j = Call(*c, "DELETE", "/api/2.0/tamga/deployments/" + Escape(name), nullptr, &code);
        if (!j) return code;
        if (!c->as_json) std::cout << "deleted deployment " << name << "\n";
        return 0;
      });
  drm->add_option("name", (*s)["drm_name"], "Deployment name")->required();
  auto* apply = Command(deploy, "apply", "Create or replace a deployment from a JSON spec file.", c.get(),
                        &cmds, [c, s, out] {
                          int code = 0;
                          std::ifstream in((*s)["spec_file"]);
                          if (!in) return std::cerr << "error: cannot read " << (*s)["spec_file"] << "\n", 2;
                          json spec = json::parse(in, nullptr, false);
                          if (spec.is_discarded())
                            return std::cerr << "error: " << (*s)["spec_file"] << " is not JSON\n", 2;
                          std::string path = "/api/2.0/tamga/deployments";
                          if ((*s)["allow_missing"] == "1") path += "?allow_missing=true";
                          auto j = Call(*c, "POST", path, spec, &code);
                          if (!j) return code;
                          out(*j);
                          return 0;
                        });
  apply->add_option("-f,--file", (*s)["spec_file"], "Deployment spec (JSON)")->required();
  apply->add_flag_callback(
      "--allow-missing", [s] { (*s)["allow_missing"] = "1"; },
      "Accept a deployment whose registered model does not exist yet (rendered once it is registered)");
  auto* render =
      Command(deploy, "render", "Render a deployment (writes the GitOps folder) or a models:/ URI.", c.get(),
              &cmds, [c, s, out] {
                int code = 0;
                const std::string& target = (*s)["r_target"];
                if (target.rfind("models:", 0) != 0) {
                  auto j = Call(*c, "POST", "/api/2.0/tamga/deployments/" + Escape(target) + "/render",
                                json::object(), &code);
                  if (!j) return code;
                  if (c->as_json) return out(*j), 0;
                  std::cout << target << ": version " << j->value("version", "")
                            << (j->value("changed", false) ? " written" : " unchanged");
                  if (j->contains("commit") && (*j)["commit"].is_string())
                    std::cout << " (commit " << (*j)["commit"].get<std::string>().substr(0, 12) << ")";
                  std::cout << "\n";
                  if (j->contains("files") && (*j)["files"].is_array()) {
                    for (const auto& f : (*j)["files"]) {
                      if (f.is_string()) std::cout << "  " << f.get<std::string>() << "\n";
                    }
                  }
                  return 0;
                }
                auto j = Call(*c, "POST", "/api/2.0/tamga/deploy/render", json{{"model_uri", target}}, &code);
                if (!j) return code;
                if (c->as_json) return out(*j), 0;
                const std::string& dir = (*s)["r_out"];
                for (const auto& f : (*j)["files"]) {
                  std::string path = f.value("path", "");
                  if (dir.empty()) {
                    std::cout << "# --- " << path << "\n" << f.value("content", "");
                    continue;
                  }
                  if (!ValidateArtifactPath(path, false).ok())
                    return std::cerr << "error: bad path from server\n", 1;
                  std::filesystem::path p = std::filesystem::path(dir) / path;
                  std::filesystem::create_directories(p.parent_path());
                  std::ofstream(p) << f.value("content", "");
                  std::cout << p.string() << "\n";
                }
                return 0;
              });
  render->add_option("target", (*s)["r_target"], "Deployment name or models:/<name>/<version|@alias>")
      ->required();
  render->add_option("-o,--output", (*s)["r_out"], "With a models:/ URI: write files under this folder");
  return cmds;
}

int RunClientCommands(const ClientCommands& commands) {
  if (!commands.action || !*commands.action) return 0;
  return (*commands.action)();
}

}  // namespace tamga
