#include "auth/permissions.h"

namespace tamga {

const char* PermissionName(Permission p) {
  switch (p) {
    case Permission::kNoPermissions:
      return "NO_PERMISSIONS";
    case Permission::kRead:
      return "READ";
    case Permission::kEdit:
      return "EDIT";
    case Permission::kManage:
      return "MANAGE";
  }
  return "NO_PERMISSIONS";
}

Result<Permission> ParsePermission(std::string_view name) {
  if (name == "READ") return Permission::kRead;
  if (name == "EDIT") return Permission::kEdit;
  if (name == "MANAGE") return Permission::kManage;
  if (name == "NO_PERMISSIONS") return Permission::kNoPermissions;
  std::string shown(name.substr(0, 64));
  return InvalidArgument("Invalid permission '" + shown +
                         "'. Valid permissions are: ['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS']");
}

const char* ObjectKindName(ObjectKind k) {
  switch (k) {
    case ObjectKind::kExperiment:
      return "experiment";
    case ObjectKind::kRegisteredModel:
      return "registered_model";
    case ObjectKind::kQueue:
      return "queue";
    case ObjectKind::kDeployment:
      return "deployment";
    case ObjectKind::kWebhook:
      return "webhook";
    case ObjectKind::kCapability:
      return "capability";
    case ObjectKind::kDataset:
      return "dataset";
  }
  return "experiment";
}

Result<ObjectKind> ParseObjectKind(std::string_view name) {
  for (ObjectKind k :
       {ObjectKind::kExperiment, ObjectKind::kRegisteredModel, ObjectKind::kQueue, ObjectKind::kDeployment,
        ObjectKind::kWebhook, ObjectKind::kCapability, ObjectKind::kDataset}) {
    if (name == ObjectKindName(k)) return k;
  }
  return InvalidArgument("Invalid object kind '" + std::string(name.substr(0, 64)) +
                         "'. Valid kinds are: experiment, registered_model, queue, deployment, webhook, "
                         "capability, dataset");
}

}  // namespace tamga
