#include "storage/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "storage/sqlite/sqlite_stores.h"

namespace tamga {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamga-gc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = OpenSqliteMetadataStore({(dir_ / "t.db").string()});
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto c = GroupCommitter::Create({}, store_.get(), &clock_, &metrics_);
    ASSERT_TRUE(c.ok());
    committer_ = std::move(*c);
    ASSERT_TRUE(committer_
                    ->SubmitAndWait([](WriteTxn& t) -> Status {
                      Experiment e;
                      e.experiment_id = "0";
                      e.name = "Default";
                      auto r = t.CreateExperiment(e);
                      if (!r.ok()) return r.status();
                      RunInfo info;
                      info.run_id = std::string(32, 'a');
                      info.experiment_id = "0";
                      return t.CreateRun(info, {});
                    })
                    .ok());
  }
  void TearDown() override {
    committer_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  SystemClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<SqlMetadataStore> store_;
  std::unique_ptr<GroupCommitter> committer_;
};

TEST_F(GroupCommitTest, ConcurrentWritersShareTransactionsAndAllLand) {
  constexpr int kThreads = 16, kPerThread = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = committer_->SubmitAndWait([t, i](WriteTxn& txn) {
          return txn.LogMetrics(std::string(32, 'a'), {{"m" + std::to_string(t), double(i), i, i}});
        });
        if (s.ok()) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    auto h = store_->GetMetricHistory(std::string(32, 'a'), "m" + std::to_string(t), std::nullopt, 0);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->points.size(), size_t(kPerThread));
  }
  // Fewer transactions than writes: writes were grouped.
  std::string text = metrics_.Render();
  auto pos = text.find("tamga_store_commit_batch_size_count ");
  ASSERT_NE(pos, std::string::npos);
  long commits = std::stol(text.substr(pos + std::string("tamga_store_commit_batch_size_count ").size()));
  EXPECT_LT(commits, kThreads * kPerThread + 1);
}

TEST_F(GroupCommitTest, AFailingWriteDoesNotUndoItsNeighbours) {
  std::atomic<int> done{0};
  Status bad_status, good_status;
  // Queue three writes while the committer is busy so that they share one transaction.
  committer_->Submit(
      [](WriteTxn&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return Status::Ok();
      },
      [&](Status) { done++; });
  committer_->Submit(
      [](WriteTxn& t) -> Status {
        TAMGA_RETURN_IF_ERROR(t.LogMetrics(std::string(32, 'a'), {{"half", 1, 1, 1}}));
        return InvalidArgument("changed my mind");
      },
      [&](Status s) {
        bad_status = s;
        done++;
      });
  committer_->Submit(
      [](WriteTxn& t) {
        return t.LogMetrics(std::string(32, 'a'), {{"good", 1, 1, 1}});
      },
      [&](Status s) {
        good_status = s;
        done++;
      });
  while (done.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(bad_status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(good_status.ok());
  EXPECT_TRUE(store_->GetMetricHistory(std::string(32, 'a'), "half", std::nullopt, 0)->points.empty());
  EXPECT_EQ(store_->GetMetricHistory(std::string(32, 'a'), "good", std::nullopt, 0)->points.size(), 1u);
}

TEST_F(GroupCommitTest, ShutdownDrainsQueueThenRefuses) {
  std::atomic<int> committed{0};
  for (int i = 0; i < 100; ++i) {
    committer_->Submit(
        [i](WriteTxn& t) {
          return t.LogMetrics(std::string(32, 'a'), {{"d", double(i), i, i}});
        },
        [&](Status s) {
          if (s.ok()) committed++;
        });
  }
  committer_->Shutdown();
  EXPECT_EQ(committed.load(), 100);
  Status after = committer_->SubmitAndWait([](WriteTxn&) { return Status::Ok(); });
  EXPECT_EQ(after.code(), StatusCode::kUnavailable);
}

TEST_F(GroupCommitTest, FullQueueIsResourceExhausted) {
  auto c = GroupCommitter::Create({.max_batch = 1, .max_queue = 1}, store_.get(), &clock_, &metrics_);
  ASSERT_TRUE(c.ok());
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  (*c)->Submit(
      [&](WriteTxn&) {
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Status::Ok();
      },
      [&](Status) { done++; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the first write is now running
  (*c)->Submit([](WriteTxn&) { return Status::Ok(); }, [&](Status) { done++; });  // queued
  Status third;
  (*c)->Submit([](WriteTxn&) { return Status::Ok(); },
               [&](Status s) {
                 third = s;
                 done++;
               });
  EXPECT_EQ(third.code(), StatusCode::kResourceExhausted);
  release = true;
  while (done.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace
}  // namespace tamga
