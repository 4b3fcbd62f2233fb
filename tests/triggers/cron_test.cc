// Cron schedules (src/triggers/cron.h) against a brute-force oracle: the next minute that matches.
#include "triggers/cron.h"

#include <gtest/gtest.h>

#include <random>

namespace tamga {
namespace {

int64_t BruteNext(const CronSchedule& s, int64_t after_ms) {
  const int64_t first = (after_ms / 60000 + 1) * 60000;
  for (int64_t t = first; t < first + int64_t{5} * 366 * 86400 * 1000; t += 60000)
    if (CronMatches(s, t)) return t;
  return -1;
}

TEST(Cron, ParsesTheStandardFieldsAndRefusesOthers) {
  EXPECT_TRUE(ParseCron("* * * * *").ok());
  EXPECT_TRUE(ParseCron("*/15 0-6,22 1,15 */2 1-5").ok());
  EXPECT_TRUE(ParseCron("0 3 * * 7").ok());
  for (const char* bad : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                          "a * * * *", "*/0 * * * *", "5-1 * * * *", "* * * * * *", "1,,2 * * * *"})
    EXPECT_EQ(ParseCron(bad).status().code(), StatusCode::kInvalidArgument) << bad;
}

TEST(Cron, NextTimeMatchesTheBruteForceOracleOnRandomSchedules) {
  std::mt19937 rng(7);
  const char* fields[][6] = {{"*", "0", "*/5", "10-20", "1,31,59", "7/20"},
                             {"*", "3", "*/6", "9-17", "0,12", "22-23"},
                             {"*", "1", "15", "*/10", "28-31", "29"},
                             {"*", "1", "2", "*/3", "12", "6-8"},
                             {"*", "0", "1-5", "6,0", "7", "*/2"}};
  for (int i = 0; i < 300; ++i) {
    std::string expr;
    for (int f = 0; f < 5; ++f) expr += std::string(f ? " " : "") + fields[f][rng() % 6];
    auto s = ParseCron(expr);
    ASSERT_TRUE(s.ok()) << expr << ": " << s.status().ToString();
    int64_t after = 1700000000000 + static_cast<int64_t>(rng() % 400000000) * 1000;
    EXPECT_EQ(NextCronTime(*s, after), BruteNext(*s, after)) << expr << " after " << after;
  }
  EXPECT_EQ(NextCronTime(*ParseCron("0 0 31 2 *"), 1700000000000), -1);  // February 31st never comes
  // Sunday is 0 and 7; 2023-11-19 was a Sunday.
  EXPECT_EQ(NextCronTime(*ParseCron("0 12 * * 7"), 1700000000000), 1700395200000);
}

}  // namespace
}  // namespace tamga
