#pragma once
// Permissions on objects (docs/identity.md), MLflow's names and order: NO_PERMISSIONS < READ < EDIT < MANAGE.
// Pure; thread-safe.
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

enum class Permission { kNoPermissions = 0, kRead = 1, kEdit = 2, kManage = 3 };

// The kinds of object a permission is granted on; their wire names are the grants' object_kind.
// kCapability: an admin-granted right that is not about one object (object id = the capability's name,
// kCapabilityRunCode); held with any grant above NO_PERMISSIONS, never through the default permission.
enum class ObjectKind { kExperiment, kRegisteredModel, kQueue, kDeployment, kWebhook, kCapability, kDataset };

// Deploying with `target: local` runs a model's code inside the server process.
inline constexpr const char* kCapabilityRunCode = "run_code_on_server";
// Choosing where and what a rendered deployment runs in the cluster (namespace, image, the Secret its token
// comes from, ingress host/class, the tracking URI the pod sends that token to).
inline constexpr const char* kCapabilityConfigureKubernetes = "configure_kubernetes";

const char* PermissionName(Permission p);
// InvalidArgument naming the accepted values for anything else.
Result<Permission> ParsePermission(std::string_view name);
const char* ObjectKindName(ObjectKind k);
Result<ObjectKind> ParseObjectKind(std::string_view name);

inline bool Allows(Permission held, Permission needed) {
  return static_cast<int>(held) >= static_cast<int>(needed);
}

}  // namespace tamga
