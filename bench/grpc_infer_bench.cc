// OIP gRPC load generator for bench/serving.sh: keeps `--concurrency` single-row ModelInfer calls in flight
// on one completion queue (async stub, so the client stays cheap on a 2-core box) for `--seconds`, then
// prints req/s and client latency percentiles.
//   tamga_grpc_bench --target 127.0.0.1:8081 --model mlp --features 16 --concurrency 16 --seconds 10 [--raw]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "grpc/proto/inference.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Call {
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  grpc::Status status;
  Clock::time_point start;
  std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
};

}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:8081", model = "mlp";
  int features = 16, concurrency = 16;
  double seconds = 10;
  bool raw = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--target")
      target = next();
    else if (a == "--model")
      model = next();
    else if (a == "--features")
      features = std::stoi(next());
    else if (a == "--concurrency")
      concurrency = std::stoi(next());
    else if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--raw")
      raw = true;
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto stub = inference::GRPCInferenceService::NewStub(channel);

  inference::ModelInferRequest req;
  req.set_model_name(model);
  auto* in = req.add_inputs();
  in->set_name("input-0");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(features);
  std::vector<float> row(features, 0.5f);
  if (raw) {
    req.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float)));
  } else {
    for (float v : row) in->mutable_contents()->add_fp32_contents(v);
  }

  grpc::CompletionQueue cq;
  auto start_call = [&](Call* c) {
    c->start = Clock::now();
    c->reader = stub->AsyncModelInfer(&c->ctx, req, &cq);
    c->reader->Finish(&c->resp, &c->status, c);
  };
  std::vector<double> lat_us;
  lat_us.reserve(1 << 20);
  long errors = 0;
  std::string first_error;
  Clock::time_point t0 = Clock::now();
  Clock::time_point end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int in_flight = 0;
  for (int i = 0; i < concurrency; ++i, ++in_flight) start_call(new Call);
  void* tag;
  bool ok;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    auto* c = static_cast<Call*>(tag);
    Clock::time_point now = Clock::now();
    if (c->status.ok()) {
      lat_us.push_back(std::chrono::duration<double, std::micro>(now - c->start).count());
    } else {
      if (errors++ == 0) first_error = c->status.error_message();
    }
    delete c;
    --in_flight;
    if (now < end) {
      start_call(new Call);
      ++in_flight;
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) {
    return lat_us.empty() ? 0.0 : lat_us[std::min(lat_us.size() - 1, size_t(p * lat_us.size()))];
  };
  std::printf("%.0f req/s  p50 %.0f us  p99 %.0f us  errors %ld%s%s\n", lat_us.size() / elapsed, pct(0.5),
              pct(0.99), errors, errors ? "  first: " : "", first_error.c_str());
  return errors > 0 && lat_us.empty() ? 1 : 0;
}
