#pragma once
// The Authorization header our clients send (CLI, agent, `tamga serve --tracking-uri`): an explicit token
// (--token), else TAMGA_TOKEN, else MLflow's variables as the mlflow client reads them —
// MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD (HTTP Basic) win over MLFLOW_TRACKING_TOKEN (Bearer).
// "" when none is set. Never logged.
#include <string>

namespace tamga {

std::string ClientAuthorization(const std::string& explicit_token = "");

}  // namespace tamga
