// AuthService: browser sessions (docs/security.md, "Browser sign-in"). Stored in the identity store (the id
// as its SHA-256 only), so every replica serves a browser signed in through another and a restart keeps
// browsers signed in; each replica keeps a cache in memory. Last use is written behind, at most once a
// minute.
#include <openssl/crypto.h>

#include "auth/auth_service.h"
#include "auth/oidc_login.h"
#include "core/hmac.h"
#include "core/log.h"

namespace tamga {
namespace {

constexpr int64_t kTouchEveryMs = 60000;  // how often last-use times reach the store

}  // namespace

Result<AuthService::Session> AuthService::StartSession(const Principal& who) {
  if (!who.authenticated() || who.user_id.empty()) return InvalidArgument("no user to start a session for");
  int64_t user_id = 0;
  for (char c : who.user_id) {
    if (c < '0' || c > '9' || user_id > (INT64_MAX - 9) / 10) return InvalidArgument("not a user id");
    user_id = user_id * 10 + (c - '0');
  }
  int64_t now = clock_->NowMillis();
  Session out;
  out.id = RandomUrlToken(32);
  out.csrf_token = RandomUrlToken(32);
  out.expires_ms = now + options_.session_max_ms;
  if (who.expires_ms > 0) out.expires_ms = std::min(out.expires_ms, who.expires_ms);
  SessionRecord rec;
  rec.id_digest = Sha256Hex(out.id);
  rec.user_id = user_id;
  rec.csrf_token = out.csrf_token;
  rec.oidc = who.kind == Principal::Kind::kOidc;
  rec.oidc_admin = rec.oidc && who.is_admin;
  if (rec.oidc) rec.teams = who.teams;
  rec.last_seen_ms = now;
  rec.expires_ms = out.expires_ms;
  TAMGA_RETURN_IF_ERROR(store_->PutSession(rec));
  if (now - sessions_swept_ms_.load() >= kTouchEveryMs) {
    sessions_swept_ms_ = now;
    Status s = store_->DeleteEndedSessions(now, now - options_.session_idle_ms);
    if (!s.ok()) TAMGA_LOG(kWarn, "removing ended sessions failed", {{"error", s.ToString()}});
  }
  CacheSession(rec, who.kind == Principal::Kind::kOidc ? std::make_shared<const Principal>(who) : nullptr);
  return out;
}

void AuthService::CacheSession(const SessionRecord& rec, PrincipalPtr snapshot) {
  SessionState st;
  st.user_id = rec.user_id;
  st.snapshot = std::move(snapshot);
  st.csrf_token = rec.csrf_token;
  st.last_seen_ms = rec.last_seen_ms;
  st.expires_ms = rec.expires_ms;
  MutexLock l(&sessions_mu_);
  while (sessions_.size() >= options_.max_sessions) {  // a cache: the least recently used leave it
    auto lru = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_seen_ms < lru->second.last_seen_ms) lru = it;
    }
    sessions_.erase(lru);
  }
  sessions_[rec.id_digest] = std::move(st);
}

// The session from the cache, or from the store (signed in through another replica, or before a restart),
// whose last use the store also knows; nullopt when it does not exist or has ended.
std::optional<AuthService::SessionState> AuthService::FindSession(const std::string& digest, int64_t now) {
  auto live = [&](const SessionState& st) {
    return st.expires_ms > now && now - st.last_seen_ms < options_.session_idle_ms;
  };
  {
    MutexLock l(&sessions_mu_);
    auto it = sessions_.find(digest);
    if (it != sessions_.end() && live(it->second)) {
      it->second.last_seen_ms = now;
      session_use_[digest] = now;
      return it->second;
    }
  }
  auto rec = store_->GetSession(digest);
  if (!rec.ok() || !*rec) {
    MutexLock l(&sessions_mu_);
    sessions_.erase(digest);
    return std::nullopt;
  }
  PrincipalPtr snapshot;
  if ((*rec)->oidc) {
    Principal p;
    p.kind = Principal::Kind::kOidc;
    p.user_id = std::to_string((*rec)->user_id);
    {
      std::shared_lock u(mu_);
      auto user = users_.find((*rec)->user_id);
      if (user != users_.end()) p.username = user->second.username;
    }
    p.is_admin = (*rec)->oidc_admin;
    p.teams = (*rec)->teams;
    p.expires_ms = (*rec)->expires_ms;
    snapshot = std::make_shared<const Principal>(std::move(p));
  }
  SessionState st;
  st.user_id = (*rec)->user_id;
  st.snapshot = snapshot;
  st.csrf_token = (*rec)->csrf_token;
  st.last_seen_ms = (*rec)->last_seen_ms;
  st.expires_ms = (*rec)->expires_ms;
  if (!live(st)) {
    (void)store_->DeleteSession(digest);
    MutexLock l(&sessions_mu_);
    sessions_.erase(digest);
    return std::nullopt;
  }
  (*rec)->last_seen_ms = now;
  CacheSession(**rec, snapshot);
  MutexLock l(&sessions_mu_);
  session_use_[digest] = now;
  st.last_seen_ms = now;
  return st;
}

void AuthService::FlushSessionUse() {
  std::vector<std::pair<std::string, int64_t>> batch;
  {
    MutexLock l(&sessions_mu_);
    batch.assign(session_use_.begin(), session_use_.end());
    session_use_.clear();
  }
  if (batch.empty()) return;
  Status s = store_->TouchSessions(batch);
  if (!s.ok()) TAMGA_LOG(kWarn, "recording session use failed", {{"error", s.ToString()}});
}

Result<PrincipalPtr> AuthService::AuthenticateSession(std::string_view id, bool state_changing,
                                                      std::string_view csrf) {
  static const char* kEnded = "Your session has ended; sign in again.";
  if (id.empty() || id.size() > 128) return Unauthenticated(kEnded);
  int64_t now = clock_->NowMillis();
  std::optional<SessionState> found = FindSession(Sha256Hex(id), now);
  if (!found) return Unauthenticated(kEnded);
  const SessionState& st = *found;
  if (now - session_use_flushed_ms_.load() >= kTouchEveryMs) {
    session_use_flushed_ms_ = now;
    verify_pool_->TrySubmit([this] { FlushSessionUse(); });
  }
  if (state_changing && (csrf.size() != st.csrf_token.size() ||
                         CRYPTO_memcmp(csrf.data(), st.csrf_token.data(), csrf.size()) != 0)) {
    return PermissionDenied(
        "Permission denied: a change made with a session cookie needs the session's X-CSRF-Token header.");
  }
  std::shared_lock l(mu_);
  auto u = users_.find(st.user_id);
  if (u == users_.end()) return Unauthenticated(kEnded);
  if (st.snapshot) return st.snapshot;
  Principal p = PrincipalForUser(u->second, Principal::Kind::kSession);
  p.expires_ms = st.expires_ms;
  return PrincipalPtr(std::make_shared<const Principal>(std::move(p)));
}

std::string AuthService::SessionCsrf(std::string_view id) {
  if (id.empty() || id.size() > 128) return "";
  auto found = FindSession(Sha256Hex(id), clock_->NowMillis());
  return found ? found->csrf_token : "";
}

void AuthService::EndSession(std::string_view id) {
  std::string digest = Sha256Hex(id);
  Status s = store_->DeleteSession(digest);
  if (!s.ok()) TAMGA_LOG(kWarn, "ending a session in the store failed", {{"error", s.ToString()}});
  {
    MutexLock l(&sessions_mu_);
    sessions_.erase(digest);
    session_use_.erase(digest);
  }
  Announce();  // other replicas drop their cached copy
}

void AuthService::DropSessionsOf(int64_t user_id) {
  Status s = store_->DeleteSessionsOf(user_id);
  if (!s.ok()) TAMGA_LOG(kWarn, "ending a user's sessions in the store failed", {{"error", s.ToString()}});
  MutexLock l(&sessions_mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.user_id == user_id ? sessions_.erase(it) : std::next(it);
  }
}

void AuthService::DropCachedSessions() {
  MutexLock l(&sessions_mu_);
  sessions_.clear();
}

}  // namespace tamga
