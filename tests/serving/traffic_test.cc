// Traffic policy primitives (serving/routing/traffic.h) and the deployment spec's `traffic` section.
#include "serving/routing/traffic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "deploy/deployment_spec.h"

namespace tamga {
namespace {

Tensor Fp32(std::vector<float> v) {
  Tensor t;
  t.name = "y";
  t.dtype = DataType::kFp32;
  t.shape = {static_cast<int64_t>(v.size())};
  t.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return t;
}

TEST(TrafficTest, WeightedDrawsFollowTheWeightsOver10kRequests) {
  std::vector<double> weights = {80, 15, 5};
  std::vector<int> counts(3);
  const int n = 10000;
  for (int i = 0; i < n; ++i) ++counts[PickWeighted(weights, RandomDraw())];
  for (int k = 0; k < 3; ++k) {
    double p = weights[k] / 100.0;
    double sigma = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(counts[k], n * p, 5 * sigma) << "variant " << k;
  }
}

TEST(TrafficTest, PickWeightedEdges) {
  EXPECT_EQ(PickWeighted({0, 0}, 0.5), -1);
  EXPECT_EQ(PickWeighted({1, 0, 1}, 0.0), 0);
  EXPECT_EQ(PickWeighted({1, 0, 1}, 0.5), 2);  // zero-weight variants are never picked
  EXPECT_EQ(PickWeighted({1, 0, 1}, 0.999999999), 2);
  EXPECT_EQ(PickWeighted({0, 3}, 0.0), 1);
  EXPECT_EQ(PickWeighted({1, 1}, 1.0), 1);  // rounding up to 1 still lands on a variant
}

TEST(TrafficTest, StickyDrawIsStablePerKeyAndSpreadAcrossKeys) {
  EXPECT_EQ(StickyDraw("ep", "user-1"), StickyDraw("ep", "user-1"));
  EXPECT_NE(StickyDraw("ep", "user-1"), StickyDraw("other-ep", "user-1"));  // salted per endpoint
  // Sequential keys spread evenly: a 50/50 split of 4000 keys stays within 5 sigma.
  int b = 0;
  for (int i = 0; i < 4000; ++i) b += PickWeighted({50, 50}, StickyDraw("ep", "user-" + std::to_string(i)));
  EXPECT_NEAR(b, 2000, 5 * std::sqrt(4000 * 0.25));
  for (int i = 0; i < 1000; ++i) {
    double u = StickyDraw("ep", std::to_string(i));
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
  }
}

TEST(TrafficTest, CompareOutputsCountsRealDifferences) {
  auto same = CompareOutputs({Fp32({1, 2, 3})}, {Fp32({1, 2, 3.0000001f})}, 1e-6, 1e-4);
  EXPECT_TRUE(same.comparable);
  EXPECT_TRUE(same.agree);
  auto diff = CompareOutputs({Fp32({1, 2, 3})}, {Fp32({1, 2.5f, 3})}, 1e-6, 1e-4);
  EXPECT_FALSE(diff.agree);
  EXPECT_NEAR(diff.max_abs_delta, 0.5, 1e-9);
  // rtol scales with the primary's magnitude.
  EXPECT_TRUE(CompareOutputs({Fp32({1000})}, {Fp32({1000.05f})}, 0, 1e-4).agree);
  EXPECT_FALSE(CompareOutputs({Fp32({1})}, {Fp32({1.05f})}, 0, 1e-4).agree);
  // Shape or count mismatch: not comparable, a disagreement.
  auto shape = CompareOutputs({Fp32({1, 2})}, {Fp32({1, 2, 3})}, 1, 1);
  EXPECT_FALSE(shape.comparable);
  EXPECT_FALSE(shape.agree);
  EXPECT_FALSE(CompareOutputs({Fp32({1})}, {}, 1, 1).agree);
  // NaN agrees only with NaN.
  EXPECT_TRUE(CompareOutputs({Fp32({NAN})}, {Fp32({NAN})}, 0, 0).agree);
  EXPECT_FALSE(CompareOutputs({Fp32({NAN})}, {Fp32({1})}, 0, 0).agree);
  // BYTES compare equal; other dtypes compare by value.
  Tensor s1 = {"s", DataType::kBytes, {1}, std::string("\x01\0\0\0a", 5)};
  Tensor s2 = {"s", DataType::kBytes, {1}, std::string("\x01\0\0\0b", 5)};
  EXPECT_TRUE(CompareOutputs({s1}, {s1}, 0, 0).agree);
  EXPECT_FALSE(CompareOutputs({s1}, {s2}, 0, 0).agree);
  Tensor i64 = {"i", DataType::kInt64, {1}, std::string(8, '\0')};
  Tensor i64b = i64;
  i64b.data[0] = 2;
  auto ints = CompareOutputs({i64}, {i64b}, 0.5, 0);
  EXPECT_FALSE(ints.agree);
  EXPECT_EQ(ints.max_abs_delta, 2);
  // A truncated buffer is never read past its end.
  Tensor short_t = Fp32({1, 2});
  short_t.data.resize(4);
  EXPECT_FALSE(CompareOutputs({short_t}, {Fp32({1, 2})}, 1, 1).comparable);
}

TEST(TrafficTest, VariantStatsWindowAndQuantiles) {
  VariantStats s;
  VariantSnapshot before = s.Snapshot();
  for (int i = 0; i < 98; ++i) s.Answered(true, 100'000);  // 100 us
  s.Answered(false, 50'000'000);                           // 50 ms
  s.Answered(true, 50'000'000);
  s.ShadowCompared({true, false, 0.25});
  s.ShadowDropped();
  VariantSnapshot w = s.Snapshot().Minus(before);
  EXPECT_EQ(w.requests, 100u);
  EXPECT_EQ(w.failures, 1u);
  EXPECT_EQ(w.shadow_disagree, 1u);
  EXPECT_EQ(w.shadow_dropped, 1u);
  EXPECT_NEAR(w.shadow_delta_sum, 0.25, 1e-6);
  EXPECT_LE(w.LatencyQuantile(0.5), 256e-6);  // the bucket holding 100 us
  EXPECT_GE(w.LatencyQuantile(0.99), 50e-3);  // p99 sees the slow tail
  EXPECT_EQ(VariantSnapshot{}.LatencyQuantile(0.99), 0);
}

std::string Spec(const std::string& traffic, const std::string& target = "local") {
  return R"({"name": "ep", "model_name": "m", "target": ")" + target + R"(", "traffic": )" + traffic + "}";
}

TEST(DeploymentTrafficTest, ParsesAndRoundTrips) {
  auto s = ParseDeploymentSpec(Spec(R"({"policy": "canary", "variants": [
      {"name": "stable", "alias": "production", "weight": 90}, {"name": "candidate", "version": 4, "weight": 10},
      {"name": "challenger", "alias": "challenger", "shadow": true}], "shadow_sample": 0.5})"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->traffic.variants.size(), 3u);
  EXPECT_EQ(s->traffic.variants[1].version, "4");
  EXPECT_TRUE(s->traffic.variants[2].shadow);
  auto again = ParseDeploymentSpec(DeploymentSpecJson(*s));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(DeploymentSpecJson(*again), DeploymentSpecJson(*s));
  // No traffic: the canonical JSON is what it always was (no "traffic" key).
  auto plain = ParseDeploymentSpec(R"({"name": "ep", "model_name": "m"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(DeploymentSpecJson(*plain).find("traffic"), std::string::npos);
}

TEST(DeploymentTrafficTest, RefusesWhatWouldBeIgnoredOrAmbiguous) {
  std::map<std::string, std::string> bad = {
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})",
           "kubernetes"),
       "target 'local'"},
      {Spec(R"({"policy": "blue-green", "variants": []})"), "'policy'"},
      {Spec(R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1}]})"),
       "two serving"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x"}, {"name": "b", "alias": "y"}]})"),
       "add up"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "a", "alias": "y", "weight": 1}]})"),
       "twice"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "version": "2", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "exactly one"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": -1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "weight"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1, "colour": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "unknown variant field"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "A B", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "variant name"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "version": "../1", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "version"},
      {Spec(
           R"({"policy": "ab", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "sticky_header"},
      {Spec(
           R"({"policy": "ab", "sticky_header": "bad header", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "sticky_header"},
      {Spec(
           R"({"policy": "ab", "sticky_header": "Host", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "not a header a caller can key on"},
      {Spec(
           R"({"policy": "canary", "sticky_header": "x-user", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})"),
       "'ab' only"},
      {Spec(R"({"policy": "shadow", "variants": [{"name": "a", "alias": "x"}]})"), "shadow variant"},
      {Spec(
           R"({"policy": "shadow", "variants": [{"name": "a", "alias": "x"}, {"name": "b", "alias": "y", "shadow": true, "weight": 5}]})"),
       "not a weight"},
      {Spec(
           R"({"policy": "shadow", "shadow_sample": 0, "variants": [{"name": "a", "alias": "x"}, {"name": "b", "alias": "y", "shadow": true}]})"),
       "shadow_sample"},
      {Spec(
           R"({"policy": "shadow", "shadow_atol": "x", "variants": [{"name": "a", "alias": "x"}, {"name": "b", "alias": "y", "shadow": true}]})"),
       "shadow_atol"},
      {Spec(
           R"({"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}], "mirror": true})"),
       "unknown field"},
      {Spec(R"([1, 2])"), "must be an object"},
  };
  for (const auto& [text, why] : bad) {
    auto s = ParseDeploymentSpec(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(why), std::string::npos) << s.status().message() << " / " << why;
  }
  std::string nine = R"({"policy": "canary", "variants": [)";
  for (int i = 0; i < 9; ++i)
    nine +=
        std::string(i ? "," : "") + R"({"name": "v)" + std::to_string(i) + R"(", "alias": "a", "weight": 1})";
  EXPECT_FALSE(ParseDeploymentSpec(Spec(nine + "]}")).ok());
}

}  // namespace
}  // namespace tamga

namespace tamga {
namespace {

TEST(DeploymentRolloutTest, ParsesValidatesAndRoundTrips) {
  auto s = ParseDeploymentSpec(R"({"name": "ep", "model_name": "m", "target": "local", "rollout": {
      "shadow": {"min_seconds": 30, "min_requests": 200},
      "steps": [{"weight": 10}, {"weight": 50, "min_seconds": 5, "min_requests": 7}],
      "gates": {"max_error_rate": 0.02, "max_p99_ms": 250, "require_reference_test": true}}})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->rollout.enabled);
  EXPECT_TRUE(s->rollout.shadow);
  ASSERT_EQ(s->rollout.steps.size(), 2u);
  EXPECT_EQ(s->rollout.steps[0].min_seconds, 60);  // defaults
  EXPECT_EQ(s->rollout.steps[1].min_requests, 7);
  EXPECT_EQ(s->rollout.max_p99_ms, 250);
  auto again = ParseDeploymentSpec(DeploymentSpecJson(*s));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(DeploymentSpecJson(*again), DeploymentSpecJson(*s));

  auto bad = [](const std::string& rollout, const std::string& why, const std::string& extra = "") {
    auto r = ParseDeploymentSpec(R"({"name": "ep", "model_name": "m", "target": "local", "rollout": )" +
                                 rollout + extra + "}");
    ASSERT_FALSE(r.ok()) << rollout;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message() << " / " << why;
  };
  bad("{}", "shadow' stage, 'steps', or both");
  bad(R"({"steps": [{"weight": 50}, {"weight": 20}]})", "increase");
  bad(R"({"steps": [{"weight": 100}]})", "below 100");
  bad(R"({"steps": [{"min_seconds": 5}]})", "needs a 'weight'");
  bad(R"({"steps": [{"weight": 5, "min_seconds": -1}]})", "min_seconds");
  bad(R"({"shadow": {"weight": 5}})", "unknown field 'weight'");
  bad(R"({"steps": [{"weight": 5}], "gates": {"max_error_rate": 2}})", "max_error_rate");
  bad(R"({"steps": [{"weight": 5}], "gates": {"require_reference_test": "yes"}})", "true or false");
  bad(R"({"steps": [{"weight": 5}], "canary": 1})", "unknown field 'canary'");
  bad(R"({"steps": [{"weight": 5}]})", "exclude each other",
      R"(, "traffic": {"policy": "canary", "variants": [{"name": "a", "alias": "x", "weight": 1}, {"name": "b", "alias": "y", "weight": 1}]})");
  auto k8s =
      ParseDeploymentSpec(R"({"name": "ep", "model_name": "m", "rollout": {"steps": [{"weight": 5}]}})");
  ASSERT_FALSE(k8s.ok());
  EXPECT_NE(k8s.status().message().find("target 'local'"), std::string::npos);
}

}  // namespace
}  // namespace tamga
