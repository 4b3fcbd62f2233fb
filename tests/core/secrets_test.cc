// Masking credentials in git remotes and in messages that quote them.
#include "core/secrets.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(Secrets, RedactUrlCredentials) {
  EXPECT_EQ(RedactUrlCredentials("https://u:tok@h.example/r.git"), "https://***@h.example/r.git");
  EXPECT_EQ(RedactUrlCredentials("https://ghp_TOKEN@github.com/acme/x.git"),
            "https://***@github.com/acme/x.git");
  EXPECT_EQ(RedactUrlCredentials("git://u:T@h/x"), "git://***@h/x");
  EXPECT_EQ(RedactUrlCredentials("https://h/x.git?t=TOKEN#frag"), "https://h/x.git?***#***");
  // A user name is not a secret: scp-like and ssh remotes stay as they are.
  EXPECT_EQ(RedactUrlCredentials("ssh://git@github.com/acme/x.git"), "ssh://git@github.com/acme/x.git");
  EXPECT_EQ(RedactUrlCredentials("git@github.com:acme/x.git"), "git@github.com:acme/x.git");
  EXPECT_EQ(RedactUrlCredentials("/srv/git/x.git"), "/srv/git/x.git");
}

TEST(Secrets, RedactPartsMasksQuotedSecrets) {
  auto parts = SecretPartsOfUrl("git://u:TOKEN@127.0.0.1/x");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(RedactParts("fatal: unable to look up u:TOKEN@127.0.0.1 (port 9418)", parts),
            "fatal: unable to look up ***@127.0.0.1 (port 9418)");
  EXPECT_EQ(RedactParts("git clone failed", SecretPartsOfUrl("https://abc@h/x")),
            "git clone failed");  // short
}

}  // namespace
}  // namespace tamga
