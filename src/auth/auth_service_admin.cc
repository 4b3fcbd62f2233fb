// AuthService: users, grants and tokens (the write side). Every change goes to the store first, then to the
// in-memory maps, then drops the verified-credential cache.
#include <algorithm>
#include <filesystem>
#include <mutex>

#include "auth/auth_service.h"
#include "auth/password_hash.h"
#include "auth/tokens.h"
#include "core/hmac.h"
#include "core/log.h"

namespace tamga {
namespace {

std::string UserSubject(int64_t id) { return "u:" + std::to_string(id); }

Status CheckUsername(const std::string& name) {
  if (name.empty()) return InvalidArgument("Missing value for required parameter 'username'.");
  if (name.size() > 256) return InvalidArgument("Username is longer than 256 bytes.");
  if (name == "tamga-internal") return InvalidArgument("The username 'tamga-internal' is reserved.");
  if (name.front() == ' ' || name.back() == ' ')
    return InvalidArgument("A username may not begin or end with a space.");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == ':')
      return InvalidArgument("Username may not contain ':' or control characters.");
  }
  return Status::Ok();
}

Status CheckPassword(const std::string& password, int64_t min_length) {
  if (password.empty()) return InvalidArgument("Missing value for required parameter 'password'.");
  if (static_cast<int64_t>(password.size()) < min_length) {
    return InvalidArgument("Password must be at least " + std::to_string(min_length) + " characters long.");
  }
  if (password.size() > 1024) return InvalidArgument("Password is longer than 1024 bytes.");
  return Status::Ok();
}

Status UserNotFound(const std::string& username) {
  return NotFound("User with username=" + username.substr(0, 256) + " not found");
}

}  // namespace

// ---------------------------------------------------------------- users

Result<UserRecord> AuthService::CreateUser(const std::string& username, const std::string& password,
                                           bool is_admin) {
  TAMGA_RETURN_IF_ERROR(CheckUsername(username));
  TAMGA_RETURN_IF_ERROR(CheckPassword(password, options_.min_password_length));
  {
    std::shared_lock l(mu_);
    if (user_ids_.count(username)) return AlreadyExists("User '" + username + "' already exists.");
  }
  UserRecord u;
  u.username = username;
  TAMGA_ASSIGN_OR_RETURN(u.password_hash, HashPassword(password));
  u.is_admin = is_admin;
  u.created_ms = clock_->NowMillis();
  TAMGA_ASSIGN_OR_RETURN(u, store_->CreateUser(u));
  {
    std::unique_lock l(mu_);
    user_ids_[u.username] = u.id;
    users_[u.id] = u;
  }
  Announce();
  return u;
}

Result<UserRecord> AuthService::GetUser(const std::string& username) const {
  std::shared_lock l(mu_);
  auto id = user_ids_.find(username);
  if (id == user_ids_.end()) return UserNotFound(username);
  return users_.at(id->second);
}

std::vector<UserRecord> AuthService::ListUsers() const {
  std::shared_lock l(mu_);
  std::vector<UserRecord> out;
  for (const auto& [id, u] : users_) out.push_back(u);
  return out;
}

Status AuthService::UpdatePassword(const std::string& username, const std::string& password) {
  TAMGA_RETURN_IF_ERROR(CheckPassword(password, options_.min_password_length));
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  TAMGA_ASSIGN_OR_RETURN(u.password_hash, HashPassword(password));
  TAMGA_RETURN_IF_ERROR(store_->UpdateUser(u));
  {
    std::unique_lock l(mu_);
    users_[u.id] = u;
  }
  Changed();
  DropSessionsOf(u.id);
  // The generated first password is stale now: remove it from the data dir.
  if (u.username == options_.admin_username && !options_.initial_password_file.empty()) {
    std::error_code ec;
    if (std::filesystem::remove(options_.initial_password_file, ec)) {
      TAMGA_LOG(kInfo, "removed the initial admin password file", {{"path", options_.initial_password_file}});
    }
  }
  return Status::Ok();
}

Status AuthService::UpdateAdmin(const std::string& username, bool is_admin) {
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  if (u.is_admin && !is_admin) {
    std::shared_lock l(mu_);
    int admins = 0;
    for (const auto& [id, other] : users_) admins += other.is_admin ? 1 : 0;
    if (admins <= 1)
      return FailedPrecondition("Cannot remove the last admin; make another user admin first.");
  }
  u.is_admin = is_admin;
  TAMGA_RETURN_IF_ERROR(store_->UpdateUser(u));
  {
    std::unique_lock l(mu_);
    users_[u.id] = u;
  }
  Changed();
  return Status::Ok();
}

Status AuthService::DeleteUser(const std::string& username) {
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  if (u.is_admin) {
    std::shared_lock l(mu_);
    int admins = 0;
    for (const auto& [id, other] : users_) admins += other.is_admin ? 1 : 0;
    if (admins <= 1)
      return FailedPrecondition("Cannot delete the last admin; make another user admin first.");
  }
  TAMGA_RETURN_IF_ERROR(store_->DeleteUser(u.id));
  DropSessionsOf(u.id);
  {
    std::unique_lock l(mu_);
    users_.erase(u.id);
    user_ids_.erase(u.username);
    for (auto it = tokens_.begin(); it != tokens_.end();) {
      it = it->second.user_id == u.id ? tokens_.erase(it) : std::next(it);
    }
    std::string subject = UserSubject(u.id);
    for (const auto& key : by_subject_[subject]) grants_[key].erase(subject);
    by_subject_.erase(subject);
    teams_of_.erase(u.id);
  }
  Changed();
  return Status::Ok();
}

// ---------------------------------------------------------------- permissions

Permission AuthService::Effective(const Principal& who, ObjectKind kind, const std::string& object_id) const {
  if (who.is_admin) return Permission::kManage;
  if (!who.authenticated()) return Permission::kNoPermissions;
  std::shared_lock l(mu_);
  // Capabilities come only from an explicit grant, never from the default permission.
  const Permission fallback =
      kind == ObjectKind::kCapability ? Permission::kNoPermissions : options_.default_permission;
  auto it = grants_.find({ObjectKindName(kind), object_id});
  if (it == grants_.end() || it->second.empty()) return fallback;
  std::optional<Permission> best;
  auto consider = [&](const std::string& subject) {
    auto g = it->second.find(subject);
    if (g != it->second.end() && (!best || static_cast<int>(g->second) > static_cast<int>(*best)))
      best = g->second;
  };
  consider("u:" + who.user_id);
  for (const auto& team : who.teams) consider("t:" + team);
  return best ? *best : fallback;
}

AuthService::Visibility AuthService::Readable(const Principal& who, ObjectKind kind) const {
  Visibility v;
  if (who.is_admin) return v;
  bool default_reads = Allows(options_.default_permission, Permission::kRead);
  v.mode = default_reads ? Visibility::Mode::kAllExcept : Visibility::Mode::kOnly;
  if (!who.authenticated()) {
    v.mode = Visibility::Mode::kOnly;
    return v;
  }
  std::set<std::string> candidates;
  {
    std::shared_lock l(mu_);
    std::vector<std::string> subjects = {"u:" + who.user_id};
    for (const auto& t : who.teams) subjects.push_back("t:" + t);
    const std::string kind_name = ObjectKindName(kind);
    for (const auto& s : subjects) {
      auto it = by_subject_.find(s);
      if (it == by_subject_.end()) continue;
      for (const auto& [k, id] : it->second) {
        if (k == kind_name) candidates.insert(id);
      }
    }
  }
  for (const auto& id : candidates) {
    bool reads = Allows(Effective(who, kind, id), Permission::kRead);
    if (reads != default_reads) v.ids.push_back(id);
  }
  return v;
}

Result<GrantRecord> AuthService::GetGrant(ObjectKind kind, const std::string& object_id,
                                          const std::string& username) const {
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  std::shared_lock l(mu_);
  auto it = grants_.find({ObjectKindName(kind), object_id});
  if (it != grants_.end()) {
    auto g = it->second.find(UserSubject(u.id));
    if (g != it->second.end()) {
      return GrantRecord{ObjectKindName(kind), object_id, "user", std::to_string(u.id),
                         PermissionName(g->second)};
    }
  }
  return NotFound(std::string(kind == ObjectKind::kExperiment ? "Experiment" : "Registered model") +
                  " permission with " + (kind == ObjectKind::kExperiment ? "experiment_id=" : "name=") +
                  object_id.substr(0, 256) + " and username=" + username.substr(0, 256) + " not found");
}

Result<GrantRecord> AuthService::CreateGrant(ObjectKind kind, const std::string& object_id,
                                             const std::string& username, Permission p) {
  TAMGA_ASSIGN_OR_RETURN(UserRecord u, GetUser(username));
  if (GetGrant(kind, object_id, username).ok()) {
    return AlreadyExists(std::string(kind == ObjectKind::kExperiment ? "Experiment" : "Registered model") +
                         " permission (" + object_id.substr(0, 256) + ", " + username + ") already exists.");
  }
  GrantRecord g{ObjectKindName(kind), object_id, "user", std::to_string(u.id), PermissionName(p)};
  TAMGA_RETURN_IF_ERROR(store_->PutGrant(g));
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}][UserSubject(u.id)] = p;
    by_subject_[UserSubject(u.id)].insert({g.object_kind, object_id});
  }
  Changed();
  return g;
}

Status AuthService::UpdateGrant(ObjectKind kind, const std::string& object_id, const std::string& username,
                                Permission p) {
  TAMGA_ASSIGN_OR_RETURN(GrantRecord g, GetGrant(kind, object_id, username));
  g.permission = PermissionName(p);
  TAMGA_RETURN_IF_ERROR(store_->PutGrant(g));
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}]["u:" + g.subject_id] = p;
  }
  Changed();
  return Status::Ok();
}

Status AuthService::DeleteGrant(ObjectKind kind, const std::string& object_id, const std::string& username) {
  TAMGA_ASSIGN_OR_RETURN(GrantRecord g, GetGrant(kind, object_id, username));
  TAMGA_RETURN_IF_ERROR(store_->DeleteGrant(g));
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}].erase("u:" + g.subject_id);
    by_subject_["u:" + g.subject_id].erase({g.object_kind, object_id});
  }
  Changed();
  return Status::Ok();
}

void AuthService::GrantCreator(const Principal& who, ObjectKind kind, const std::string& object_id) {
  if (!who.authenticated() || who.user_id.empty()) return;
  GrantRecord g{ObjectKindName(kind), object_id, "user", who.user_id, PermissionName(Permission::kManage)};
  if (!store_->PutGrant(g).ok()) return;
  {
    std::unique_lock l(mu_);
    grants_[{g.object_kind, object_id}]["u:" + who.user_id] = Permission::kManage;
    by_subject_["u:" + who.user_id].insert({g.object_kind, object_id});
  }
  Changed();
}

void AuthService::ForgetObject(ObjectKind kind, const std::string& object_id) {
  const std::string k = ObjectKindName(kind);
  if (!store_->DeleteObjectGrants(k, object_id).ok()) return;
  {
    std::unique_lock l(mu_);
    auto it = grants_.find({k, object_id});
    if (it == grants_.end()) return;
    for (const auto& [subject, p] : it->second) by_subject_[subject].erase({k, object_id});
    grants_.erase(it);
  }
  Changed();
}

void AuthService::RenameObject(ObjectKind kind, const std::string& from, const std::string& to) {
  const std::string k = ObjectKindName(kind);
  if (!store_->RenameGrantObject(k, from, to).ok()) return;
  std::unique_lock l(mu_);
  auto it = grants_.find({k, from});
  if (it == grants_.end()) return;
  auto moved = std::move(it->second);
  grants_.erase(it);
  for (const auto& [subject, p] : moved) {
    by_subject_[subject].erase({k, from});
    by_subject_[subject].insert({k, to});
    grants_[{k, to}][subject] = p;
  }
  l.unlock();
  Changed();
}

std::vector<GrantRecord> AuthService::GrantsOf(int64_t user_id) const {
  std::shared_lock l(mu_);
  std::vector<GrantRecord> out;
  std::string subject = UserSubject(user_id);
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return out;
  for (const auto& [kind, id] : it->second) {
    auto g = grants_.find({kind, id});
    if (g == grants_.end()) continue;
    auto p = g->second.find(subject);
    if (p != g->second.end())
      out.push_back({kind, id, "user", std::to_string(user_id), PermissionName(p->second)});
  }
  return out;
}

// ---------------------------------------------------------------- tokens

Result<AuthService::CreatedToken> AuthService::CreateToken(const CreateTokenRequest& req) {
  if (req.name.empty() || req.name.size() > 256)
    return InvalidArgument("A token needs a name of 1 to 256 bytes.");
  for (unsigned char c : req.name) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("A token name may not contain control characters.");
  }
  if (req.role != "user" && req.role != "agent")
    return InvalidArgument("A token's role is 'user' or 'agent'.");
  if (req.role == "agent" && req.queues.empty())
    return InvalidArgument("An agent token names the queues it serves.");
  for (const auto& q : req.queues) {
    if (q.empty() || q.size() > 128 || q.find(',') != std::string::npos) {
      return InvalidArgument("Queue names in a token are 1 to 128 bytes, without ','.");
    }
  }
  int64_t now = clock_->NowMillis();
  if (req.expires_ms != 0 && req.expires_ms <= now)
    return InvalidArgument("The token's expiry is in the past.");
  int64_t expires_ms =
      req.expires_ms == 0 && req.expires_in_ms > 0 ? now + req.expires_in_ms : req.expires_ms;
  {
    std::shared_lock l(mu_);
    if (!users_.count(req.user_id))
      return NotFound("User with id " + std::to_string(req.user_id) + " not found");
  }
  CreatedToken out;
  out.secret = NewAccessToken();
  TokenRecord& t = out.record;
  t.id = Sha256Hex(out.secret + "/id").substr(0, 16);
  t.user_id = req.user_id;
  t.name = req.name;
  t.digest = TokenDigest(out.secret);
  t.role = req.role;
  for (const auto& q : req.queues) t.queues += (t.queues.empty() ? "" : ",") + q;
  t.created_ms = now;
  t.expires_ms = expires_ms;
  TAMGA_RETURN_IF_ERROR(store_->PutToken(t));
  {
    std::unique_lock l(mu_);
    tokens_[t.digest] = t;
  }
  Announce();
  return out;
}

std::vector<TokenRecord> AuthService::ListTokens(std::optional<int64_t> user_id) const {
  std::shared_lock l(mu_);
  std::vector<TokenRecord> out;
  for (const auto& [digest, t] : tokens_) {
    if (!user_id || t.user_id == *user_id) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
  });
  return out;
}

Result<TokenRecord> AuthService::GetToken(const std::string& id) const {
  std::shared_lock l(mu_);
  for (const auto& [digest, t] : tokens_) {
    if (t.id == id) return t;
  }
  return NotFound("Token '" + id.substr(0, 64) + "' does not exist");
}

Status AuthService::RevokeToken(const std::string& id) {
  TAMGA_ASSIGN_OR_RETURN(TokenRecord t, GetToken(id));
  TAMGA_RETURN_IF_ERROR(store_->DeleteToken(id));
  {
    std::unique_lock l(mu_);
    tokens_.erase(t.digest);
  }
  Changed();
  return Status::Ok();
}

}  // namespace tamga
