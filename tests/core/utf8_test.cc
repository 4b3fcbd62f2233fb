#include "core/utf8.h"

#include <gtest/gtest.h>

#include "core/json_writer.h"

namespace tamga {
namespace {

TEST(Utf8, ValidatesPerRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("caf\xc3"));           // cut sequence
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8(std::string_view("\x80", 1)));
}

TEST(Utf8, PrefixNeverSplitsACharacter) {
  std::string s = std::string(1999, 'a') + "\xc3\xa9" + "tail";  // é straddles byte 2000
  std::string_view cut = Utf8Prefix(s, 2000);
  EXPECT_EQ(cut.size(), 1999u);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_EQ(Utf8Prefix(s, 2001).size(), 2001u);
  EXPECT_EQ(Utf8Prefix("short", 100), "short");
  std::string emoji = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
  for (size_t n = 0; n <= emoji.size(); ++n) EXPECT_TRUE(IsValidUtf8(Utf8Prefix(emoji, n))) << n;
  EXPECT_EQ(Utf8Prefix(emoji, 5).size(), 4u);
}

TEST(Utf8, SanitizeReplacesEachBadSequenceOnce) {
  EXPECT_EQ(SanitizeUtf8("ok"), "ok");
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(SanitizeUtf8("caf\xc3"), "caf\xef\xbf\xbd");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xf0\x9f\x98 x \xed\xa0\x80 \xc0\xaf")));
  EXPECT_EQ(SanitizeUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(Utf8, JsonWriterAlwaysEmitsValidUtf8) {
  std::string out;
  AppendJsonString(&out, std::string_view("name-\xff\xfe\x00.txt", 12));
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_EQ(out, "\"name-\xef\xbf\xbd\xef\xbf\xbd\\u0000.txt\"");
}

}  // namespace
}  // namespace tamga
