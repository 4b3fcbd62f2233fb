// AuthService: local teams and grants to users or teams on any object (Tamga's permissions API). As
// elsewhere: the store first, then the in-memory maps, then the verified-credential cache is dropped.
#include <algorithm>
#include <mutex>

#include "auth/auth_service.h"
#include "core/ids.h"

namespace tamga {
namespace {

Status CheckTeamName(const std::string& team) {
  if (team.empty() || team.size() > 256) return InvalidArgument("A team name is 1 to 256 bytes.");
  for (unsigned char c : team) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("A team name may not contain control characters.");
  }
  return Status::Ok();
}

}  // namespace

Status AuthService::SetGrant(ObjectKind kind, const std::string& object_id, const Subject& to, Permission p) {
  if (object_id.empty() || object_id.size() > 512) return InvalidArgument("object_id is 1 to 512 bytes.");
  GrantRecord g{ObjectKindName(kind), object_id, to.team ? "team" : "user", "", PermissionName(p)};
  if (to.team) {
    TAMGA_RETURN_IF_ERROR(CheckTeamName(to.name));
    g.subject_id = to.name;
  } else {
    TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(to.name));
    g.subject_id = std::to_string(u.id);
  }
  TAMGA_RETURN_IF_ERROR(store_->PutGrant(g));
  std::string subject = (to.team ? "t:" : "u:") + g.subject_id;
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}][subject] = p;
    by_subject_[subject].insert({g.object_kind, object_id});
  }
  Changed();
  return Status::Ok();
}

Status AuthService::RemoveGrant(ObjectKind kind, const std::string& object_id, const Subject& from) {
  GrantRecord g{ObjectKindName(kind), object_id, from.team ? "team" : "user", from.name, ""};
  if (!from.team) {
    TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(from.name));
    g.subject_id = std::to_string(u.id);
  }
  TAMGA_RETURN_IF_ERROR(store_->DeleteGrant(g));
  std::string subject = (from.team ? "t:" : "u:") + g.subject_id;
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}].erase(subject);
    by_subject_[subject].erase({g.object_kind, object_id});
  }
  Changed();
  return Status::Ok();
}

std::vector<AuthService::GrantView> AuthService::GrantsOn(ObjectKind kind,
                                                          const std::string& object_id) const {
  std::vector<GrantView> out;
  std::shared_lock l(mu_);
  auto it = grants_.find({ObjectKindName(kind), object_id});
  if (it == grants_.end()) return out;
  for (const auto& [subject, p] : it->second) {
    std::string id = subject.substr(2);
    if (subject[0] == 't') {
      out.push_back({"team", id, PermissionName(p)});
      continue;
    }
    int64_t user_id = 0;
    if (!ParseDecimalId(id, &user_id)) continue;  // a hand-edited row: skipped, never thrown
    auto u = users_.find(user_id);
    if (u != users_.end()) out.push_back({"user", u->second.username, PermissionName(p)});
  }
  return out;
}

Status AuthService::SetTeamMember(const std::string& team, const std::string& username,
                                  const std::string& role) {
  TAMGA_RETURN_IF_ERROR(CheckTeamName(team));
  if (role != "member" && role != "maintainer")
    return InvalidArgument("A team role is 'member' or 'maintainer'.");
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  TAMGA_RETURN_IF_ERROR(store_->PutTeamMember({team, u.id, role}));
  {
    std::unique_lock l(mu_);
    teams_of_[u.id][team] = role;
  }
  Changed();
  return Status::Ok();
}

Status AuthService::RemoveTeamMember(const std::string& team, const std::string& username) {
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  TAMGA_RETURN_IF_ERROR(store_->DeleteTeamMember(team, u.id));
  {
    std::unique_lock l(mu_);
    teams_of_[u.id].erase(team);
  }
  Changed();
  return Status::Ok();
}

std::vector<AuthService::TeamMember> AuthService::TeamMembers(const std::string& team) const {
  std::vector<TeamMember> out;
  std::shared_lock l(mu_);
  for (const auto& [user_id, teams] : teams_of_) {
    auto u = users_.find(user_id);
    if (u == users_.end()) continue;
    for (const auto& [name, role] : teams) {
      if (team.empty() || name == team) out.push_back({name, u->second.username, role});
    }
  }
  std::sort(out.begin(), out.end(), [](const TeamMember& a, const TeamMember& b) {
    return a.team != b.team ? a.team < b.team : a.username < b.username;
  });
  return out;
}

bool AuthService::MayManageTeam(const Principal& who, const std::string& team) const {
  if (who.is_admin) return true;
  if (who.user_id.empty()) return false;
  std::shared_lock l(mu_);
  int64_t user_id = 0;
  if (!ParseDecimalId(who.user_id, &user_id)) return false;
  auto it = teams_of_.find(user_id);
  if (it == teams_of_.end()) return false;
  auto role = it->second.find(team);
  return role != it->second.end() && role->second == "maintainer";
}

}  // namespace tamga
