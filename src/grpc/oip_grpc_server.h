#pragma once
// Open Inference Protocol gRPC endpoint (`inference.GRPCInferenceService`: ServerLive, ServerReady,
// ModelReady, ServerMetadata, ModelMetadata, ModelInfer) over a ModelManager, on its own port. Uses gRPC's
// callback API: ModelInfer hands the request to the model's batcher and completes when the batch returns,
// so no thread blocks per request. gRPC and protobuf types stay inside src/grpc.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {

struct GrpcServerOptions {
  std::string host = "127.0.0.1";
  int port = 8081;  // 0 = pick a free port
  size_t max_message_bytes = 64u << 20;
  std::string default_model;  // used when a request leaves model_name empty
  // Access control (tamga server --auth on): called before every call except ServerLive and ServerReady
  // (the probes), with the call's `authorization` metadata ("" when absent), the model it names ("" for
  // ServerMetadata) and the peer. A non-OK status ends the call with it (UNAUTHENTICATED, PERMISSION_DENIED).
  // Null = every call is admitted. Runs on a gRPC thread and may block for a password check.
  std::function<Status(std::string_view authorization, const std::string& model, const std::string& peer)>
      authorize;
  // TLS: PEM certificate chain and private key files; both empty = plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class OipGrpcServer {
 public:
  // Binds and starts serving on gRPC's own threads. `models` must outlive the server.
  static Result<std::unique_ptr<OipGrpcServer>> Start(const GrpcServerOptions& options, ModelManager* models);
  ~OipGrpcServer();  // shuts down, waiting for in-flight calls
  int port() const;
  void Shutdown();
  struct Impl;

 private:
  explicit OipGrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tamga
