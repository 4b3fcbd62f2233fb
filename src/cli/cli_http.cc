#include "cli/cli_http.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "core/client_credentials.h"
#include "net/http_client.h"

namespace tamga {

using json = nlohmann::json;

std::string DefaultUri() {
  for (const char* name : {"TAMGA_TRACKING_URI", "MLFLOW_TRACKING_URI"}) {
    const char* v = std::getenv(name);
    if (v && *v) return v;
  }
  return "http://127.0.0.1:5000";
}

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void AddServerOptions(CLI::App* cmd, Common* c, bool json_flag) {
  c->uri = DefaultUri();
  cmd->add_option("--tracking-uri", c->uri,
                  "Tamga server URL (env TAMGA_TRACKING_URI / MLFLOW_TRACKING_URI)");
  cmd->add_option("--server", c->uri, "Old spelling of --tracking-uri")->group("");  // hidden alias
  cmd->add_option("--token", c->token,
                  "Access token (env TAMGA_TOKEN; or MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN)");
  if (json_flag) cmd->add_flag("--json", c->as_json, "Print the server's JSON");
}

void AddAuth(const Common& c, HttpClientRequest* req) {
  std::string auth = ClientAuthorization(c.token);
  if (!auth.empty()) req->headers.emplace_back("Authorization", std::move(auth));
}

std::optional<json> Call(const Common& c, const std::string& method, const std::string& path,
                         const json& body, int* code, int64_t timeout_ms) {
  HttpClientRequest req;
  req.method = method;
  std::string base = c.uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + path;
  req.timeout_ms = timeout_ms;
  AddAuth(c, &req);
  if (method != "GET") {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body.is_null() ? "{}" : body.dump();
  }
  auto res = HttpCall(req);
  // 503 with Retry-After (several replicas: the job scheduler moving to another one): wait as told, for up to
  // about 15 s, then report the answer.
  for (int waited_s = 0; res.ok() && res->status == 503 && waited_s < 15;) {
    int64_t after = 0;
    std::string h = res->Header("retry-after");
    auto [end, ec] = std::from_chars(h.data(), h.data() + h.size(), after);
    if (h.empty() || h.size() > 3 || ec != std::errc() || end != h.data() + h.size()) break;
    after = std::max<int64_t>(1, after);
    std::this_thread::sleep_for(std::chrono::seconds(after));
    waited_s += static_cast<int>(after);
    res = HttpCall(req);
  }
  if (!res.ok()) {
    std::cerr << "error: cannot reach " << c.uri << ": " << res.status().message() << "\n";
    *code = 2;
    return std::nullopt;
  }
  json j = json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      const auto& code_field =
          j.contains("error_code") && j["error_code"].is_string() ? j["error_code"] : json("ERROR");
      std::cerr << "error: " << code_field.get<std::string>() << ": " << j["message"].get<std::string>()
                << "\n";
    } else {
      std::cerr << "error: HTTP " << res->status << "\n";
    }
    *code = 1;
    return std::nullopt;
  }
  return j.is_discarded() ? json::object() : j;
}

// mlflow.set_experiment for jobs: the id of the experiment with this name, created when missing.
std::optional<std::string> ExperimentByName(const Common& c, const std::string& name, int* code) {
  HttpClientRequest req;
  req.method = "GET";
  std::string base = c.uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + Escape(name);
  AddAuth(c, &req);
  auto res = HttpCall(req);
  if (res.ok() && res->status == 200) {
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_object() && j.contains("experiment") && j["experiment"].is_object() &&
        j["experiment"].contains("experiment_id") && j["experiment"]["experiment_id"].is_string()) {
      return j["experiment"]["experiment_id"].get<std::string>();
    }
  }
  // Missing (or unreadable): create it; the create call reports the server's own error if that fails too.
  auto created = Call(c, "POST", "/api/2.0/mlflow/experiments/create", nlohmann::json{{"name", name}}, code);
  if (!created) return std::nullopt;
  if (!created->contains("experiment_id") || !(*created)["experiment_id"].is_string()) {
    std::cerr << "error: the server did not return an experiment id\n";
    *code = 1;
    return std::nullopt;
  }
  std::cerr << "created experiment '" << name << "' (id " << (*created)["experiment_id"].get<std::string>()
            << ")\n";
  return (*created)["experiment_id"].get<std::string>();
}

}  // namespace tamga
