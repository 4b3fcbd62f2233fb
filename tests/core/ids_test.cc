// Identifier formats: MLflow-shaped run ids (32 hex), and the time-ordered variant used for new runs.
#include <gtest/gtest.h>

#include <set>

#include "core/ids.h"

namespace tamga {
namespace {

TEST(Ids, TimeOrderedIdsAreUuid7ShapedAndSortByTime) {
  SystemRandom random(7);
  std::string a = NewTimeOrderedId(random, 1795348002461);
  EXPECT_TRUE(IsHex32(a));
  EXPECT_EQ(a.substr(0, 12), "01a20314769d");                     // 1795348002461 ms in 48-bit hex
  EXPECT_EQ(a[12], '7');                                          // version 7
  EXPECT_NE(std::string("89ab").find(a[16]), std::string::npos);  // RFC 9562 variant
  std::string prev;
  std::set<std::string> seen;
  for (int64_t ms = 1795348002461; ms < 1795348002461 + 2000; ++ms) {
    // Many ids in the same millisecond stay unique; a later millisecond always sorts after.
    std::string first, last;
    for (int k = 0; k < 50; ++k) {
      std::string id = NewTimeOrderedId(random, ms);
      EXPECT_TRUE(seen.insert(id).second) << id;
      if (first.empty() || id < first) first = id;
      last = std::max(last, id);
    }
    EXPECT_LT(prev, first);
    prev = last;
  }
  EXPECT_TRUE(IsHex32(NewTimeOrderedId(random, -5)));  // a clock before 1970 does not break the format
}

TEST(Ids, RunIdsAreUuid4Hex) {
  SystemRandom random(1);
  std::string id = NewRunId(random);
  EXPECT_TRUE(IsHex32(id));
  EXPECT_EQ(id[12], '4');
  EXPECT_FALSE(IsHex32(id.substr(1)));
  EXPECT_FALSE(IsHex32(std::string(31, 'a') + "G"));
}

}  // namespace
}  // namespace tamga
