// The one table mapping Status codes to HTTP statuses and MLflow error codes.
// MLflow answers RESOURCE_ALREADY_EXISTS with 400 (not 409); clients retry 429/5xx, so user errors must
// never map to those. INVALID_STATE is MLflow's 500, but a rename of a deleted experiment is the
// caller's mistake: Tamga keeps the error code and answers 400 so the client does not retry for a minute.
#include "core/json_writer.h"
#include "core/utf8.h"
#include "http/http_types.h"

namespace tamga {

std::pair<int, const char*> HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return {200, "OK"};
    case StatusCode::kInvalidArgument:
      return {400, "INVALID_PARAMETER_VALUE"};
    case StatusCode::kNotFound:
      return {404, "RESOURCE_DOES_NOT_EXIST"};
    case StatusCode::kAlreadyExists:
      return {400, "RESOURCE_ALREADY_EXISTS"};
    case StatusCode::kFailedPrecondition:
      return {400, "INVALID_STATE"};
    case StatusCode::kResourceExhausted:
      return {429, "RESOURCE_EXHAUSTED"};
    case StatusCode::kPayloadTooLarge:
      return {413, "BAD_REQUEST"};
    case StatusCode::kUnavailable:
      return {503, "TEMPORARILY_UNAVAILABLE"};
    case StatusCode::kPermissionDenied:
      return {403, "PERMISSION_DENIED"};
    case StatusCode::kUnauthenticated:
      return {401, "UNAUTHENTICATED"};
    case StatusCode::kUnimplemented:
      return {501, "NOT_IMPLEMENTED"};
    case StatusCode::kDeadlineExceeded:
      return {504, "DEADLINE_EXCEEDED"};
    case StatusCode::kAborted:
      return {409, "ABORTED"};
    case StatusCode::kInternal:
      return {500, "INTERNAL_ERROR"};
  }
  return {500, "INTERNAL_ERROR"};
}

HttpResponse ErrorResponse(const Status& status) {
  auto [http, code] = HttpStatusFor(status.code());
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Field("error_code", code);
  // Messages quote what the client sent (ids, names, paths): bounded here, whatever a handler built.
  constexpr size_t kMaxMessage = 2000;
  const std::string& message = status.message();
  if (message.size() <= kMaxMessage) {
    w.Field("message", message);
  } else {
    w.Field("message", std::string(Utf8Prefix(message, kMaxMessage)) + "... (truncated)");
  }
  w.EndObject();
  return HttpResponse::Json(std::move(body), http);
}

const char* HttpMethodName(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kDelete:
      return "DELETE";
    case HttpMethod::kOptions:
      return "OPTIONS";
    case HttpMethod::kOther:
      return "OTHER";
  }
  return "OTHER";
}

}  // namespace tamga
