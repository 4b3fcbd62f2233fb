// AuthService: browser sessions (docs/security.md, "Browser sign-in"). Held in memory: a restart signs
// browsers out (they sign in again); tokens and passwords are unaffected.
#include <openssl/crypto.h>

#include "auth/auth_service.h"
#include "auth/oidc_login.h"
#include "core/hmac.h"

namespace tamga {

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
  SessionState st;
  st.user_id = user_id;
  if (who.kind == Principal::Kind::kOidc) st.snapshot = std::make_shared<const Principal>(who);
  st.csrf_token = out.csrf_token;
  st.last_seen_ms = now;
  st.expires_ms = out.expires_ms;
  MutexLock l(&sessions_mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool ended = it->second.expires_ms <= now || now - it->second.last_seen_ms >= options_.session_idle_ms;
    it = ended ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= options_.max_sessions) {
    auto lru = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_seen_ms < lru->second.last_seen_ms) lru = it;
    }
    sessions_.erase(lru);
  }
  sessions_[Sha256Hex(out.id)] = std::move(st);
  return out;
}

Result<PrincipalPtr> AuthService::AuthenticateSession(std::string_view id, bool state_changing,
                                                      std::string_view csrf) {
  static const char* kEnded = "Your session has ended; sign in again.";
  if (id.empty() || id.size() > 128) return Unauthenticated(kEnded);
  int64_t now = clock_->NowMillis();
  SessionState st;
  {
    MutexLock l(&sessions_mu_);
    auto it = sessions_.find(Sha256Hex(id));
    if (it == sessions_.end()) return Unauthenticated(kEnded);
    if (it->second.expires_ms <= now || now - it->second.last_seen_ms >= options_.session_idle_ms) {
      sessions_.erase(it);
      return Unauthenticated(kEnded);
    }
    it->second.last_seen_ms = now;
    st = it->second;
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
  MutexLock l(&sessions_mu_);
  auto it = sessions_.find(Sha256Hex(id));
  return it == sessions_.end() ? "" : it->second.csrf_token;
}

void AuthService::EndSession(std::string_view id) {
  MutexLock l(&sessions_mu_);
  sessions_.erase(Sha256Hex(id));
}

void AuthService::DropSessionsOf(int64_t user_id) {
  MutexLock l(&sessions_mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.user_id == user_id ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace tamga
