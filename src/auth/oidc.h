#pragma once
// OidcVerifier (docs/identity.md): verifies OIDC access tokens (JWTs) from one issuer — Keycloak, Dex, Entra,
// Google. The issuer's discovery document names its JWKS; keys are cached by `kid` and the set is fetched
// again when a token names an unknown kid (key rotation), at most once per `refresh_interval_ms`. Signatures
// are checked with OpenSSL's EVP API, RS256 and ES256 only, and the algorithm is taken from *our* key (an RSA
// key verifies RS256, a P-256 key ES256), never from the token: `alg: none` and HS256 signed with the public
// key as a secret are refused. Claims: `iss` equal to the issuer, `aud` containing the audience (string or
// list), `exp` required, `nbf`/`exp` with `leeway_s`. Thread-safe; Verify may block on a fetch (call it off
// I/O threads).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"

namespace tamga {

inline constexpr size_t kMaxJwtBytes = 8192;

struct OidcClaims {
  std::string subject;   // sub
  std::string username;  // the username claim, else email, else sub
  std::vector<std::string> groups;
  int64_t expires_ms = 0;
  std::string nonce;  // ID tokens of the browser sign-in
};

class OidcVerifier {
 public:
  struct Options {
    std::string issuer;    // https://keycloak.example/realms/ml (exactly as in the tokens' iss)
    std::string audience;  // required in aud; "" = not checked (not recommended)
    std::string username_claim = "preferred_username";
    std::string groups_claim = "groups";  // a dotted path: "realm_access.roles" for Keycloak realm roles
    int leeway_s = 60;
    int64_t refresh_interval_ms = 30000;
    int64_t fetch_timeout_ms = 5000;
  };
  // Fetches GET <url> and returns the body (the network seam; tests use a real issuer over loopback).
  using Fetch = std::function<Result<std::string>(const std::string& url, int64_t timeout_ms)>;

  OidcVerifier(const Options& options, Fetch fetch, Clock* clock);
  ~OidcVerifier();

  // Unauthenticated for any token that is malformed, unsigned, signed by an unknown key or with another
  // algorithm, expired, not yet valid, or for another issuer or audience; Unavailable when the issuer cannot
  // be reached and no cached key verifies the token.
  Result<OidcClaims> Verify(std::string_view token);
  // Fetches the discovery document and the keys now (start-up check); errors say what is wrong.
  Status Refresh();
  // The discovery document's authorization and token endpoints (the browser sign-in); fetched on first use.
  struct Endpoints {
    std::string authorization, token;
  };
  Result<Endpoints> LoginEndpoints();

  // The parts of a compact JWS, for the fuzz target: header and payload JSON, signing input, signature bytes.
  struct Parts {
    std::string header_json, payload_json, signing_input, signature;
  };
  static Result<Parts> Split(std::string_view token);

 private:
  struct Key;
  Status RefreshLocked() REQUIRES(mu_);
  const Options options_;
  Fetch fetch_;
  Clock* const clock_;
  Mutex mu_;
  std::string jwks_uri_ GUARDED_BY(mu_);
  Endpoints endpoints_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Key>> keys_ GUARDED_BY(mu_);  // by kid
  int64_t last_fetch_ms_ GUARDED_BY(mu_) = 0;
  bool fetched_ GUARDED_BY(mu_) = false;
};

}  // namespace tamga
