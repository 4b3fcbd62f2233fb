#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tamga {
namespace {

TEST(JsonWriter, NestedStructuresAndEscapes) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("s", "a\"b\\c\n\x01");
  w.Key("list");
  w.BeginArray();
  w.Int(1);
  w.Double(0.5);
  w.Double(std::nan(""));
  w.Double(-std::numeric_limits<double>::infinity());
  w.Double(3);
  w.EndArray();
  w.FieldBool("b", false);
  w.EndObject();
  EXPECT_EQ(out, R"({"s":"a\"b\\c\n\u0001","list":[1,0.5,"NaN","-Infinity",3.0],"b":false})");
}

TEST(Base64, RoundTrip) {
  for (std::string s : {"", "a", "ab", "abc", "{\"offset\": 100}"}) {
    std::string back;
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &back));
    EXPECT_EQ(back, s);
  }
  std::string out;
  EXPECT_FALSE(Base64Decode("a=b", &out));
  EXPECT_FALSE(Base64Decode("!!", &out));
}

}  // namespace
}  // namespace tamga
