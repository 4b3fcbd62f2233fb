// auth/oidc.h OidcVerifier::Verify on arbitrary bearer values, against a fixed JWKS (an RSA and a P-256 key)
// served by an in-memory fetch. Properties: nothing is accepted (no input carries a signature by these keys'
// private halves, which the fuzzer does not have); every refusal is Unauthenticated; Split never accepts more
// than kMaxJwtBytes or an empty signature.
#include <cstdint>
#include <string>

#include "auth/oidc.h"
#include "core/clock.h"
#include "fuzz/fuzz_input.h"

namespace {
constexpr const char* kIssuer = "https://id.example/realms/fuzz";
constexpr const char* kJwks =
    R"({"keys": [{"kty": "RSA", "key_ops": ["verify"], "n": "wbzMywyybMMGAIWEa7Wn0GWSIHYP_xQeLQrjTkcoeiFI5pHia1aZq-5NBawpUREudGTNO8YuPaOQAcck8rwS5gA4v2QDmORqBJKAi4exs3OEIj_6ppGmttV8jVPiTvJnJ-E4WyJVFxVtYvasdoZxCJApy4kv_-pjIhli3pnrjneNcxsYkEH3vZaoFqw-TMIt2A29z1tPkl-GqVnX5OJwnVGJK-3BGjTq3hWQZ3Ydz-Y4sTnLeMqQyRe0ekOvr5bA9Ny89btjKj1_HHIFrvZdB8GGFoeuGK_-F8VF4e7oNCIzmE3ncJhN0gDrfRH_3GCsK1VqNffE-SGv338DTPTNuw", "e": "AQAB", "kid": "r1", "use": "sig", "alg": "RS256"}, {"kty": "EC", "crv": "P-256", "x": "rKOZcFzwF-Qh7OjycJekFYx5c9IKWHpOUKscQBu5q1A", "y": "OR8BviaAWGHvORJqF_v3oVDPIAisaq9lPFlbWLEyY2I", "kid": "e1", "use": "sig", "alg": "ES256"}]})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  static ManualClock clock(1800000000000);
  static OidcVerifier verifier(
      OidcVerifier::Options{kIssuer, "tamga"},
      [](const std::string& url, int64_t) -> Result<std::string> {
        if (url.find("openid-configuration") != std::string::npos) {
          return std::string(R"({"issuer":")") + kIssuer + R"(","jwks_uri":"https://id.example/certs"})";
        }
        return std::string(kJwks);
      },
      &clock);
  std::string token(reinterpret_cast<const char*>(data), size);
  auto parts = OidcVerifier::Split(token);
  if (parts.ok()) TAMGA_FUZZ_ASSERT(token.size() <= kMaxJwtBytes && !parts->signature.empty(), token);
  auto claims = verifier.Verify(token);
  TAMGA_FUZZ_ASSERT(!claims.ok(), token);
  TAMGA_FUZZ_ASSERT(claims.status().code() == StatusCode::kUnauthenticated, token);
  return 0;
}
