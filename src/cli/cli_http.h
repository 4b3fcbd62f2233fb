#pragma once
// What every client command shares: the server URI option, --json, and one call helper that prints the
// server's error and sets the exit code (1 server error, 2 connection/usage).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace tamga {

struct Common {
  std::string uri;
  bool as_json = false;
  std::string
      token;  // --token; else TAMGA_TOKEN or MLflow's credential variables (core/client_credentials.h)
};

// Adds --tracking-uri (with its hidden old spelling --server), --token and, when json_flag, --json to a
// client command, and sets the default URI.
void AddServerOptions(CLI::App* cmd, Common* c, bool json_flag = true);

struct HttpClientRequest;
// Adds the Authorization header for c's credentials, if any.
void AddAuth(const Common& c, HttpClientRequest* req);

// TAMGA_TRACKING_URI, MLFLOW_TRACKING_URI, else http://127.0.0.1:5000.
std::string DefaultUri();
// Percent-encodes a path segment.
std::string Escape(const std::string& s);
// Calls the server; prints the error and returns nullopt on failure (exit code in *code).
std::optional<nlohmann::json> Call(const Common& c, const std::string& method, const std::string& path,
                                   const nlohmann::json& body, int* code, int64_t timeout_ms = 60000);

// mlflow.set_experiment for jobs: the id of the experiment with this name, created when missing.
std::optional<std::string> ExperimentByName(const Common& c, const std::string& name, int* code);

}  // namespace tamga
