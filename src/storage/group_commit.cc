#include "storage/group_commit.h"

#include "core/contain.h"

#include <future>

#include "core/log.h"

namespace tamga {

Result<std::unique_ptr<GroupCommitter>> GroupCommitter::Create(const Options& options, MetadataStore* store,
                                                               Clock* clock, MetricsRegistry* metrics) {
  if (options.max_batch == 0 || options.max_queue == 0)
    return InvalidArgument("max_batch and max_queue must be > 0");
  std::unique_ptr<GroupCommitter> c(new GroupCommitter(options, store, clock, metrics));
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

GroupCommitter::GroupCommitter(const Options& options, MetadataStore* store, Clock* clock,
                               MetricsRegistry* metrics)
    : options_(options), store_(store), clock_(clock) {
  batch_size_ = metrics
                    ->HistogramFamily("tamga_store_commit_batch_size", "Writes per group-commit transaction",
                                      MetricsRegistry::SizeBuckets())
                    ->Hist({});
  commit_latency_ = metrics
                        ->HistogramFamily("tamga_store_commit_seconds",
                                          "Time to run and commit one group-commit transaction",
                                          MetricsRegistry::LatencyBuckets())
                        ->Hist({});
  commits_ = metrics->Counter("tamga_store_commits_total", "Group-commit transactions by result");
}

GroupCommitter::~GroupCommitter() { Shutdown(); }

void GroupCommitter::Submit(WriteFn fn, DoneFn done) {
  UniqueLock lock(&mu_);
  if (stopping_) {
    lock.unlock();
    done(Unavailable("server is shutting down"));
    return;
  }
  if (queue_.size() >= options_.max_queue) {
    lock.unlock();
    done(ResourceExhausted("write queue is full; retry later"));
    return;
  }
  bool was_empty = queue_.empty();
  queue_.push_back(Pending{std::move(fn), std::move(done)});
  lock.unlock();
  if (was_empty) cv_.notify_one();
}

Status GroupCommitter::SubmitAndWait(WriteFn fn) {
  std::promise<Status> promise;
  auto fut = promise.get_future();
  Submit(std::move(fn), [&promise](Status s) { promise.set_value(std::move(s)); });
  return fut.get();
}

void GroupCommitter::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitter::Loop() {
  std::deque<Pending> batch;
  for (;;) {
    {
      UniqueLock lock(&mu_);
      cv_.wait(lock.native(), [&] {
        mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
        return stopping_ || !queue_.empty();
      });
      if (queue_.empty() && stopping_) return;
      size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void GroupCommitter::CommitBatch(std::deque<Pending>& batch) {
  int64_t start = clock_->MonotonicNanos();
  std::vector<Status> results(batch.size());
  Status commit_status;
  // On a store that pipelines writes (PostgreSQL) the first pass is optimistic: writes are sent without
  // waiting and without a savepoint per request (savepoints are subtransactions there, and dozens per
  // transaction slow the whole server). If any request fails, or a pipelined write does, the transaction is
  // rolled back and the batch replayed carefully: each request in its savepoint, every write awaited.
  for (int pass = 0; pass < 2; ++pass) {
    auto txn_or = store_->BeginWrite();
    commit_status = Status::Ok();
    bool replay = false;
    if (!txn_or.ok()) {
      commit_status = txn_or.status();
    } else {
      WriteTxn& txn = **txn_or;
      const bool optimistic = txn.AllowDeferredWrites(pass == 0) && pass == 0;
      bool failed = false;
      for (size_t i = 0; i < batch.size() && !failed; ++i) {
        if (optimistic) {
          results[i] = CallContained("group commit write", [&] { return batch[i].fn(txn); });
          failed = !results[i].ok();
          continue;
        }
        Status sp = txn.Savepoint();
        if (!sp.ok()) {
          results[i] = sp;
          continue;
        }
        results[i] = CallContained("group commit write", [&] { return batch[i].fn(txn); });
        Status end = results[i].ok() ? txn.ReleaseSavepoint() : txn.RollbackToSavepoint();
        if (results[i].ok() && !end.ok()) results[i] = end;
      }
      if (optimistic && (failed || txn.DeferredWriteFailed())) {
        (void)txn.Rollback();
        replay = true;
      } else {
        commit_status = txn.Commit();
        replay = optimistic && txn.DeferredWriteFailed();
        if (!commit_status.ok()) (void)txn.Rollback();
      }
    }
    if (replay) {
      continue;  // (an ordinary outcome: a request refused, e.g. a write to a deleted run)
    }
    for (auto& r : results) {
      if (!r.ok() && r.code() == StatusCode::kInternal) {
        TAMGA_LOG(kError, "write failed inside group commit", {{"error", r.ToString()}});
      }
    }
    if (!commit_status.ok()) {
      TAMGA_LOG(kError, "group commit failed", {{"error", commit_status.ToString()}});
      for (auto& r : results) {
        if (r.ok()) r = Internal("commit failed: " + commit_status.message());
      }
    }
    break;
  }
  double secs = double(clock_->MonotonicNanos() - start) / 1e9;
  batch_size_->Observe(double(batch.size()));
  commit_latency_->Observe(secs);
  commits_->Add({{"result", commit_status.ok() ? "ok" : "error"}}, 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    (void)CallContained("group commit completion", [&] { batch[i].done(std::move(results[i])); });
  }
}

}  // namespace tamga
