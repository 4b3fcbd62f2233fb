#include "agent/agent_client.h"

#include "net/http_client.h"

namespace tamga {

Result<nlohmann::json> AgentClient::Call(const std::string& method, const std::string& path,
                                         const std::string& body, int64_t timeout_ms) const {
  HttpClientRequest req;
  req.method = method;
  req.url = server_ + path;
  req.body = body;
  req.timeout_ms = timeout_ms;
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  if (!authorization_.empty()) req.headers.push_back({"Authorization", authorization_});
  auto resp = HttpCall(req);
  if (!resp.ok()) {
    if (resp.status().code() == StatusCode::kInvalidArgument) return resp.status();
    return Unavailable("server " + server_ + " unreachable: " + resp.status().message());
  }
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status >= 200 && resp->status < 300) return j.is_discarded() ? nlohmann::json::object() : j;
  std::string msg = j.is_object() ? j.value("message", resp->body.substr(0, 300)) : resp->body.substr(0, 300);
  std::string code = j.is_object() ? j.value("error_code", "") : "";
  if (resp->status == 404) return NotFound(msg);
  if (code == "INVALID_STATE") return FailedPrecondition(msg);
  if (resp->status >= 400 && resp->status < 500) return InvalidArgument(msg);
  return Unavailable("server answered " + std::to_string(resp->status) + ": " + msg);
}

Result<nlohmann::json> AgentClient::Post(const std::string& path, const nlohmann::json& body,
                                         int64_t timeout_ms) const {
  return Call("POST", path, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), timeout_ms);
}

Result<nlohmann::json> AgentClient::Get(const std::string& path, int64_t timeout_ms) const {
  return Call("GET", path, "", timeout_ms);
}

Status AgentClient::Put(const std::string& path, const std::string& bytes) const {
  HttpClientRequest req;
  req.method = "PUT";
  req.url = server_ + path;
  req.body = bytes;
  req.timeout_ms = 60000;
  if (!authorization_.empty()) req.headers.push_back({"Authorization", authorization_});
  auto resp = HttpCall(req);
  if (!resp.ok()) return resp.status();
  if (resp->status / 100 != 2) return Unavailable("upload answered " + std::to_string(resp->status));
  return Status::Ok();
}

Result<std::string> AgentClient::GetBytes(const std::string& path, size_t max_bytes,
                                          int64_t timeout_ms) const {
  HttpClientRequest req;
  req.url = server_ + path;
  req.timeout_ms = timeout_ms;
  req.max_response_bytes = max_bytes;
  if (!authorization_.empty()) req.headers.push_back({"Authorization", authorization_});
  auto resp = HttpCall(req);
  if (!resp.ok()) return Unavailable("download of " + path + " failed: " + resp.status().message());
  if (resp->status == 404) return NotFound(path + " is not in the artifact store");
  if (resp->status != 200)
    return Unavailable("download of " + path + " answered " + std::to_string(resp->status));
  return std::move(resp->body);
}

}  // namespace tamga
