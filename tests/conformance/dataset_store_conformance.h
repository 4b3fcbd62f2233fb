#pragma once
// Conformance suite of every DatasetStore (SQLite, PostgreSQL): datasets, versions numbered without gaps
// under concurrent pushes, tags, and the per-dataset object index (docs/data.md). Instantiate with
// INSTANTIATE_TEST_SUITE_P(Backend, DatasetStoreConformance, Values(factory)).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "core/hmac.h"
#include "storage/dataset_store.h"

namespace tamga {

using DatasetStoreFactory = std::function<std::unique_ptr<DatasetStore>()>;

class DatasetStoreConformance : public ::testing::TestWithParam<DatasetStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_TRUE(store_ != nullptr);
  }
  DatasetRecord Make(const std::string& name) {
    DatasetRecord d;
    d.name = name;
    d.created_ms = 1000;
    auto r = store_->CreateDataset(d);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : d;
  }
  DatasetVersionRecord Version(int64_t id, const std::string& manifest) {
    DatasetVersionRecord v;
    v.dataset_id = id;
    v.manifest = manifest;
    v.file_count = 2;
    v.total_size = 10;
    v.metadata_json = "{}";
    v.created_ms = 2000;
    return v;
  }
  std::unique_ptr<DatasetStore> store_;
};

TEST_P(DatasetStoreConformance, NamesAreUniqueAndListedInOrderWithPrefixAndPages) {
  for (const char* n : {"b", "a", "ab", "c"}) Make(n);
  DatasetRecord dup;
  dup.name = "a";
  EXPECT_EQ(store_->CreateDataset(dup).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetDataset("zz").status().code(), StatusCode::kNotFound);
  auto all = store_->ListDatasets({});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const auto& d : *all) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "ab", "b", "c"}));
  auto pre = store_->ListDatasets({"a", 100, ""});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(pre->size(), 2u);
  auto page = store_->ListDatasets({"", 2, "ab"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].name, "b");
  // LIKE wildcards in a prefix are plain characters.
  EXPECT_TRUE(store_->ListDatasets({"%", 100, ""})->empty());
}

TEST_P(DatasetStoreConformance, VersionsAreNumberedAndMoveLatest) {
  DatasetRecord d = Make("mnist");
  auto v1 = store_->AddVersion(Version(d.id, std::string(64, 'a')), {"first"});
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  auto v2 = store_->AddVersion(Version(d.id, std::string(64, 'b')), {});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(*store_->ResolveTag(d.id, "latest"), 2);
  EXPECT_EQ(*store_->ResolveTag(d.id, "first"), 1);
  EXPECT_EQ(store_->GetDataset("mnist")->latest_version, 2);
  auto listed = store_->ListVersions(d.id, 10, 0);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].version, 2);
  EXPECT_EQ(store_->ListVersions(d.id, 10, 2)->size(), 1u);
  auto found = store_->FindVersionByManifest(d.id, std::string(64, 'a'));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->version, 1);
  EXPECT_FALSE(store_->FindVersionByManifest(d.id, std::string(64, 'c'))->has_value());
  EXPECT_EQ(store_->GetVersion(d.id, 9).status().code(), StatusCode::kNotFound);
}

TEST_P(DatasetStoreConformance, TagsMoveReportTheirPreviousVersionAndAreDeleted) {
  DatasetRecord d = Make("t");
  ASSERT_TRUE(store_->AddVersion(Version(d.id, std::string(64, 'a')), {}).ok());
  ASSERT_TRUE(store_->AddVersion(Version(d.id, std::string(64, 'b')), {}).ok());
  EXPECT_EQ(*store_->SetTag(d.id, "gold", 1, 5), 0);
  EXPECT_EQ(*store_->SetTag(d.id, "gold", 2, 6), 1);
  EXPECT_EQ(store_->SetTag(d.id, "gold", 7, 6).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->ResolveTag(d.id, "gold"), 2);
  auto tags = store_->ListTags(d.id);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 2u);  // gold, latest
  EXPECT_EQ((*tags)[0].tag, "gold");
  EXPECT_TRUE(store_->DeleteTag(d.id, "gold").ok());
  EXPECT_EQ(store_->DeleteTag(d.id, "gold").code(), StatusCode::kNotFound);
}

TEST_P(DatasetStoreConformance, ObjectIndexIsPerDatasetAndIdempotent) {
  DatasetRecord a = Make("a");
  DatasetRecord b = Make("b");
  std::vector<DatasetObject> objects;
  for (int i = 0; i < 600; ++i) objects.push_back({Sha256Hex(std::to_string(i)), i});
  ASSERT_TRUE(store_->AddObjects(a.id, objects).ok());
  ASSERT_TRUE(store_->AddObjects(a.id, {objects[0], objects[0]}).ok());  // again, and repeated in one call
  std::vector<std::string> ask;
  for (int i = 590; i < 610; ++i) ask.push_back(Sha256Hex(std::to_string(i)));
  auto found = store_->FindObjects(a.id, ask);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 10u);
  for (const auto& o : *found) EXPECT_EQ(o.digest, Sha256Hex(std::to_string(o.size)));
  EXPECT_TRUE(store_->FindObjects(b.id, ask)->empty());  // b never held them
}

TEST_P(DatasetStoreConformance, ConcurrentPushesGetDistinctConsecutiveVersions) {
  DatasetRecord d = Make("busy");
  std::vector<std::thread> threads;
  std::vector<int64_t> got(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto v = store_->AddVersion(Version(d.id, Sha256Hex(std::to_string(t))), {});
      if (v.ok()) got[t] = v->version;
    });
  }
  for (auto& th : threads) th.join();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_P(DatasetStoreConformance, UsesAreRecordedOncePerRunAndFoundBothWays) {
  DatasetRecord d = Make("used");
  ASSERT_TRUE(store_->AddVersion(Version(d.id, std::string(64, 'a')), {}).ok());
  ASSERT_TRUE(store_->RecordUse(d.id, 1, "run1", "training", 10).ok());
  ASSERT_TRUE(store_->RecordUse(d.id, 1, "run1", "eval", 11).ok());  // kept once
  ASSERT_TRUE(store_->RecordUse(d.id, 1, "run2", "", 12).ok());
  auto uses = store_->UsesOfVersion(d.id, 1, 10);
  ASSERT_TRUE(uses.ok()) << uses.status().ToString();
  ASSERT_EQ(uses->size(), 2u);
  EXPECT_EQ((*uses)[0].run_id, "run2");
  EXPECT_EQ((*uses)[1].context, "training");
  auto by_run = store_->UsesByRun("run1");
  ASSERT_TRUE(by_run.ok());
  ASSERT_EQ(by_run->size(), 1u);
  EXPECT_EQ((*by_run)[0].dataset, "used");
  EXPECT_EQ((*by_run)[0].version, 1);
}

}  // namespace tamga
