// The payload log (serving/monitoring/payload_log.h) on a real local blob store.
#include "serving/monitoring/payload_log.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "artifacts/local/local_blob_store.h"
#include "core/random.h"

namespace tamga {
namespace {

Tensor Floats(std::vector<float> v) {
  Tensor t{"x", DataType::kFp32, {1, static_cast<int64_t>(v.size())}, std::string(v.size() * 4, '\0')};
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

class PayloadLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("tamga-payload-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(root_);
    auto made = LocalBlobStore::Create({root_.string()}, &random_);
    ASSERT_TRUE(made.ok()) << made.status().message();
    blobs_ = std::move(*made);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static inline int counter_ = 0;
  std::filesystem::path root_;
  SystemRandom random_;
  std::unique_ptr<BlobStore> blobs_;
  MetricsRegistry metrics_;
};

TEST_F(PayloadLogTest, RecordsAreBatchedWrittenAndQueried) {
  PayloadLogger::Options o;
  o.flush_ms = 3600000;  // only explicit flushes (Query flushes first)
  o.max_batch_records = 2;
  PayloadLogger log(o, blobs_.get(), &metrics_);
  log.Configure("ep", {1.0, 300});
  std::vector<Tensor> in = {Floats({1, 2})}, out = {Floats({0.5f})};
  const int64_t base = 1764800000000;  // 2025-12-03T22:13:20Z
  for (int i = 0; i < 5; ++i) {
    PayloadRecord r{base + i * 1000, "ep", "primary", i < 3 ? "1" : "2", "v2", true, 0.25, &in, &out};
    log.Log(r);
  }
  std::vector<Tensor> big = {Floats(std::vector<float>(200, 1.0f))};
  log.Log(PayloadRecord{base, "ep", "primary", "1", "v2", true, 0.1, &big, &out});  // over 300 bytes: dropped
  log.Log(PayloadRecord{base, "../etc", "primary", "1", "v2", true, 0.1, &in, &out});  // not a safe name
  auto all = log.Query({"ep", 0, INT64_MAX, "", 100});
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 5u);
  auto first = nlohmann::json::parse((*all)[0]);
  EXPECT_EQ(first["ts"], base);
  EXPECT_EQ(first["inputs"][0]["data"], nlohmann::json::parse("[1.0, 2.0]"));
  EXPECT_EQ(first["outputs"][0]["shape"], nlohmann::json::parse("[1, 1]"));
  EXPECT_EQ(nlohmann::json::parse((*all)[4])["ts"], base + 4000);  // oldest first across batches
  EXPECT_EQ(log.Query({"ep", 0, INT64_MAX, "2", 100})->size(), 2u);
  EXPECT_EQ(log.Query({"ep", base + 1000, base + 2000, "", 100})->size(), 2u);
  EXPECT_EQ(log.Query({"ep", 0, INT64_MAX, "", 3})->size(), 3u);
  EXPECT_TRUE(log.Query({"other", 0, INT64_MAX, "", 3})->empty());
  EXPECT_FALSE(log.Query({"ep", 5, 4, "", 3}).ok());
  EXPECT_FALSE(log.Query({"../x", 0, 1, "", 3}).ok());
  // The batches landed under the hour of their first record.
  EXPECT_TRUE(std::filesystem::exists(root_ / "payload-logs/ep/2025-12-03/22"));
  std::string text = metrics_.Render();
  EXPECT_NE(text.find("tamga_serving_payloads_dropped_total{model=\"ep\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("tamga_serving_payloads_logged_total{model=\"ep\"} 5"), std::string::npos) << text;
}

}  // namespace
}  // namespace tamga
