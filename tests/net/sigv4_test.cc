// AWS Signature Version 4 against AWS's published examples (the S3 "GET object" example of the SigV4 header
// documentation and the signature-v4 test suite), plus the encoding rules.
#include "net/sigv4.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, S3GetObjectExample) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  r.payload_sha256 = kEmptySha;
  SigV4Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  SigV4Scope scope{"us-east-1", "s3", "20130524T000000Z"};
  SigV4Sign(r, c, scope);
  std::string auth;
  for (const auto& [k, v] : r.headers) {
    if (k == "Authorization") auth = v;
  }
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, TestSuiteCanonicalRequestAndSignature) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"foo", "Zoo"}, {"foo", "aha"}};
  r.headers = {{"Date", "Mon, 09 Sep 2011 23:36:00 GMT"}, {"Host", "host.foo.com"}};
  r.payload_sha256 = kEmptySha;
  std::string signed_headers;
  EXPECT_EQ(
      SigV4CanonicalRequest(r, &signed_headers),
      std::string(
          "GET\n/\nfoo=Zoo&foo=aha\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\n") +
          kEmptySha);
  EXPECT_EQ(signed_headers, "date;host");
  SigV4Scope scope{"us-east-1", "host", "20110909T233600Z"};
  std::string to_sign =
      "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n"
      "e25f777ba161a0f1baf778a87faf057187cf5987f17953320e3ca399feb5f00d";
  SigV4Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(SigV4Signature(c, scope, to_sign),
            "be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09");
}

TEST(SigV4, EncodingHeadersAndPresign) {
  EXPECT_EQ(SigV4Encode("a b/c~d*é", false), "a%20b%2Fc~d%2A%C3%A9");
  EXPECT_EQ(SigV4Encode("dir/file name.txt", true), "dir/file%20name.txt");
  SigV4Request r;
  r.path = "/b/k";
  r.headers = {{"Host", "h"}, {"X-Amz-Meta-A", "  two   spaces  "}, {"x-amz-meta-a", "again"}};
  r.payload_sha256 = "UNSIGNED-PAYLOAD";
  EXPECT_NE(SigV4CanonicalRequest(r, nullptr).find("x-amz-meta-a:two spaces,again\n"), std::string::npos);
  SigV4Credentials c{"AK", "SK", "TOKEN"};
  SigV4Scope scope{"eu-west-1", "s3", "20260101T000000Z"};
  std::string q = SigV4Presign(r, c, scope, 3600);
  EXPECT_EQ(
      q.find("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Feu-west-1%2Fs3%2Faws4_request"
             "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=TOKEN"
             "&X-Amz-SignedHeaders=host%3Bx-amz-meta-a&X-Amz-Signature="),
      0u);
  EXPECT_EQ(q.size() - q.rfind('=') - 1, 64u);
  SigV4Sign(r, c, scope);
  bool token = false;
  for (const auto& [k, v] : r.headers) token |= k == "x-amz-security-token" && v == "TOKEN";
  EXPECT_TRUE(token);
}

}  // namespace
}  // namespace tamga
