#pragma once
// The `traffic` and `rollout` sections of a deployment spec (docs/rollouts.md §2): parsing with strict
// validation (unknown fields rejected, every number bounded) and its canonical JSON. Internal to
// tamga_deploy.
#include <nlohmann/json.hpp>

#include "deploy/deployment_spec.h"

namespace tamga {

Status ParseDeploymentTraffic(const nlohmann::json& j, DeploymentTraffic* out);
nlohmann::ordered_json DeploymentTrafficJson(const DeploymentTraffic& t);
Status ParsePayloadLog(const nlohmann::json& j, DeploymentSpec* spec);
Status ParseDeploymentRollout(const nlohmann::json& j, DeploymentRollout* out);
nlohmann::ordered_json DeploymentRolloutJson(const DeploymentRollout& r);

}  // namespace tamga
