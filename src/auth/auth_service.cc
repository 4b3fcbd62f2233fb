#include "auth/auth_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "auth/credentials.h"
#include "auth/oidc_login.h"
#include "auth/password_hash.h"
#include "auth/tokens.h"
#include "core/log.h"

namespace tamga {
namespace {

// The secret is written once, readable by the server's user only; the log names the file, never the secret.
Status WriteSecretFile(const std::string& path, const std::string& secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Internal("cannot write " + path);
  (void)::fchmod(fd, 0600);
  std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Internal("cannot write " + path);
}

}  // namespace

bool AuthService::Visibility::Allows(const std::string& id) const {
  bool listed = std::find(ids.begin(), ids.end(), id) != ids.end();
  switch (mode) {
    case Mode::kAll:
      return true;
    case Mode::kOnly:
      return listed;
    case Mode::kAllExcept:
      return !listed;
  }
  return false;
}

AuthService::AuthService(const Options& options, AuthStore* store, Clock* clock)
    : options_(options), store_(store), clock_(clock), cache_(options.cache_ttl_ms) {
  verify_pool_ = std::make_unique<BoundedExecutor>(
      BoundedExecutor::Options{"auth-verify", std::max(1, options.verify_threads), options.verify_queue});
  audit_ = std::make_unique<AuditLog>(AuditLog::Options{}, store, clock);
  internal_token_ = NewAccessToken();
  internal_digest_ = TokenDigest(internal_token_);
}

AuthService::~AuthService() {
  verify_pool_.reset();  // finishes queued checks while the maps still exist
  FlushTokenUse();
  FlushSessionUse();
}

Result<std::unique_ptr<AuthService>> AuthService::Create(const Options& options, AuthStore* store,
                                                         Clock* clock) {
  std::unique_ptr<AuthService> s(new AuthService(options, store, clock));
  TAMGA_RETURN_IF_ERROR(s->Load());
  TAMGA_ASSIGN_OR_RETURN(s->login_form_key_, store->SharedSecret("login_form", RandomUrlToken(32)));
  TAMGA_RETURN_IF_ERROR(s->Bootstrap());
  return s;
}

Status AuthService::Load() {
  TAMGA_ASSIGN_OR_RETURN(auto users, store_->ListUsers());
  TAMGA_ASSIGN_OR_RETURN(auto tokens, store_->ListTokens());
  TAMGA_ASSIGN_OR_RETURN(auto grants, store_->ListGrants());
  TAMGA_ASSIGN_OR_RETURN(auto members, store_->ListTeamMembers());
  std::unique_lock l(mu_);
  teams_of_.clear();
  users_.clear();
  user_ids_.clear();
  tokens_.clear();
  grants_.clear();
  by_subject_.clear();
  for (auto& m : members) teams_of_[m.user_id][m.team] = m.role;
  for (auto& u : users) {
    user_ids_[u.username] = u.id;
    users_[u.id] = std::move(u);
  }
  for (auto& t : tokens) tokens_[t.digest] = std::move(t);
  for (auto& g : grants) {
    auto p = ParsePermission(g.permission);
    if (!p.ok()) continue;
    std::string subject = (g.subject_kind == "team" ? "t:" : "u:") + g.subject_id;
    grants_[{g.object_kind, g.object_id}][subject] = *p;
    by_subject_[subject].insert({g.object_kind, g.object_id});
  }
  return Status::Ok();
}

Status AuthService::Reload() {
  TAMGA_RETURN_IF_ERROR(Load());
  generation_.fetch_add(1);
  cache_.Invalidate();
  // Sessions another replica ended (sign-out, password change, user deleted) are read from the store again.
  DropCachedSessions();
  return Status::Ok();
}

Status AuthService::Bootstrap() {
  {
    std::shared_lock l(mu_);
    if (!users_.empty()) {
      if (!options_.admin_password.empty()) {
        TAMGA_LOG(kInfo,
                  "TAMGA_ADMIN_PASSWORD is ignored: users exist already (change passwords through the API)");
      }
      return Status::Ok();
    }
  }
  std::string password = options_.admin_password;
  bool generated = password.empty();
  if (generated) password = NewAccessToken().substr(kTokenPrefix.size(), 24);
  auto created = CreateUser(options_.admin_username, password, /*is_admin=*/true);
  if (!created.ok()) return Internal("cannot create the admin user: " + created.status().message());
  if (generated) {
    if (options_.initial_password_file.empty()) return Internal("no file for the generated admin password");
    TAMGA_RETURN_IF_ERROR(WriteSecretFile(options_.initial_password_file, password));
    TAMGA_LOG(kWarn,
              "created the admin user with a generated password; read it from the file, then change it",
              {{"username", options_.admin_username}, {"password_file", options_.initial_password_file}});
  } else {
    TAMGA_LOG(kInfo, "created the admin user from TAMGA_ADMIN_USERNAME/TAMGA_ADMIN_PASSWORD",
              {{"username", options_.admin_username}});
  }
  return Status::Ok();
}

void AuthService::Changed() {
  generation_.fetch_add(1);
  cache_.Invalidate();
  Announce();
}

void AuthService::Announce() {
  if (options_.on_changed) options_.on_changed();
}

// ---------------------------------------------------------------- authentication

Principal AuthService::PrincipalForUser(const UserRecord& u, Principal::Kind kind) const {
  Principal p;
  p.kind = kind;
  p.user_id = std::to_string(u.id);
  p.username = u.username;
  p.is_admin = u.is_admin;
  if (auto it = teams_of_.find(u.id); it != teams_of_.end()) {
    for (const auto& [team, role] : it->second) p.teams.push_back(team);
  }
  return p;
}

Result<Principal> AuthService::PrincipalForToken(std::string_view secret) {
  std::string digest = TokenDigest(secret);
  int64_t now = clock_->NowMillis();
  if (digest == internal_digest_) {
    Principal p;
    p.kind = Principal::Kind::kToken;
    p.username = "tamga-internal";
    p.is_admin = true;
    return p;
  }
  std::unique_lock l(mu_);
  auto it = tokens_.find(digest);
  if (it == tokens_.end()) return Unauthenticated("The access token is not valid (unknown or revoked).");
  const TokenRecord& t = it->second;
  if (t.expires_ms != 0 && t.expires_ms <= now) return Unauthenticated("The access token has expired.");
  auto u = users_.find(t.user_id);
  if (u == users_.end()) return Unauthenticated("The access token's user no longer exists.");
  Principal p =
      PrincipalForUser(u->second, t.role == "agent" ? Principal::Kind::kAgent : Principal::Kind::kToken);
  p.token_id = t.id;
  p.expires_ms = t.expires_ms;
  if (t.role == "agent") {
    p.is_admin = false;  // an agent token acts only on agent routes, whoever created it
    size_t start = 0;
    while (start < t.queues.size()) {
      size_t comma = t.queues.find(',', start);
      if (comma == std::string::npos) comma = t.queues.size();
      if (comma > start) p.agent_queues.push_back(t.queues.substr(start, comma - start));
      start = comma + 1;
    }
  }
  token_use_[t.id] = now;
  return p;
}

Result<Principal> AuthService::VerifyPassword(const std::string& username, const std::string& password) {
  UserRecord u;
  {
    std::shared_lock l(mu_);
    auto id = user_ids_.find(username);
    if (id != user_ids_.end()) u = users_.at(id->second);
  }
  // Unknown users pay a verification too, so timing does not tell which names exist.
  static const std::string kDummy = *HashPassword("tamga-dummy-password", ScryptParams{});
  bool ok = ::tamga::VerifyPassword(password, u.password_hash.empty() ? kDummy : u.password_hash);
  if (!ok || u.id == 0 || u.password_hash.empty()) return Unauthenticated("Invalid username or password.");
  std::shared_lock l(mu_);
  return PrincipalForUser(u, Principal::Kind::kUser);
}

std::optional<Result<PrincipalPtr>> AuthService::AuthenticateFast(std::string_view header) {
  int64_t now = clock_->NowMillis();
  if (header.empty()) {
    return Result<PrincipalPtr>(Unauthenticated(
        "You are not authenticated. Please see the documentation for how to authenticate (HTTP Basic with a "
        "username and password or access token, or a Bearer token)."));
  }
  if (PrincipalPtr hit = cache_.Lookup(header, now); hit && (hit->expires_ms == 0 || hit->expires_ms > now)) {
    return Result<PrincipalPtr>(std::move(hit));
  }
  auto cred = ParseAuthorization(header);
  if (!cred.ok()) return Result<PrincipalPtr>(cred.status());
  uint64_t gen = generation_.load();
  if (LooksLikeAccessToken(cred->secret)) {
    auto p = PrincipalForToken(cred->secret);
    if (!p.ok()) return Result<PrincipalPtr>(p.status());
    if (cred->kind == Credential::Kind::kBasic && cred->username != p->username) {
      return Result<PrincipalPtr>(Unauthenticated("Invalid username or password."));
    }
    auto shared = std::make_shared<const Principal>(std::move(*p));
    if (generation_.load() == gen) cache_.Insert(header, shared, now);
    if (now - token_use_flushed_ms_.load() > 10000) {
      token_use_flushed_ms_.store(now);
      verify_pool_->TrySubmit([this] { FlushTokenUse(); });
    }
    return Result<PrincipalPtr>(std::move(shared));
  }
  if (cred->kind == Credential::Kind::kBearer && options_.oidc == nullptr) {
    return Result<PrincipalPtr>(
        Unauthenticated("The Bearer token is not a Tamga access token, and no OIDC issuer "
                        "is configured to verify it."));
  }
  return std::nullopt;  // a password or an OIDC token: verified on the pool
}

void AuthService::Authenticate(std::string_view header, std::function<void(Result<PrincipalPtr>)> done) {
  if (auto fast = AuthenticateFast(header)) return done(std::move(*fast));
  auto cred = ParseAuthorization(header);  // parsed again: it succeeded in AuthenticateFast
  if (!cred.ok()) return done(cred.status());
  uint64_t gen = generation_.load();
  auto shared_done = std::make_shared<std::function<void(Result<PrincipalPtr>)>>(std::move(done));
  bool queued = verify_pool_->TrySubmit(
      [this, header = std::string(header), cred = std::move(*cred), gen, shared_done]() {
        Result<Principal> p = Internal("authentication failed");
        try {  // the request must get its answer whatever happens here
          p = cred.kind == Credential::Kind::kBearer ? PrincipalForOidc(cred.secret)
                                                     : VerifyPassword(cred.username, cred.secret);
        } catch (const std::exception& e) {
          TAMGA_LOG(kError, "authentication threw", {{"error", e.what()}});
        }
        if (!p.ok()) return (*shared_done)(p.status());
        auto shared = std::make_shared<const Principal>(std::move(*p));
        if (generation_.load() == gen) cache_.Insert(header, shared, clock_->NowMillis());
        (*shared_done)(std::move(shared));
      });
  if (!queued) {
    (*shared_done)(Status(StatusCode::kResourceExhausted,
                          "Too many password checks in progress; retry shortly, or use an access token."));
  }
}

Result<Principal> AuthService::PrincipalForOidc(std::string_view jwt) {
  TAMGA_ASSIGN_OR_RETURN(OidcClaims claims, options_.oidc->Verify(jwt));
  return PrincipalForOidcClaims(claims);
}

Result<Principal> AuthService::PrincipalForOidcClaims(const OidcClaims& claims) {
  for (unsigned char c : claims.username) {
    if (c < 0x20 || c == 0x7f || c == ':')
      return Unauthenticated("The OIDC username has ':' or control characters.");
  }
  if (claims.username.size() > 256) return Unauthenticated("The OIDC username is longer than 256 bytes.");
  if (claims.username == "tamga-internal" || claims.username.front() == ' ' ||
      claims.username.back() == ' ') {
    return Unauthenticated("The OIDC username '" + claims.username +
                           "' is reserved or begins or ends with a space.");
  }
  UserRecord u;
  {
    std::shared_lock l(mu_);
    auto id = user_ids_.find(claims.username);
    if (id != user_ids_.end()) u = users_.at(id->second);
  }
  if (u.id == 0) {  // first sight: provision
    UserRecord fresh;
    fresh.username = claims.username;
    fresh.source = "oidc";
    fresh.created_ms = clock_->NowMillis();
    auto created = store_->CreateUser(fresh);
    if (created.ok()) {
      u = *created;
      std::unique_lock l(mu_);
      user_ids_[u.username] = u.id;
      users_[u.id] = u;
      TAMGA_LOG(kInfo, "provisioned a user from OIDC", {{"username", u.username}});
      Announce();
    } else {
      // Made by a concurrent request, here or on another replica (then not loaded here yet).
      if (created.status().code() == StatusCode::kAlreadyExists) (void)Reload();
      std::shared_lock l(mu_);
      auto id = user_ids_.find(claims.username);
      if (id == user_ids_.end()) return created.status();
      u = users_.at(id->second);
    }
  }
  // A name that differs from a local user's only in letter case would pass for that user in listings and
  // logs.
  auto lower = [](std::string v) {
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  if (u.source == "oidc") {
    std::shared_lock l(mu_);
    for (const auto& [id, other] : users_) {
      if (other.source != "oidc" && lower(other.username) == lower(u.username)) {
        return Unauthenticated("The OIDC user '" + claims.username + "' differs from the local user '" +
                               other.username + "' only in letter case; an admin must rename one of them.");
      }
    }
  }
  if (u.source != "oidc") {
    return Unauthenticated("The OIDC user '" + claims.username +
                           "' has the name of a local user; an admin must rename or delete one of them.");
  }
  Principal p;
  {
    std::shared_lock l(mu_);
    p = PrincipalForUser(u, Principal::Kind::kOidc);  // local memberships, then the token's groups
  }
  for (const auto& g : claims.groups) {
    if (std::find(p.teams.begin(), p.teams.end(), g) == p.teams.end()) p.teams.push_back(g);
  }
  p.expires_ms = claims.expires_ms;
  if (!options_.oidc_admin_group.empty()) {
    for (const auto& g : claims.groups) p.is_admin = p.is_admin || g == options_.oidc_admin_group;
  }
  return p;
}

void AuthService::FlushTokenUse() {
  std::vector<std::pair<std::string, int64_t>> use;
  {
    std::unique_lock l(mu_);
    for (auto& [id, ms] : token_use_) use.emplace_back(id, ms);
    token_use_.clear();
    for (auto& [digest, t] : tokens_) {
      for (auto& [id, ms] : use) {
        if (t.id == id) t.last_used_ms = std::max(t.last_used_ms, ms);
      }
    }
  }
  if (use.empty()) return;
  Status s = store_->TouchTokens(use);
  if (!s.ok()) TAMGA_LOG(kWarn, "token last-use not recorded", {{"error", s.ToString()}});
}

}  // namespace tamga
