#pragma once
// The one table mapping Status codes to gRPC status codes (the Open Inference Protocol's gRPC service).
#include <grpcpp/support/status.h>

#include "core/status.h"

namespace tamga {

grpc::Status ToGrpcStatus(const Status& s);

}  // namespace tamga
