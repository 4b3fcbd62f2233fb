// The auth building blocks (docs/identity.md): Authorization parsing, scrypt password hashes, access tokens,
// the verified-credential cache.
#include <gtest/gtest.h>

#include <set>

#include "auth/credential_cache.h"
#include "auth/credentials.h"
#include "auth/password_hash.h"
#include "auth/tokens.h"

namespace tamga {
namespace {

TEST(Credentials, BasicAndBearerAsTheMlflowClientSendsThem) {
  auto b = ParseAuthorization("Basic YWRtaW46cGFzczp3aXRoOmNvbG9ucw==");  // admin:pass:with:colons
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->kind, Credential::Kind::kBasic);
  EXPECT_EQ(b->username, "admin");
  EXPECT_EQ(b->secret, "pass:with:colons");
  auto t = ParseAuthorization("bearer  tmg_abc");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Credential::Kind::kBearer);
  EXPECT_EQ(t->secret, "tmg_abc");
}

TEST(Credentials, MalformedIsUnauthenticated) {
  for (const char* h : {"", "Basic", "Basic ", "Basic !!!!", "Basic YWRtaW4=",  // no colon
                        "Basic OnB3", "Basic dTo=",                             // empty user / password
                        "Basic YWRtaW46cA", "Basic YW=taW46cA==", "Digest abc", "Bearer a b", "Bearer ",
                        "Basic YWRtaW46cA==\n", "Token x"}) {
    auto r = ParseAuthorization(h);
    EXPECT_FALSE(r.ok()) << h;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << h;
    }
  }
  EXPECT_FALSE(ParseAuthorization("Bearer " + std::string(kMaxAuthorizationBytes, 'a')).ok());
}

TEST(PasswordHash, RoundTripSaltedAndConstantShape) {
  ScryptParams fast{10, 8, 1};  // the format and checks, not the production cost
  auto h1 = HashPassword("s3cret", fast);
  auto h2 = HashPassword("s3cret", fast);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_NE(*h1, *h2);  // salted
  EXPECT_EQ(h1->rfind("scrypt$10$8$1$", 0), 0u) << *h1;
  EXPECT_TRUE(VerifyPassword("s3cret", *h1));
  EXPECT_FALSE(VerifyPassword("s3cret ", *h1));
  EXPECT_FALSE(VerifyPassword("", *h1));
  for (const char* bad : {"", "scrypt", "scrypt$10$8$1$$", "bcrypt$10$8$1$YQ==$YQ==", "scrypt$99$8$1$a$b",
                          "scrypt$10$8$1$!!!!$????"})
    EXPECT_FALSE(VerifyPassword("s3cret", bad)) << bad;
  EXPECT_FALSE(HashPassword("x", ScryptParams{40, 8, 1}).ok());
}

TEST(Tokens, RandomShownOnceStoredAsDigest) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = NewAccessToken();
    EXPECT_TRUE(LooksLikeAccessToken(t)) << t;
    EXPECT_TRUE(seen.insert(t).second);
    EXPECT_EQ(TokenDigest(t).size(), 64u);
    EXPECT_EQ(TokenDigest(t).find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_FALSE(LooksLikeAccessToken("eyJhbGciOiJSUzI1NiJ9.e30.sig"));  // a JWT goes to the OIDC verifier
  EXPECT_EQ(TokenDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CredentialCache, ExpiresInvalidatesAndStaysBounded) {
  CredentialCache cache(1000, 64);
  Principal p;
  p.username = "ana";
  cache.Insert("Basic x", p, 0);
  ASSERT_TRUE(cache.Lookup("Basic x", 999));
  EXPECT_EQ(cache.Lookup("Basic x", 999)->username, "ana");
  EXPECT_FALSE(cache.Lookup("Basic x", 1000));  // expired
  EXPECT_FALSE(cache.Lookup("Basic y", 10));
  cache.Insert("Basic x", p, 2000);
  cache.Invalidate();
  EXPECT_FALSE(cache.Lookup("Basic x", 2001));
  for (int i = 0; i < 10000; ++i) cache.Insert("Bearer " + std::to_string(i), p, 3000 + i);
  EXPECT_LE(cache.size(), 64u + 16u);
  EXPECT_TRUE(cache.Lookup("Bearer 9999", 13000));  // the newest stay
}

}  // namespace
}  // namespace tamga
