#pragma once
// Conformance suite every JobStore passes (SQLite's jobs.db, PostgreSQL). Instantiate with
// INSTANTIATE_TEST_SUITE_P(Backend, JobStoreConformance, Values(factory)); the factory returns an empty
// store.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "storage/job_store.h"

namespace tamga {

using JobStoreFactory = std::function<std::unique_ptr<JobStore>()>;

class JobStoreConformance : public ::testing::TestWithParam<JobStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_TRUE(store_ != nullptr);
  }
  static JobRecord Job(const std::string& id, int64_t seq, const std::string& queue,
                       const std::string& state) {
    JobRecord j;
    j.id = id;
    j.seq = seq;
    j.queue = queue;
    j.state = state;
    j.priority = static_cast<int>(seq % 3);
    j.spec_json = R"({"command":["python","train.py"],"env":{"K":"v"}})";
    j.created_ms = 1000 + seq;
    return j;
  }
  std::unique_ptr<JobStore> store_;
};

TEST_P(JobStoreConformance, QueuesAndPolicies) {
  ASSERT_TRUE(store_->PutQueue({"gpu", 2, "pack", 5}).ok());
  ASSERT_TRUE(store_->PutQueue({"cpu", 0, "spread", 6}).ok());
  ASSERT_TRUE(store_->PutQueue({"gpu", 4, "spread", 5}).ok());  // replaces
  auto queues = store_->ListQueues();
  ASSERT_TRUE(queues.ok());
  ASSERT_EQ(queues->size(), 2u);
  EXPECT_EQ((*queues)[0].name, "cpu");
  EXPECT_EQ((*queues)[1].max_concurrency, 4);
  EXPECT_EQ((*queues)[1].strategy, "spread");

  ASSERT_TRUE(store_->PutPolicy("quota", "team-b", R"({"gpus":2})").ok());
  ASSERT_TRUE(store_->PutPolicy("quota", "team-a", R"({"gpus":1})").ok());
  ASSERT_TRUE(store_->PutPolicy("tier", "gold", R"({"weight":3})").ok());
  ASSERT_TRUE(store_->PutPolicy("quota", "team-a", R"({"gpus":8})").ok());
  auto quotas = store_->ListPolicies("quota");
  ASSERT_TRUE(quotas.ok());
  EXPECT_EQ(*quotas, (std::vector<std::string>{R"({"gpus":8})", R"({"gpus":2})"}));  // by key
  ASSERT_TRUE(store_->DeletePolicy("quota", "team-a").ok());
  EXPECT_EQ(store_->DeletePolicy("quota", "team-a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListPolicies("quota")->size(), 1u);
}

TEST_P(JobStoreConformance, JobsRoundTripUpsertListAndPage) {
  JobRecord full = Job("j1", 1, "gpu", "running");
  full.reason = "placed on agent a1";
  full.run_id = "0123456789abcdef0123456789abcdef";
  full.agent_id = "a1";
  full.gpu_uuids = "GPU-1,GPU-2";
  full.attempts = 2;
  full.abort_requested = true;
  full.lease_expires_ms = 99999;
  full.started_ms = 1500;
  ASSERT_TRUE(store_->PutJob(full).ok());
  auto got = store_->GetJob("j1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spec_json, full.spec_json);
  EXPECT_EQ(got->gpu_uuids, "GPU-1,GPU-2");
  EXPECT_EQ(got->attempts, 2);
  EXPECT_TRUE(got->abort_requested);
  EXPECT_FALSE(got->exit_code.has_value());
  EXPECT_EQ(got->lease_expires_ms, 99999);

  full.state = "failed";
  full.exit_code = -9;
  full.ended_ms = 2000;
  ASSERT_TRUE(store_->PutJob(full).ok());  // replaces the row
  EXPECT_EQ(*store_->GetJob("j1")->exit_code, -9);
  EXPECT_EQ(store_->GetJob("nope").status().code(), StatusCode::kNotFound);

  std::vector<JobRecord> bulk;
  for (int i = 2; i <= 30; ++i)
    bulk.push_back(Job("j" + std::to_string(i), i, i % 2 ? "gpu" : "cpu", i < 10 ? "queued" : "succeeded"));
  ASSERT_TRUE(store_->PutJobs(bulk).ok());
  EXPECT_EQ(*store_->MaxJobSeq(), 30);
  auto active = store_->ActiveJobs();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 8u);        // j2..j9 queued; j1 failed and the rest succeeded
  EXPECT_EQ(active->front().id, "j2");  // oldest first

  JobListQuery q;
  q.queue = "gpu";
  q.max_results = 5;
  auto page = store_->ListJobs(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ(page->front().id, "j29");  // newest first
  q.before_seq = page->back().seq;
  auto next = store_->ListJobs(q);
  EXPECT_EQ(next->front().seq, page->back().seq - 2);
  JobListQuery by_state;
  by_state.state = "queued";
  EXPECT_EQ(store_->ListJobs(by_state)->size(), 8u);

  // A bulk insert that collides with nothing stays whole; one that fails leaves nothing of itself.
  std::vector<JobRecord> clash = {Job("k1", 100, "gpu", "queued"),
                                  Job("k2", 5, "gpu", "queued")};  // seq 5 taken
  EXPECT_FALSE(store_->PutJobs(clash).ok());
  EXPECT_EQ(store_->GetJob("k1").status().code(), StatusCode::kNotFound);
}

TEST_P(JobStoreConformance, LogsAreOrderedAndBinarySafe) {
  ASSERT_TRUE(store_->PutJob(Job("j", 1, "q", "running")).ok());
  std::string binary("\x00\xff\xfe line with NUL and bytes that are not UTF-8\n", 48);
  EXPECT_EQ(*store_->AppendLog("j", "stdout", "epoch 1\n"), 1);
  EXPECT_EQ(*store_->AppendLog("j", "stderr", binary), 2);
  EXPECT_EQ(*store_->AppendLog("j", "stdout", "epoch 2\n"), 3);
  EXPECT_EQ(*store_->AppendLog("other", "stdout", "x"), 1);  // per job
  EXPECT_EQ(*store_->LogBytes("j"), static_cast<int64_t>(8 + binary.size() + 8));
  auto logs = store_->ReadLogs("j", 0, 10);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 3u);
  EXPECT_EQ((*logs)[1].stream, "stderr");
  EXPECT_EQ((*logs)[1].data, binary);
  auto tail = store_->ReadLogs("j", 1, 1);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ(tail->front().seq, 2);
  EXPECT_EQ(*store_->LogBytes("none"), 0);
}

TEST_P(JobStoreConformance, AgentsUpsert) {
  ASSERT_TRUE(store_->PutAgent({"a2", "box-2", R"({"gpus":[]})", 10}).ok());
  ASSERT_TRUE(store_->PutAgent({"a1", "box-1", R"({"gpus":[{"uuid":"GPU-1"}]})", 11}).ok());
  ASSERT_TRUE(store_->PutAgent({"a2", "box-2", R"({"gpus":[]})", 20}).ok());
  auto agents = store_->ListAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[0].id, "a1");
  EXPECT_EQ((*agents)[1].last_seen_ms, 20);
}

}  // namespace tamga
