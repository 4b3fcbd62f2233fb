#pragma once
// ServeServer: the composition root of `tamga serve <model-dir | models:/name@alias | models:/name/N>`:
// one model, its runtimes and batcher, MLflow + Open Inference Protocol REST on one port and OIP gRPC on a
// second. The HTTP
// server starts at once; the model loads in the background and readiness (/v2/health/ready, /ping) turns
// 200 only after the load and warm-up passed. A registry model follows the registry's events and hot
// reloads when its alias or stage moves.
#include <memory>
#include <string>

#include "core/result.h"
#include "http/http_server.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {

struct ServeConfig {
  std::string model;  // directory, .pt file, or models:/ URI
  std::string name;   // the name clients use (/v2/models/<name>); "" = the registered name or the file's
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string registry;  // tracking/registry URL for models:/ URIs
  std::string token;     // access token for it (--token; else TAMGA_TOKEN / MLflow's variables)
  std::string cache_dir = "./tamga-model-cache";
  std::string port_file;
  int grpc_port = 8081;  // OIP gRPC; 0 = pick a free port, -1 = off
  std::string grpc_port_file;
  int workers = 0;  // HTTP I/O threads; 0 = number of cores
  size_t max_body_mb = 64;
  ServingOptions serving;
  bool follow = true;  // hot reload on registry changes
  HttpLimits http_limits;
};

class ServeServer {
 public:
  static Result<std::unique_ptr<ServeServer>> Create(const ServeConfig& config);
  ~ServeServer();
  int port() const;
  Status Run();  // until SIGINT/SIGTERM
  struct Parts;

 private:
  explicit ServeServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace tamga
