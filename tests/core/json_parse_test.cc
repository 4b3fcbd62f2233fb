#include "core/json_parse.h"

#include <gtest/gtest.h>

#include "core/yaml_limits.h"

namespace tamga {
namespace {

std::string Nested(int depth, char open, char close, const std::string& inner = "1") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open == '{' ? std::string("{\"a\":") : std::string(1, open);
  s += inner;
  s += std::string(depth, close);
  return s;
}

TEST(JsonParse, DepthLimitIsExactAndLinear) {
  EXPECT_TRUE(ParseJson(Nested(kMaxJsonDepth, '[', ']')).ok());
  auto deep = ParseJson(Nested(kMaxJsonDepth + 1, '[', ']'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deep.status().message().find("nesting"), std::string::npos);
  // 80,000 levels: rejected by the scan, nothing recursive runs.
  EXPECT_FALSE(ParseJson(Nested(80000, '[', ']')).ok());
  EXPECT_FALSE(ParseJson(Nested(100000, '{', '}')).ok());
}

TEST(JsonParse, ContainerCountIsBounded) {
  std::string many = "[";
  for (size_t i = 0; i < kMaxJsonContainers; ++i) many += "[],";
  many += "[]]";  // one past the limit, counting the outer array
  EXPECT_FALSE(ParseJson(many).ok());
  std::string numbers = "[";
  for (int i = 0; i < 100000; ++i) numbers += "1,";
  numbers += "1]";
  EXPECT_TRUE(ParseJson(numbers).ok());  // scalars are not counted
}

TEST(JsonParse, BracketsInsideStringsDoNotCount) {
  std::string s = "{\"k\":\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\"}";
  auto j = ParseJson(s);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)["k"].get<std::string>().size(), 1001u);
}

TEST(JsonParse, MalformedAndInvalidUtf8AreErrorsNotExceptions) {
  EXPECT_FALSE(ParseJson("{").ok());
  EXPECT_FALSE(ParseJson("{\"a\":\"\xff\"}").ok());
  EXPECT_FALSE(ParseJson("").ok());
  EXPECT_TRUE(ParseOrderedJson("{\"b\":1,\"a\":2}").ok());
}

TEST(JsonParse, DumpNeverThrowsOnStoredBytes) {
  nlohmann::json j = {{"reason", std::string("cut \xc3")}};
  EXPECT_EQ(DumpJson(j), "{\"reason\":\"cut \xef\xbf\xbd\"}");
}

TEST(YamlLimits, RejectsDeepNestingAndAliasBombs) {
  EXPECT_TRUE(CheckYamlStructure("flavors:\n  python_function:\n    loader_module: x\n").ok());
  EXPECT_FALSE(CheckYamlStructure(std::string(100000, '[')).ok());
  std::string block;
  for (int i = 0; i < 100; ++i) block += std::string(i, ' ') + "k" + std::to_string(i) + ":\n";
  EXPECT_FALSE(CheckYamlStructure(block).ok());
  std::string dashes;
  for (int i = 0; i < 100; ++i) dashes += "- ";
  EXPECT_FALSE(CheckYamlStructure(dashes + "x\n").ok());
  std::string bomb = "a: &a [x, x]\n";
  for (int i = 0; i < 70; ++i) bomb += "b" + std::to_string(i) + ": [*a, *a]\n";
  EXPECT_FALSE(CheckYamlStructure(bomb).ok());
  // Text inside a block scalar or quotes is not structure.
  EXPECT_TRUE(
      CheckYamlStructure("doc: |\n" + std::string(10, ' ') + std::string(500, '[') + "\nq: '[[[[*x'\n").ok());
}

}  // namespace
}  // namespace tamga
