#pragma once
// Status: the one error model of Tamga. A cheap value (an enum plus, on error, a message).
// Every fallible function returns Status or Result<T>; wire protocols map codes in one table each
// (http/status_to_http.cc). Thread-compatible (a value type).
#include <string>
#include <string_view>
#include <utility>

namespace tamga {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a caller (MLflow INVALID_PARAMETER_VALUE)
  kNotFound,            // a named resource does not exist (RESOURCE_DOES_NOT_EXIST)
  kAlreadyExists,       // a resource with that identity exists (RESOURCE_ALREADY_EXISTS)
  kFailedPrecondition,  // the resource is in the wrong state for the call (INVALID_STATE)
  kResourceExhausted,   // a limit or queue is full (RESOURCE_EXHAUSTED)
  kPayloadTooLarge,     // a request body over the configured limit
  kUnavailable,         // try again later (TEMPORARILY_UNAVAILABLE)
  kPermissionDenied,
  kUnauthenticated,
  kUnimplemented,
  kDeadlineExceeded,
  kAborted,
  kInternal,  // our bug or an environment failure (disk full, I/O error)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

}  // namespace tamga

#define TAMGA_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::tamga::Status tamga_status_ = (expr);        \
    if (!tamga_status_.ok()) return tamga_status_; \
  } while (0)
