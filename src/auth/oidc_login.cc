#include "auth/oidc_login.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "auth/tokens.h"
#include "core/hmac.h"
#include "core/json_parse.h"

namespace tamga {

std::string RandomUrlToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no randomness");
  return Base64UrlNoPad(raw);
}

std::string FormEscape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

OidcLogin::OidcLogin(const Options& options, OidcVerifier* id_tokens, Post post, Clock* clock)
    : options_(options), id_tokens_(id_tokens), post_(std::move(post)), clock_(clock) {}

Result<std::string> OidcLogin::Begin(const std::string& return_to) {
  TAMGA_ASSIGN_OR_RETURN(auto endpoints, id_tokens_->LoginEndpoints());
  Pending p;
  p.verifier = RandomUrlToken(32);  // 43 characters, within RFC 7636's 43-128
  p.nonce = RandomUrlToken(16);
  p.return_to = return_to;
  p.expires_ms = clock_->NowMillis() + options_.pending_ttl_ms;
  std::string state = RandomUrlToken(24);
  std::string challenge = Base64UrlNoPad(Sha256(p.verifier));
  std::string url = endpoints.authorization;
  url += url.find('?') == std::string::npos ? "?" : "&";
  url += "response_type=code&client_id=" + FormEscape(options_.client_id) +
         "&redirect_uri=" + FormEscape(options_.redirect_uri) + "&scope=" + FormEscape(options_.scopes) +
         "&state=" + state + "&nonce=" + p.nonce + "&code_challenge=" + challenge +
         "&code_challenge_method=S256";
  MutexLock l(&mu_);
  int64_t now = clock_->NowMillis();
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second.expires_ms <= now ? pending_.erase(it) : std::next(it);
  }
  while (pending_.size() >=
         options_.max_pending) {  // a flood of started sign-ins: drop the soonest to expire
    auto oldest = pending_.begin();
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->second.expires_ms < oldest->second.expires_ms) oldest = it;
    }
    if (options_.store) (void)options_.store->TakePendingLogin(Sha256Hex(oldest->first), now);
    pending_.erase(oldest);
  }
  if (options_.store) {  // the callback may reach another replica
    PendingLoginRecord rec{Sha256Hex(state), p.verifier, p.nonce, p.return_to, p.expires_ms};
    TAMGA_RETURN_IF_ERROR(options_.store->PutPendingLogin(rec));
  }
  pending_[state] = std::move(p);
  return url;
}

Result<OidcLogin::Completed> OidcLogin::Finish(const std::string& state, const std::string& code) {
  static const char* kUnknown = "This sign-in is unknown, already used or expired; start again.";
  if (state.empty() || state.size() > 256) return InvalidArgument(kUnknown);
  Pending p;
  bool found = false;
  int64_t now = clock_->NowMillis();
  {
    MutexLock l(&mu_);
    auto it = pending_.find(state);
    if (it != pending_.end()) {
      found = it->second.expires_ms > now;
      p = std::move(it->second);
      pending_.erase(it);  // a state is good once
    }
  }
  if (options_.store) {
    // Taken from the store in any case (once, across replicas); it holds sign-ins begun on other replicas.
    auto taken = options_.store->TakePendingLogin(Sha256Hex(state), now);
    if (!taken.ok()) return taken.status();
    if (!found && *taken) {
      p.verifier = (*taken)->verifier;
      p.nonce = (*taken)->nonce;
      p.return_to = (*taken)->return_to;
      p.expires_ms = (*taken)->expires_ms;
      found = true;
    } else if (found && !*taken) {
      found = false;  // another replica finished it first
    }
  }
  if (!found) return InvalidArgument(kUnknown);
  if (code.empty() || code.size() > 4096) return InvalidArgument("The issuer sent no usable code.");
  TAMGA_ASSIGN_OR_RETURN(auto endpoints, id_tokens_->LoginEndpoints());
  std::string form = "grant_type=authorization_code&code=" + FormEscape(code) +
                     "&redirect_uri=" + FormEscape(options_.redirect_uri) +
                     "&client_id=" + FormEscape(options_.client_id) + "&code_verifier=" + p.verifier;
  if (!options_.client_secret.empty()) form += "&client_secret=" + FormEscape(options_.client_secret);
  auto body = post_(endpoints.token, form, options_.timeout_ms);
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kUnavailable) return body.status();
    return Unauthenticated("The issuer refused the sign-in code.");
  }
  auto parsed = ParseJson(*body);
  if (!parsed.ok() || !parsed->is_object() || !parsed->contains("id_token") ||
      !(*parsed)["id_token"].is_string())
    return Unauthenticated("The issuer's token answer has no id_token.");
  std::string id_token = (*parsed)["id_token"].get<std::string>();
  TAMGA_ASSIGN_OR_RETURN(OidcClaims claims, id_tokens_->Verify(id_token));
  if (claims.nonce != p.nonce)
    return Unauthenticated("The ID token was not issued for this sign-in (nonce).");
  return Completed{std::move(claims), std::move(p.return_to)};
}

}  // namespace tamga
