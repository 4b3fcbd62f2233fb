#pragma once
// The `monitoring` and `snooze` sections of a deployment spec (docs/rollouts.md §7-8): strict parsing
// (unknown fields rejected, every number bounded) and canonical JSON. Internal to tamga_deploy.
#include <nlohmann/json.hpp>

#include "deploy/deployment_spec.h"

namespace tamga {

Status ParseDeploymentMonitoring(const nlohmann::json& j, DeploymentMonitoring* out);
nlohmann::ordered_json DeploymentMonitoringJson(const DeploymentMonitoring& m);
Status ParseDeploymentSnooze(const nlohmann::json& j, DeploymentSnooze* out);
nlohmann::ordered_json DeploymentSnoozeJson(const DeploymentSnooze& s);

}  // namespace tamga
