#pragma once
// OidcLogin: the browser sign-in against the OIDC issuer (docs/security.md, "Browser sign-in"): OAuth 2.0
// Authorization Code with PKCE (RFC 7636, S256). Begin() remembers a random state, nonce and code verifier
// for ten minutes and returns the issuer's authorization URL; Finish() accepts each state once, exchanges the
// code with its verifier at the token endpoint and verifies the returned ID token (signature, issuer,
// audience = the client id, expiry, and the nonce it was sent with). The token POST goes through the Post
// seam (the server uses its HTTP client; tests a real issuer on loopback). Thread-safe; Finish blocks on the
// network.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "auth/oidc.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "storage/auth_store.h"

namespace tamga {

class OidcLogin {
 public:
  struct Options {
    std::string client_id;
    std::string client_secret;  // "" = a public client (PKCE alone)
    std::string redirect_uri;   // <public url>/login/callback, registered at the issuer
    std::string scopes = "openid profile email";
    int64_t pending_ttl_ms = 10 * 60 * 1000;
    size_t max_pending = 10000;  // sign-ins started and not finished; the oldest are dropped beyond
    int64_t timeout_ms = 10000;
    // Where sign-ins in progress are also kept (several replicas: the callback may reach another one); null
    // = this process only. Borrowed.
    AuthStore* store = nullptr;
  };
  // POSTs an application/x-www-form-urlencoded body; the response body on HTTP 200, else an error with the
  // status.
  using Post =
      std::function<Result<std::string>(const std::string& url, const std::string& form, int64_t timeout_ms)>;

  // `id_tokens` verifies ID tokens: the issuer's verifier with the client id as audience. Borrowed.
  OidcLogin(const Options& options, OidcVerifier* id_tokens, Post post, Clock* clock);

  // The URL to send the browser to. Unavailable when the issuer's discovery document cannot be read.
  Result<std::string> Begin(const std::string& return_to);

  struct Completed {
    OidcClaims claims;
    std::string return_to;
  };
  // InvalidArgument for an unknown, used or expired state; Unauthenticated when the issuer refuses the code
  // or the ID token does not verify; Unavailable when the issuer cannot be reached.
  Result<Completed> Finish(const std::string& state, const std::string& code);

 private:
  struct Pending {
    std::string verifier, nonce, return_to;
    int64_t expires_ms = 0;
  };
  const Options options_;
  OidcVerifier* const id_tokens_;
  Post post_;
  Clock* const clock_;
  Mutex mu_;
  std::map<std::string, Pending> pending_ GUARDED_BY(mu_);  // by state
};

// Random bytes as base64url without padding (states, nonces, verifiers, session ids).
std::string RandomUrlToken(size_t bytes);
// application/x-www-form-urlencoded escaping of one value.
std::string FormEscape(const std::string& s);

}  // namespace tamga
