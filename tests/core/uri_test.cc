#include "core/uri.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

// Expected values are what Python's urllib.parse.urlparse returns for the same input (MLflow's parser).
void ExpectParts(const std::string& uri, const std::string& scheme, const std::string& netloc,
                 const std::string& path, const std::string& params, const std::string& query,
                 const std::string& fragment) {
  UriParts p = ParseUri(uri);
  EXPECT_EQ(p.scheme, scheme) << uri;
  EXPECT_EQ(p.netloc, netloc) << uri;
  EXPECT_EQ(p.path, path) << uri;
  EXPECT_EQ(p.params, params) << uri;
  EXPECT_EQ(p.query, query) << uri;
  EXPECT_EQ(p.fragment, fragment) << uri;
}

TEST(Uri, SplitsAsPythonUrlparse) {
  ExpectParts("s3://bucket/a/b?x=1#frag", "s3", "bucket", "/a/b", "", "x=1", "frag");
  ExpectParts("runs:/abc/model", "runs", "", "/abc/model", "", "", "");
  ExpectParts("runs:abc/model", "runs", "", "abc/model", "", "", "");
  ExpectParts("http://h:5000/p;a=b?q", "http", "h:5000", "/p", "a=b", "q", "");
  ExpectParts("s3://b/p;x", "s3", "b", "/p;x", "", "", "");  // s3 has no params in urllib
  ExpectParts("C:/x/y", "c", "", "/x/y", "", "", "");
  ExpectParts("/local/path", "", "", "/local/path", "", "", "");
  ExpectParts("file:///tmp/m", "file", "", "/tmp/m", "", "", "");
  ExpectParts("file://remote/x", "file", "remote", "/x", "", "", "");
  ExpectParts("mlflow-artifacts://host:5000/..%2f..", "mlflow-artifacts", "host:5000", "/..%2f..", "", "",
              "");
  ExpectParts("Models:/n/1", "models", "", "/n/1", "", "", "");
  ExpectParts("1abc:/x", "", "", "1abc:/x", "", "", "");
  ExpectParts("", "", "", "", "", "", "");
}

TEST(Uri, UnquoteKeepsMalformedEscapes) {
  EXPECT_EQ(Unquote("%2e%2E%zz%4"), "..%zz%4");
  EXPECT_EQ(Unquote("a+b%20c", true), "a b c");
  EXPECT_EQ(Unquote("a+b", false), "a+b");
  EXPECT_EQ(Unquote(std::string("%00", 3)), std::string("\0", 1));
}

TEST(Uri, UnquoteFullyRepeatsUntilStable) {
  EXPECT_EQ(UnquoteFully("%252e%252e"), "..");
  EXPECT_EQ(UnquoteFully("%25252F"), "/");
  EXPECT_EQ(UnquoteFully("plain"), "plain");
}

TEST(Uri, LocalUrisAreBarePathsAndLocalFileUris) {
  EXPECT_TRUE(IsLocalUri("/tmp/model"));
  EXPECT_TRUE(IsLocalUri("relative/model"));
  EXPECT_TRUE(IsLocalUri("file:///tmp/model"));
  EXPECT_TRUE(IsLocalUri("file://localhost/tmp/model"));
  EXPECT_FALSE(IsLocalUri("file://remote/tmp/model"));
  EXPECT_FALSE(IsLocalUri("s3://bucket/model"));
  EXPECT_FALSE(IsLocalUri("runs:/abc/model"));
  EXPECT_FALSE(IsLocalUri("mlflow-artifacts:/0/abc/artifacts"));
}

}  // namespace
}  // namespace tamga
