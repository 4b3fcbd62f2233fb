#include "server/serve_server.h"

#include "core/client_credentials.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/port_file.h"
#include "grpc/oip_grpc_server.h"
#include "http/http_server.h"
#include "http/routes/serving_routes.h"
#include "serving/lifecycle/registry_source.h"
#include "tamga/build_info.h"

namespace tamga {

struct ServeServer::Parts {
  ServeConfig config;
  SystemClock clock;
  MetricsRegistry metrics;
  // Before every service: destroyed after them. Services hold responders of in-flight requests (long-polls,
  // batches); those reference connections that must die while the HTTP server's io_context still exists.
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<GpuAdmission> gpu;  // before models: outlives them
  std::unique_ptr<ModelManager> models;
  std::unique_ptr<HttpRegistrySource> source;
  Router router;
  std::unique_ptr<OipGrpcServer> grpc;
  std::thread loader;
  std::atomic<bool> stopping{false};
};

namespace {

std::string ModelNameOf(const ServeConfig& c) {
  if (!c.name.empty()) return c.name;
  std::string reg = RegisteredNameOf(c.model);
  if (!reg.empty()) return reg;
  std::filesystem::path p = std::filesystem::absolute(c.model);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (std::filesystem::is_regular_file(p)) name = p.stem().string();
  return name.empty() ? "model" : name;
}

}  // namespace

Result<std::unique_ptr<ServeServer>> ServeServer::Create(const ServeConfig& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  bool registry = config.model.rfind("models:/", 0) == 0;
  if (registry && config.registry.empty()) {
    return InvalidArgument("serving " + config.model +
                           " needs --tracking-uri URL (or TAMGA_TRACKING_URI/MLFLOW_TRACKING_URI)");
  }
  if (!registry && !std::filesystem::exists(config.model)) {
    return NotFound("model path " + config.model + " does not exist");
  }
  if (registry) {
    // Fail at start with the reason, not later in the loader thread: the cache must be writable (in a
    // container with a read-only root, an emptyDir; the rendered manifests mount one).
    std::error_code ec;
    std::filesystem::create_directories(config.cache_dir, ec);
    std::string probe = config.cache_dir + "/.tamga-write-test";
    if (!ec) {
      std::ofstream f(probe);
      if (!f) ec = std::make_error_code(std::errc::permission_denied);
    }
    if (ec) {
      return FailedPrecondition("cannot write the model cache directory '" + config.cache_dir +
                                "': " + ec.message() +
                                "; set --cache-dir (env TAMGA_MODEL_CACHE) to a writable folder");
    }
    std::filesystem::remove(probe, ec);
  }
  std::string name = ModelNameOf(config);
  p->metrics.Gauge("tamga_build_info", "Build information")
      ->Set({{"version", kVersion}, {"commit", kGitCommit}, {"mlflow_compat", kMlflowCompatVersion}}, 1);
  p->models = std::make_unique<ModelManager>(config.serving, &p->metrics);
  p->gpu = MakeGpuAdmission(config.serving.runtime.device, nullptr);
  p->models->SetGpuAdmission(p->gpu.get());
  ServingRouteContext ctx{p->models.get(), &p->metrics, name};
  RegisterServingRoutes(p->router, ctx);

  HttpServer::Options ho;
  ho.host = config.host;
  ho.port = config.port;
  ho.threads = config.workers > 0 ? config.workers
                                  : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  ho.max_body_bytes = config.max_body_mb << 20;
  ho.limits = config.http_limits;
  TAMGA_ASSIGN_OR_RETURN(p->http, HttpServer::Create(ho, &p->router, &p->metrics, &p->clock));
  if (config.grpc_port >= 0) {
    GrpcServerOptions go;
    go.host = config.host;
    go.port = config.grpc_port;
    go.max_message_bytes = config.max_body_mb << 20;
    go.default_model = name;
    TAMGA_ASSIGN_OR_RETURN(p->grpc, OipGrpcServer::Start(go, p->models.get()));
    WritePortFile(config.grpc_port_file, p->grpc->port());
  }
  WritePortFile(config.port_file, p->http->port());
  TAMGA_LOG(kInfo, "tamga serve listening",
            {{"host", config.host},
             {"port", std::to_string(p->http->port())},
             {"model", config.model},
             {"name", name}});

  Parts* raw = p.get();
  if (registry) {
    p->source = std::make_unique<HttpRegistrySource>(config.registry, config.model, config.cache_dir);
    p->source->SetAuthorization(ClientAuthorization(config.token));
    p->loader = std::thread([raw, name] {
      ServeFromSource(raw->source.get(), raw->models.get(), name, kPrimaryVariant, raw->config.follow,
                      &raw->stopping);
    });
  } else {
    std::string dir = config.model;
    p->loader = std::thread([raw, name, dir] { (void)raw->models->LoadVersion(name, "1", dir); });
  }
  return std::unique_ptr<ServeServer>(new ServeServer(std::move(p)));
}

ServeServer::ServeServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServeServer::~ServeServer() {
  parts_->stopping = true;
  if (parts_->grpc) parts_->grpc->Shutdown();
  if (parts_->loader.joinable()) parts_->loader.join();
  if (parts_->source) parts_->source->Stop();
}

int ServeServer::port() const { return parts_->http->port(); }

Status ServeServer::Run() {
  parts_->http->Run();
  parts_->stopping = true;
  if (parts_->grpc) parts_->grpc->Shutdown();
  if (parts_->source) parts_->source->Stop();
  if (parts_->loader.joinable()) parts_->loader.join();
  parts_->models.reset();
  TAMGA_LOG(kInfo, "tamga serve stopped");
  return Status::Ok();
}

}  // namespace tamga
