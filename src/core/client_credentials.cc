#include "core/client_credentials.h"

#include <cstdlib>

#include "core/json_writer.h"

namespace tamga {

std::string ClientAuthorization(const std::string& explicit_token) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  if (!explicit_token.empty()) return "Bearer " + explicit_token;
  if (std::string t = env("TAMGA_TOKEN"); !t.empty()) return "Bearer " + t;
  std::string user = env("MLFLOW_TRACKING_USERNAME"), password = env("MLFLOW_TRACKING_PASSWORD");
  if (!user.empty() && !password.empty()) return "Basic " + Base64Encode(user + ":" + password);
  if (std::string t = env("MLFLOW_TRACKING_TOKEN"); !t.empty()) return "Bearer " + t;
  return "";
}

}  // namespace tamga
