#include "grpc/oip_grpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iterator>

#include "core/log.h"
#include "grpc/oip_grpc_codec.h"
#include "grpc/proto/inference.grpc.pb.h"
#include "grpc/status_to_grpc.h"
#include "tamga/build_info.h"

namespace tamga {
namespace {

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  Service(ModelManager* models, const GrpcServerOptions& options)
      : models_(models), default_model_(options.default_model), authorize_(options.authorize) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* resp) override {
    resp->set_live(true);
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx,
                                        const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* resp) override {
    resp->set_ready(models_->AllReady());
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx,
                                       const inference::ModelReadyRequest* req,
                                       inference::ModelReadyResponse* resp) override {
    if (Status a = Authorize(ctx, Name(req->name())); !a.ok()) return Done(ctx, a);
    auto v = models_->Get(Name(req->name()), req->version());
    if (!v.ok() && v.status().code() == StatusCode::kNotFound) return Done(ctx, v.status());
    resp->set_ready(v.ok());
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx,
                                           const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* resp) override {
    if (Status a = Authorize(ctx, ""); !a.ok()) return Done(ctx, a);
    resp->set_name("tamga");
    resp->set_version(kVersion);
    resp->add_extensions("binary_tensor_data");
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest* req,
                                          inference::ModelMetadataResponse* resp) override {
    std::string name = Name(req->name());
    if (Status a = Authorize(ctx, name); !a.ok()) return Done(ctx, a);
    auto v = models_->Get(name, req->version());
    if (!v.ok()) return Done(ctx, v.status());
    FillGrpcMetadata(name, (*v)->version, (*v)->platform, (*v)->signature, resp);
    return Done(ctx, Status::Ok());
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* req,
                                       inference::ModelInferResponse* resp) override {
    std::string name = Name(req->model_name());
    if (Status a = Authorize(ctx, name); !a.ok()) return Done(ctx, a);
    // Sticky (A/B) keys come from the request metadata of the policy's header name.
    ModelManager::HeaderLookup header = [ctx](const std::string& n) {
      const auto& md = ctx->client_metadata();
      auto it = md.find(grpc::string_ref(n));
      return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
    };
    auto h = models_->Route(name, req->model_version(), &header);
    if (!h.ok()) return Done(ctx, h.status());
    auto inputs = DecodeGrpcInputs(*req, h->version->signature);
    if (!inputs.ok()) {
      models_->RecordInvalidInput(*h, "grpc");
      return Done(ctx, inputs.status());
    }
    bool raw = req->raw_input_contents_size() > 0;
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    // `req` and `resp` stay valid until Finish.
    std::string variant = h->variant;
    // Outlier flags of a monitored endpoint: metadata tamga-outliers (count) and tamga-outlier-rows.
    OutlierReport o = models_->Observe(*h, *inputs);
    std::string outliers = o.scored ? std::to_string(o.outlier_rows.size()) : "", outlier_rows;
    for (size_t i = 0; i < o.outlier_rows.size() && i < 100; ++i)
      outlier_rows += (i ? "," : "") + std::to_string(o.outlier_rows[i]);
    models_->Infer(*h, std::move(*inputs), "grpc",
                   [ctx, reactor, req, resp, name, raw, variant, outliers, outlier_rows](
                       Result<std::vector<Tensor>> out, InferTimings, std::shared_ptr<LoadedVersion> ver) {
                     if (!out.ok()) return reactor->Finish(ToGrpcStatus(out.status()));
                     ctx->AddInitialMetadata("tamga-model-version", ver->version);
                     ctx->AddInitialMetadata("tamga-variant", variant);
                     if (!outliers.empty()) ctx->AddInitialMetadata("tamga-outliers", outliers);
                     if (!outlier_rows.empty()) ctx->AddInitialMetadata("tamga-outlier-rows", outlier_rows);
                     resp->set_model_name(name);
                     resp->set_model_version(ver->version);
                     resp->set_id(req->id());
                     reactor->Finish(ToGrpcStatus(EncodeGrpcOutputs(*req, std::move(*out), raw, resp)));
                   });
    return reactor;
  }

 private:
  const std::string& Name(const std::string& n) const { return n.empty() ? default_model_ : n; }

  Status Authorize(grpc::CallbackServerContext* ctx, const std::string& model) const {
    if (!authorize_) return Status::Ok();
    std::string_view header;
    const auto& md = ctx->client_metadata();
    if (md.count("authorization") > 1) return InvalidArgument("More than one authorization metadata entry.");
    if (auto it = md.find("authorization"); it != md.end()) header = {it->second.data(), it->second.size()};
    return authorize_(header, model, ctx->peer());
  }

  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const Status& s) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }

  ModelManager* models_;
  std::string default_model_;
  std::function<Status(std::string_view, const std::string&, const std::string&)> authorize_;
};

}  // namespace

struct OipGrpcServer::Impl {
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool down = false;
};

Result<std::unique_ptr<OipGrpcServer>> OipGrpcServer::Start(const GrpcServerOptions& options,
                                                            ModelManager* models) {
  auto impl = std::make_unique<Impl>();
  impl->service = std::make_unique<Service>(models, options);
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port would bind too and share the traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    auto read = [](const std::string& path, const char* what) -> Result<std::string> {
      std::ifstream in(path, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof())
        return InvalidArgument(std::string("cannot read the TLS ") + what + " " + path);
      if (text.empty()) return InvalidArgument(std::string("cannot read the TLS ") + what + " " + path);
      return text;
    };
    grpc::SslServerCredentialsOptions ssl;
    TAMGA_ASSIGN_OR_RETURN(std::string cert, read(options.tls_cert_file, "certificate"));
    TAMGA_ASSIGN_OR_RETURN(std::string key, read(options.tls_key_file, "key"));
    ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
    creds = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(host + ":" + std::to_string(options.port), creds, &impl->port);
  int max = static_cast<int>(std::min<size_t>(options.max_message_bytes, INT32_MAX));
  builder.SetMaxReceiveMessageSize(max);
  builder.SetMaxSendMessageSize(INT32_MAX);
  builder.RegisterService(impl->service.get());
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return Unavailable("cannot listen for gRPC on " + host + ":" + std::to_string(options.port) +
                       " (port in use or address not available)");
  }
  TAMGA_LOG(kInfo, "OIP gRPC listening",
            {{"host", options.host},
             {"port", std::to_string(impl->port)},
             {"tls", options.tls_cert_file.empty() ? "off" : "on"}});
  return std::unique_ptr<OipGrpcServer>(new OipGrpcServer(std::move(impl)));
}

OipGrpcServer::OipGrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OipGrpcServer::~OipGrpcServer() { Shutdown(); }

int OipGrpcServer::port() const { return impl_->port; }

void OipGrpcServer::Shutdown() {
  if (impl_->down) return;
  impl_->down = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
}

}  // namespace tamga
