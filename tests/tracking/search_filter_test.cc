#include "tracking/search_filter.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

std::vector<Comparison> MustParse(const std::string& f, SearchEntity e = SearchEntity::kRuns) {
  auto r = ParseSearchFilter(f, e);
  EXPECT_TRUE(r.ok()) << f << ": " << r.status().ToString();
  return r.ok() ? *r : std::vector<Comparison>{};
}

void ExpectInvalid(const std::string& f, SearchEntity e = SearchEntity::kRuns) {
  auto r = ParseSearchFilter(f, e);
  ASSERT_FALSE(r.ok()) << f;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << f;
}

TEST(SearchFilter, EmptyIsNoClauses) {
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("   ").empty());
}

TEST(SearchFilter, MetricComparison) {
  auto c = MustParse("metrics.acc >= 0.5");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, FieldKind::kMetric);
  EXPECT_EQ(c[0].key, "acc");
  EXPECT_EQ(c[0].op, CompareOp::kGe);
  EXPECT_DOUBLE_EQ(std::get<double>(c[0].value), 0.5);
}

TEST(SearchFilter, EntityAliasesAndConjunction) {
  auto c = MustParse("metric.a < -1e3 and param.p = 'x' AND tag.t LIKE \"y%\" and attr.run_name ILIKE 'r%'");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].kind, FieldKind::kMetric);
  EXPECT_DOUBLE_EQ(std::get<double>(c[0].value), -1000);
  EXPECT_EQ(c[1].kind, FieldKind::kParam);
  EXPECT_EQ(std::get<std::string>(c[1].value), "x");
  EXPECT_EQ(c[2].kind, FieldKind::kTag);
  EXPECT_EQ(c[2].op, CompareOp::kLike);
  EXPECT_EQ(std::get<std::string>(c[2].value), "y%");
  EXPECT_EQ(c[3].kind, FieldKind::kAttribute);
  EXPECT_EQ(c[3].key, "run_name");
  EXPECT_EQ(c[3].op, CompareOp::kILike);
}

TEST(SearchFilter, QuotedKeys) {
  auto c = MustParse("metrics.`my metric` > 1 and tags.\"mlflow.runName\" = 'x' and params.`a.b` != 'c'");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].key, "my metric");
  EXPECT_EQ(c[1].key, "mlflow.runName");
  EXPECT_EQ(c[2].key, "a.b");
  EXPECT_EQ(c[2].op, CompareOp::kNe);
}

TEST(SearchFilter, DottedKeysWithoutQuotes) {
  auto c = MustParse("tags.mlflow.source.type = 'LOCAL'");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].key, "mlflow.source.type");
}

TEST(SearchFilter, AttributeAliases) {
  EXPECT_EQ(MustParse("attributes.`Run name` = 'x'")[0].key, "run_name");
  EXPECT_EQ(MustParse("created > 5")[0].key, "start_time");
  EXPECT_EQ(MustParse("run.status = 'FINISHED'")[0].key, "status");
}

TEST(SearchFilter, InLists) {
  auto c = MustParse("attributes.run_id IN ('a', 'b') and run_id NOT IN (\"c\")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].op, CompareOp::kIn);
  EXPECT_EQ(std::get<std::vector<std::string>>(c[0].value), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c[1].op, CompareOp::kNotIn);
}

TEST(SearchFilter, DatasetsAndNullChecks) {
  auto c = MustParse(
      "datasets.name IN ('a') and datasets.context = 'train' and params.x IS NULL and tags.y IS NOT NULL");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].kind, FieldKind::kDataset);
  EXPECT_EQ(c[1].key, "context");
  EXPECT_EQ(c[2].op, CompareOp::kIsNull);
  EXPECT_EQ(c[3].op, CompareOp::kIsNotNull);
}

TEST(SearchFilter, StringEscapes) {
  EXPECT_EQ(std::get<std::string>(MustParse("params.p = 'it''s'")[0].value), "it's");
}

TEST(SearchFilter, Rejections) {
  ExpectInvalid("metrics.a > 1 OR metrics.b > 1");
  ExpectInvalid("(metrics.a > 1)");
  ExpectInvalid("metrics.a > 'x'");
  ExpectInvalid("metrics.a LIKE '1'");
  ExpectInvalid("params.a > 'x'");
  ExpectInvalid("params.a = 1");
  ExpectInvalid("attributes.nope = 'x'");
  ExpectInvalid("attributes.run_name IN ('x')");
  ExpectInvalid("foo.bar = 'x'");
  ExpectInvalid("metrics.a >");
  ExpectInvalid("metrics.a");
  ExpectInvalid("params.a = 'unterminated");
  ExpectInvalid("metrics.`unterminated > 1");
  ExpectInvalid("metrics.a > 1 and");
  ExpectInvalid("and metrics.a > 1");
  ExpectInvalid("run_id IN ('a',)");
  ExpectInvalid("run_id IN 'a'");
  ExpectInvalid("metrics.a ! 1");
  ExpectInvalid("datasets.foo = 'x'");
  ExpectInvalid("params.a IS 'x'");
}

TEST(SearchFilter, ExperimentEntity) {
  auto c = MustParse("name LIKE 'a%' and tags.t = 'x' and creation_time > 5", SearchEntity::kExperiments);
  ASSERT_EQ(c.size(), 3u);
  ExpectInvalid("metrics.a > 1", SearchEntity::kExperiments);
  ExpectInvalid("run_name = 'x'", SearchEntity::kExperiments);
}

TEST(SearchFilter, LoggedModelEntity) {
  auto c = MustParse(
      "name = 'clf' AND params.alpha = '1' AND tags.t IS NULL AND creation_time > 5 AND "
      "status IN ('READY', 'PENDING') AND model_type LIKE 'cl%'",
      SearchEntity::kLoggedModels);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[1].kind, FieldKind::kParam);
  EXPECT_EQ(c[2].op, CompareOp::kIsNull);
  EXPECT_EQ(c[3].key, "creation_timestamp");  // alias normalised
  EXPECT_EQ(c[4].op, CompareOp::kIn);
  ExpectInvalid("metrics.acc > 0.9", SearchEntity::kLoggedModels);  // not supported: a clear error
  ExpectInvalid("run_name = 'x'", SearchEntity::kLoggedModels);
  ExpectInvalid("status LIKE 'R%'", SearchEntity::kLoggedModels);
  ExpectInvalid("creation_timestamp = 'yesterday'", SearchEntity::kLoggedModels);
  ExpectInvalid("datasets.name = 'x'", SearchEntity::kLoggedModels);
}

TEST(OrderBy, ParsesDirectionsAndRejectsDuplicates) {
  auto o = ParseOrderBy({"metrics.acc DESC", "params.`p q` asc", "start_time"}, SearchEntity::kRuns);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(o->size(), 3u);
  EXPECT_FALSE((*o)[0].ascending);
  EXPECT_EQ((*o)[1].key, "p q");
  EXPECT_TRUE((*o)[2].ascending);
  EXPECT_FALSE(ParseOrderBy({"metrics.a", "metrics.a DESC"}, SearchEntity::kRuns).ok());
  EXPECT_FALSE(ParseOrderBy({"metrics.a SIDEWAYS"}, SearchEntity::kRuns).ok());
  EXPECT_FALSE(ParseOrderBy({"datasets.name"}, SearchEntity::kRuns).ok());
  EXPECT_TRUE(ParseOrderBy({"name ASC", "experiment_id"}, SearchEntity::kExperiments).ok());
  EXPECT_FALSE(ParseOrderBy({"metrics.a"}, SearchEntity::kExperiments).ok());
}

TEST(LikeMatch, Wildcards) {
  EXPECT_TRUE(LikeMatch("resnet50", "resnet%", false));
  EXPECT_FALSE(LikeMatch("ResNet50", "resnet%", false));
  EXPECT_TRUE(LikeMatch("ResNet50", "resnet%", true));
  EXPECT_TRUE(LikeMatch("abc", "a_c", false));
  EXPECT_FALSE(LikeMatch("abbc", "a_c", false));
  EXPECT_TRUE(LikeMatch("abc", "%", false));
  EXPECT_TRUE(LikeMatch("", "%", false));
  EXPECT_TRUE(LikeMatch("xaybzc", "%a%b%c", false));
  EXPECT_FALSE(LikeMatch("xaybz", "%a%b%c", false));
}

}  // namespace
}  // namespace tamga
