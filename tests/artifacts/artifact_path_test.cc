#include "artifacts/artifact_path.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(ArtifactPath, AcceptsAndNormalises) {
  EXPECT_EQ(*ValidateArtifactPath("a/b/c.txt", false), "a/b/c.txt");
  EXPECT_EQ(*ValidateArtifactPath("a//b/", false), "a/b");
  EXPECT_EQ(*ValidateArtifactPath("", true), "");
  EXPECT_EQ(*ValidateArtifactPath("..a/b..", false), "..a/b..");
}

TEST(ArtifactPath, RejectsTraversalAndOddCharacters) {
  for (const char* bad : {"../x", "a/../../x", "a/..", "/etc/passwd", "a\\..\\b", "a#b", ".", "a/./b", ""}) {
    EXPECT_FALSE(ValidateArtifactPath(bad, false).ok()) << bad;
  }
  EXPECT_FALSE(ValidateArtifactPath(std::string("a\0b", 3), false).ok());
  EXPECT_FALSE(ValidateArtifactPath(std::string(5000, 'a'), false).ok());
}

TEST(ArtifactPath, ProxiedUris) {
  EXPECT_EQ(*ProxiedArtifactPath("mlflow-artifacts:/1/abc/artifacts"), "1/abc/artifacts");
  EXPECT_EQ(*ProxiedArtifactPath("mlflow-artifacts://host:5000/1/abc"), "1/abc");
  EXPECT_EQ(*ProxiedArtifactPath("http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/x"), "1/x");
  EXPECT_FALSE(ProxiedArtifactPath("s3://bucket/x").has_value());
  // Decoded once, as the proxy decodes its URL path.
  EXPECT_EQ(*ProxiedArtifactPath("mlflow-artifacts:/enc%41dir/r"), "encAdir/r");
  EXPECT_FALSE(ProxiedArtifactPath("mlflow-artifacts:/bad%zz").has_value());
}

// MLflow's direct mode: URIs under the s3:// default root map onto the store's paths; others do not.
TEST(ProxiedArtifactPath, DirectRootMapsItsOwnUrisOnly) {
  SetDirectArtifactRoot("s3://bucket/tamga/");
  EXPECT_EQ(*ProxiedArtifactPath("s3://bucket/tamga/1/abc/artifacts/model"), "1/abc/artifacts/model");
  EXPECT_EQ(*ProxiedArtifactPath("s3://bucket/tamga"), "");
  EXPECT_FALSE(ProxiedArtifactPath("s3://bucket/tamga-other/1").has_value());  // a sibling prefix
  EXPECT_FALSE(ProxiedArtifactPath("s3://elsewhere/tamga/1").has_value());
  EXPECT_EQ(*ProxiedArtifactPath("mlflow-artifacts:/1/r"), "1/r");  // the proxy's own URIs still map
  SetDirectArtifactRoot("");
  EXPECT_FALSE(ProxiedArtifactPath("s3://bucket/tamga/1").has_value());
}

TEST(PercentDecode, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(*PercentDecode("a%2Fb%20c", false), "a/b c");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  EXPECT_FALSE(PercentDecode("%2", false).has_value());
  EXPECT_FALSE(PercentDecode("%", false).has_value());
}

}  // namespace
}  // namespace tamga
