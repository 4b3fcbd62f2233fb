#pragma once
// The agent's calls to the server: JSON over the HTTP client, with the server's error JSON turned back
// into a Status (404 NotFound, INVALID_STATE FailedPrecondition, other 4xx InvalidArgument; 5xx and
// connection failures Unavailable, which callers retry).
#include <nlohmann/json.hpp>

#include <string>

#include "core/result.h"

namespace tamga {

class AgentClient {
 public:
  // `authorization`: the Authorization header sent with every call ("" = none).
  explicit AgentClient(std::string server, std::string authorization = "")
      : server_(std::move(server)), authorization_(std::move(authorization)) {}
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body,
                              int64_t timeout_ms = 15000) const;
  Result<nlohmann::json> Get(const std::string& path, int64_t timeout_ms = 15000) const;
  // Raw PUT of bytes (artifact uploads through the server's artifact proxy).
  Status Put(const std::string& path, const std::string& bytes) const;
  // Raw GET of bytes (artifact downloads), at most max_bytes.
  Result<std::string> GetBytes(const std::string& path, size_t max_bytes, int64_t timeout_ms = 600000) const;
  const std::string& server() const { return server_; }
  const std::string& authorization() const { return authorization_; }

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const std::string& body,
                              int64_t timeout_ms) const;
  std::string server_;
  std::string authorization_;
};

}  // namespace tamga
