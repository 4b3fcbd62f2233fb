// Randomised robustness: garbage thrown at every parser that sees user input must produce a Status,
// never a crash, hang or exception. Seeds are fixed so failures reproduce.
#include <gtest/gtest.h>

#include <random>

#include "artifacts/artifact_path.h"
#include "core/json_writer.h"
#include "http/fast_log_parser.h"
#include "http/request_fields.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"

namespace tamga {
namespace {

std::string RandomInput(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {"metrics.",
                                                   "params.",
                                                   "tags.",
                                                   "attributes.",
                                                   "datasets.",
                                                   "run_id",
                                                   "`",
                                                   "\"",
                                                   "'",
                                                   " ",
                                                   "AND",
                                                   "and",
                                                   "OR",
                                                   "IN",
                                                   "NOT",
                                                   "IS",
                                                   "NULL",
                                                   "LIKE",
                                                   "ILIKE",
                                                   "(",
                                                   ")",
                                                   ",",
                                                   "=",
                                                   "!=",
                                                   ">=",
                                                   "<",
                                                   "<>",
                                                   "!",
                                                   "1",
                                                   "-2.5e3",
                                                   ".",
                                                   "{",
                                                   "}",
                                                   "[",
                                                   "]",
                                                   ":",
                                                   "\\",
                                                   "\x00",
                                                   "\xff",
                                                   "NaN",
                                                   "{\"run_id\":",
                                                   "\"metrics\":[",
                                                   "%",
                                                   "%2e",
                                                   "/",
                                                   "..",
                                                   "x",
                                                   "é",
                                                   "\n",
                                                   "\t",
                                                   "true",
                                                   "null"};
  std::string s;
  int n = rng() % 24;
  for (int i = 0; i < n; ++i) {
    if (rng() % 4 == 0)
      s.push_back(static_cast<char>(rng() % 256));
    else
      s += kPieces[rng() % kPieces.size()];
  }
  return s;
}

TEST(GarbageInput, ParsersNeverCrash) {
  std::mt19937_64 rng(20261122);
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string in = RandomInput(rng);
    accepted += ParseSearchFilter(in, SearchEntity::kRuns).ok();
    (void)ParseSearchFilter(in, SearchEntity::kExperiments);
    (void)ParseSearchFilter(in, SearchEntity::kLoggedModels);
    (void)ParseOrderBy({in}, SearchEntity::kRuns);
    (void)RequestFields::FromJsonText(in);
    (void)TryParseLogBatch(in);
    (void)TryParseLogMetric(in);
    (void)ValidateArtifactPath(in, true);
    (void)PercentDecode(in, true);
    (void)DecodeOffsetToken(in);
    std::string out;
    (void)Base64Decode(in, &out);
  }
  EXPECT_GT(accepted, 0);  // the generator does reach valid filters too
}

TEST(GarbageInput, MutatedValidRequestsNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string valid =
      R"({"run_id":"0123456789abcdef0123456789abcdef","metrics":[{"key":"m","value":1.5,"timestamp":1,"step":2}],)"
      R"("params":[{"key":"p","value":"v"}],"tags":[{"key":"t","value":"w"}]})";
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(pos, 1 + rng() % 5);
          break;
        default:
          s.insert(pos, 1, "{}[]\",:0"[rng() % 8]);
      }
      if (s.empty()) s = "{";
    }
    auto fast = TryParseLogBatch(s);
    auto slow = RequestFields::FromJsonText(s);
    if (fast) EXPECT_TRUE(slow.ok()) << s;  // the fast path never accepts what JSON rejects
  }
}

}  // namespace
}  // namespace tamga
