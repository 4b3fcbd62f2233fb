#include "artifacts/s3/s3_xml.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

// The shape of a ListObjectsV2 answer as S3 (and Ceph RGW) send it.
constexpr const char* kListing = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>ml</Name><Prefix>1/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>1/a&amp;b.txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>1/&#233;t&#xE9;.csv</Key><Size>0</Size><ETag>"x"</ETag></Contents>
  <CommonPrefixes><Prefix>1/run/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";

TEST(S3Xml, ListObjectsV2) {
  auto page = ParseListObjectsV2(kListing);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "1/a&b.txt");
  EXPECT_EQ(page->objects[0].size, 1234);
  EXPECT_EQ(page->objects[0].etag, "\"9b2cf535f27731c974343645a3985328\"");
  EXPECT_EQ(page->objects[1].key, "1/\xC3\xA9t\xC3\xA9.csv");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"1/run/"}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, ErrorsAndMultipart) {
  auto e = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key does not exist</Message>"
      "<RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, "NoSuchKey");
  EXPECT_FALSE(ParseS3Error("not xml"));
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>2~abc</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "2~abc");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());
}

TEST(S3Xml, RefusesWhatItShould) {
  for (const char* bad :
       {"", "<a>", "<a></b>", "<a><b></a></b>", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        "<a>&bogus;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a/><b/>", "<a x=\"1></a>", "text",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>"}) {
    EXPECT_FALSE(ParseListObjectsV2(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  EXPECT_FALSE(ParseXml(deep).ok());
  std::string wide = "<a>";
  for (int i = 0; i < 1000; ++i) wide += "<b/>";
  wide += "</a>";
  XmlLimits small;
  small.max_elements = 100;
  EXPECT_FALSE(ParseXml(wide, small).ok());
  EXPECT_TRUE(ParseXml(wide).ok());
  auto cdata = ParseXml("<a><![CDATA[<not a tag> & stuff]]><!-- c --></a>");
  ASSERT_TRUE(cdata.ok());
  EXPECT_EQ(cdata->text, "<not a tag> & stuff");
  auto truncated = ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_FALSE(truncated.ok());
}

}  // namespace
}  // namespace tamga
