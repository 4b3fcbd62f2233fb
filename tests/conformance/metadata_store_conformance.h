#pragma once
// Conformance suite every MetadataStore implementation must pass (SQLite now, PostgreSQL later).
// Instantiate with INSTANTIATE_TEST_SUITE_P(Backend, MetadataStoreConformance, Values(factory)).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>

#include "storage/metadata_store.h"

namespace tamga {

using StoreFactory = std::function<std::unique_ptr<MetadataStore>()>;

class MetadataStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam()(); }

  // Runs fn in its own committed transaction.
  Status Write(const std::function<Status(WriteTxn&)>& fn) {
    auto txn = store_->BeginWrite();
    if (!txn.ok()) return txn.status();
    Status s = fn(**txn);
    if (!s.ok()) {
      std::cerr << "write rolled back: " << s.ToString() << "\n";  // some tests expect it; says why
      (void)(*txn)->Rollback();
      return s;
    }
    return (*txn)->Commit();
  }

  std::string CreateExperiment(const std::string& name) {
    std::string id;
    EXPECT_TRUE(Write([&](WriteTxn& t) -> Status {
                  Experiment e;
                  e.name = name;
                  e.creation_time = e.last_update_time = 1;
                  auto r = t.CreateExperiment(e);
                  if (!r.ok()) return r.status();
                  id = *r;
                  return Status::Ok();
                }).ok());
    return id;
  }

  std::string CreateRun(const std::string& exp, const std::string& run_id, int64_t start) {
    RunInfo info;
    info.run_id = run_id;
    info.experiment_id = exp;
    info.run_name = "r-" + run_id.substr(0, 4);
    info.start_time = start;
    info.artifact_uri = "mlflow-artifacts:/" + exp + "/" + run_id + "/artifacts";
    EXPECT_TRUE(Write([&](WriteTxn& t) {
                  return t.CreateRun(info, {{"mlflow.runName", info.run_name}});
                }).ok());
    return run_id;
  }

  static std::string Id(int i) {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%032x", i);
    return buf;
  }

  std::unique_ptr<MetadataStore> store_;
};

TEST_P(MetadataStoreConformance, ExperimentsRoundTrip) {
  std::string id = CreateExperiment("e1");
  auto e = store_->GetExperiment(id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "e1");
  EXPECT_EQ(store_->GetExperimentByName("e1")->experiment_id, id);
  EXPECT_EQ(store_->GetExperiment("999999").status().code(), StatusCode::kNotFound);
  Status dup = Write([](WriteTxn& t) -> Status {
    Experiment e;
    e.name = "e1";
    auto r = t.CreateExperiment(e);
    return r.ok() ? Status::Ok() : r.status();
  });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
}

TEST_P(MetadataStoreConformance, LifecycleCascadesToRuns) {
  std::string exp = CreateExperiment("e");
  CreateRun(exp, Id(1), 10);
  ASSERT_TRUE(
      Write([&](WriteTxn& t) { return t.SetExperimentLifecycle(exp, LifecycleStage::kDeleted, 5); }).ok());
  EXPECT_EQ(store_->GetRun(Id(1))->info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(store_->ListExperiments(ViewType::kDeletedOnly)->size(), 1u);
}

TEST_P(MetadataStoreConformance, ParamsTagsAndLatestMetrics) {
  std::string exp = CreateExperiment("e");
  CreateRun(exp, Id(1), 10);
  ASSERT_TRUE(
      Write([&](WriteTxn& t) -> Status {
        TAMGA_RETURN_IF_ERROR(t.InsertParams(Id(1), {{"lr", "0.1"}}));
        TAMGA_RETURN_IF_ERROR(t.SetTags(Id(1), {{"t", "a"}}));
        TAMGA_RETURN_IF_ERROR(t.SetTags(Id(1), {{"t", "b"}}));
        return t.LogMetrics(Id(1), {{"m", 1.0, 100, 5}, {"m", 2.0, 200, 1}, {"n", std::nan(""), 1, 0}});
      }).ok());
  auto run = store_->GetRun(Id(1));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->params.size(), 1u);
  EXPECT_EQ(run->tags.size(), 2u);  // mlflow.runName + t
  EXPECT_EQ(run->tags[1].value, "b");
  ASSERT_EQ(run->metrics.size(), 2u);
  EXPECT_EQ(run->metrics[0].key, "m");
  EXPECT_EQ(run->metrics[0].step, 5);  // the greatest step wins, not the last logged
  EXPECT_TRUE(std::isnan(run->metrics[1].value));
  EXPECT_EQ(Write([&](WriteTxn& t) { return t.DeleteTag(Id(1), "nope"); }).code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformance, HistoryIsOrderedDedupedAndPaged) {
  std::string exp = CreateExperiment("e");
  CreateRun(exp, Id(1), 10);
  std::vector<MetricPoint> pts;
  for (int i = 99; i >= 0; --i) pts.push_back({"m", i * 0.5, 1000 + i, i});
  ASSERT_TRUE(Write([&](WriteTxn& t) { return t.LogMetrics(Id(1), pts); }).ok());
  ASSERT_TRUE(Write([&](WriteTxn& t) { return t.LogMetrics(Id(1), {pts[0], pts[1]}); }).ok());  // duplicates
  auto all = store_->GetMetricHistory(Id(1), "m", std::nullopt, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->points.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(all->points[i].step, i);
  EXPECT_FALSE(all->next.has_value());
  std::vector<int64_t> steps;
  std::optional<HistoryCursor> cursor;
  do {
    auto page = store_->GetMetricHistory(Id(1), "m", cursor, 7);
    ASSERT_TRUE(page.ok());
    for (const auto& p : page->points) steps.push_back(p.step);
    cursor = page->next;
  } while (cursor);
  ASSERT_EQ(steps.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(steps[i], i);
  EXPECT_TRUE(store_->GetMetricHistory(Id(1), "absent", std::nullopt, 0)->points.empty());
  EXPECT_EQ(store_->GetMetricHistory(Id(9), "m", std::nullopt, 0).status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformance, RolledBackWritesLeaveNoTrace) {
  std::string exp = CreateExperiment("e");
  CreateRun(exp, Id(1), 10);
  auto txn = store_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Savepoint().ok());
  ASSERT_TRUE((*txn)->LogMetrics(Id(1), {{"ghost", 1, 1, 1}}).ok());
  ASSERT_TRUE((*txn)->RollbackToSavepoint().ok());
  ASSERT_TRUE((*txn)->Savepoint().ok());
  ASSERT_TRUE((*txn)->LogMetrics(Id(1), {{"real", 1, 1, 1}}).ok());
  ASSERT_TRUE((*txn)->ReleaseSavepoint().ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  auto run = store_->GetRun(Id(1));
  ASSERT_EQ(run->metrics.size(), 1u);
  EXPECT_EQ(run->metrics[0].key, "real");
  // A key created in a rolled-back savepoint must be usable afterwards.
  ASSERT_TRUE(Write([&](WriteTxn& t) { return t.LogMetrics(Id(1), {{"ghost", 2, 2, 2}}); }).ok());
  EXPECT_EQ(store_->GetMetricHistory(Id(1), "ghost", std::nullopt, 0)->points.size(), 1u);
}

TEST_P(MetadataStoreConformance, SearchFiltersOrdersAndPages) {
  std::string exp = CreateExperiment("e");
  for (int i = 0; i < 20; ++i) {
    CreateRun(exp, Id(i), 1000 + i);
    ASSERT_TRUE(Write([&](WriteTxn& t) -> Status {
                  TAMGA_RETURN_IF_ERROR(t.InsertParams(Id(i), {{"parity", i % 2 ? "odd" : "even"}}));
                  if (i == 7) return Status::Ok();  // no metric: sorts last
                  return t.LogMetrics(Id(i), {{"m1", i / 20.0, 1, 0}});
                }).ok());
  }
  RunQuery q;
  q.experiment_ids = {exp};
  q.filter = {{FieldKind::kMetric, "m1", CompareOp::kGt, 0.5}};
  q.order = {{FieldKind::kMetric, "m1", false}};
  q.max_results = 100;
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->runs.size(), 9u);  // 11..19
  EXPECT_EQ(page->runs[0].info.run_id, Id(19));
  EXPECT_EQ(page->runs[8].info.run_id, Id(11));
  EXPECT_FALSE(page->has_more);

  RunQuery all;
  all.experiment_ids = {exp};
  all.order = {{FieldKind::kMetric, "m1", true}};
  all.max_results = 20;
  auto sorted = store_->SearchRuns(all);
  ASSERT_EQ(sorted->runs.size(), 20u);
  EXPECT_EQ(sorted->runs[0].info.run_id, Id(0));
  EXPECT_EQ(sorted->runs[19].info.run_id, Id(7));  // missing last
  EXPECT_TRUE(sorted->has_more);

  RunQuery params;
  params.experiment_ids = {exp};
  params.filter = {{FieldKind::kParam, "parity", CompareOp::kEq, std::string("odd")}};
  params.max_results = 4;
  params.offset = 8;
  auto odd = store_->SearchRuns(params);
  ASSERT_EQ(odd->runs.size(), 2u);  // 10 odd runs, offset 8
  for (const auto& r : odd->runs) EXPECT_EQ(r.params[0].value, "odd");
}

TEST_P(MetadataStoreConformance, MetricRangesCountsAndKeys) {
  std::string exp = CreateExperiment("e");
  for (int i = 0; i < 6; ++i) CreateRun(exp, Id(i), 100 + i);
  // Run i: loss goes 10+i (step 0), then i (step 1), then 5 (step 2): min i, max 10+i, last 5. Run 5 also
  // logs a NaN and, in a later batch, a new maximum at an older step (the latest point must not move).
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Write([&](WriteTxn& t) -> Status {
                  TAMGA_RETURN_IF_ERROR(t.InsertParams(Id(i), {{"p" + std::to_string(i % 2), "v"}}));
                  TAMGA_RETURN_IF_ERROR(t.SetTags(Id(i), {{"t", "x"}}));
                  return t.LogMetrics(Id(i), {{"loss", 10.0 + i, 1, 0}, {"loss", 1.0 * i, 2, 1}});
                }).ok());
    ASSERT_TRUE(Write([&](WriteTxn& t) { return t.LogMetrics(Id(i), {{"loss", 5.0, 3, 2}}); }).ok());
  }
  ASSERT_TRUE(Write([&](WriteTxn& t) {
                return t.LogMetrics(
                    Id(5),
                    {{"loss", std::nan(""), 4, 1}, {"loss", 99.0, 5, 0}, {"only_nan", std::nan(""), 1, 0}});
              }).ok());
  auto run = store_->GetRun(Id(5));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->metrics.size(), 2u);
  ASSERT_EQ(run->metric_ranges.size(), 2u);
  EXPECT_EQ(run->metrics[0].key, "loss");
  EXPECT_EQ(run->metrics[0].value, 5.0);
  EXPECT_EQ(run->metrics[0].step, 2);
  EXPECT_EQ(run->metric_ranges[0].first, 5.0);
  EXPECT_EQ(run->metric_ranges[0].second, 99.0);
  EXPECT_TRUE(std::isnan(run->metric_ranges[1].first));  // only NaN logged

  RunQuery q;
  q.experiment_ids = {exp};
  q.order = {{FieldKind::kMetric, "loss", true, MetricAgg::kMin}};
  q.max_results = 2;
  q.count_total = true;
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->runs.size(), 2u);
  EXPECT_EQ(page->runs[0].info.run_id, Id(0));
  EXPECT_EQ(page->runs[1].info.run_id, Id(1));
  ASSERT_TRUE(page->total.has_value());
  EXPECT_EQ(*page->total, 6);
  q.order = {{FieldKind::kMetric, "loss", false, MetricAgg::kMax}};
  q.filter = {{FieldKind::kParam, "p1", CompareOp::kIsNotNull, {}}};
  page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->runs[0].info.run_id, Id(5));  // max 99
  EXPECT_EQ(page->runs[1].info.run_id, Id(3));  // max 13
  EXPECT_EQ(*page->total, 3);                   // runs 1, 3, 5

  auto range = store_->GetMetricRange(Id(5), "loss", 1, 2);  // steps 1 (3 and NaN) and 2 (5)
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 3u);
  EXPECT_EQ((*range)[0].step, 1);
  EXPECT_EQ((*range)[0].value, 5.0);  // (step, timestamp, value) order: timestamp 2 before 4
  EXPECT_TRUE(std::isnan((*range)[1].value));
  EXPECT_EQ((*range)[2].step, 2);
  EXPECT_TRUE(store_->GetMetricRange(Id(5), "nope", 0, 9)->empty());
  EXPECT_EQ(store_->GetMetricRange(Id(99), "loss", 0, 9).status().code(), StatusCode::kNotFound);

  auto keys = store_->ListRunKeys({exp}, 3, 100);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->runs_sampled, 3);
  EXPECT_EQ(keys->metrics, (std::vector<std::string>{"loss", "only_nan"}));  // run 5 is among the 3 newest
  EXPECT_EQ(keys->params, (std::vector<std::string>{"p0", "p1"}));
  EXPECT_EQ(keys->tags, (std::vector<std::string>{"mlflow.runName", "t"}));
  EXPECT_EQ(store_->ListRunKeys({exp}, 10, 1)->params.size(), 1u);
  EXPECT_TRUE(store_->ListRunKeys({"999"}, 10, 10)->metrics.empty());
}

}  // namespace tamga
