#include "http/byte_range.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(ByteRange, FormsOfOneRange) {
  auto r = ParseByteRange("bytes=0-1023", 3000);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->satisfiable);
  EXPECT_EQ(r->first, 0);
  EXPECT_EQ(r->last, 1023);
  r = ParseByteRange("bytes=100-", 3000);
  EXPECT_EQ(r->first, 100);
  EXPECT_EQ(r->last, 2999);
  r = ParseByteRange("bytes=-500", 3000);
  EXPECT_EQ(r->first, 2500);
  EXPECT_EQ(r->last, 2999);
  r = ParseByteRange("bytes=-5000", 3000);  // a suffix longer than the body: all of it
  EXPECT_EQ(r->first, 0);
  r = ParseByteRange("bytes=10-99999", 100);  // the end is clamped
  EXPECT_EQ(r->last, 99);
}

TEST(ByteRange, UnsatisfiableAndUnusable) {
  EXPECT_FALSE(ParseByteRange("bytes=3000-", 3000)->satisfiable);
  EXPECT_FALSE(ParseByteRange("bytes=-0", 3000)->satisfiable);
  EXPECT_FALSE(ParseByteRange("bytes=0-", 0)->satisfiable);
  for (const char* bad : {"", "bytes=", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=1",
                          "bytes=1234567890123456789-", " bytes=0-1"}) {
    EXPECT_FALSE(ParseByteRange(bad, 3000)) << bad;
  }
  EXPECT_FALSE(ParseByteRange("bytes=0-" + std::string(100, '1'), 3000));
}

}  // namespace
}  // namespace tamga
