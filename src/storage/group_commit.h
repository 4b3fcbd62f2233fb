#pragma once
// GroupCommitter: the single writer of a MetadataStore.
//
// Request threads Submit() a write (a function over the open WriteTxn) plus a completion callback.
// One committer thread takes everything queued, runs each write inside its own savepoint of ONE
// transaction, commits, and only then calls every completion with that write's Status. So a caller is
// answered only after its data is durable, and N concurrent writers cost one commit instead of N.
//
// Thread-safe. Completions run on the committer thread and must be quick (post elsewhere to do work).
// Ownership: the committer borrows the store and the metrics registry; both must outlive it.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "storage/metadata_store.h"

namespace tamga {

class GroupCommitter {
 public:
  using WriteFn = std::function<Status(WriteTxn&)>;
  using DoneFn = std::function<void(Status)>;

  struct Options {
    // Upper bound on writes sharing one transaction (keeps commit latency bounded).
    size_t max_batch = 4096;
    // Writes waiting beyond this are refused with ResourceExhausted (back-pressure, not unbounded RAM).
    size_t max_queue = 100000;
  };

  static Result<std::unique_ptr<GroupCommitter>> Create(const Options& options, MetadataStore* store,
                                                        Clock* clock, MetricsRegistry* metrics);
  ~GroupCommitter();  // Shutdown()

  // Queues a write. `done` is called exactly once: with the write's Status after its transaction
  // committed (or failed), or with Unavailable/ResourceExhausted when the committer is stopped/full.
  void Submit(WriteFn fn, DoneFn done);
  // Blocking convenience for callers that are not on an event loop (CLI, tests, start-up).
  Status SubmitAndWait(WriteFn fn);
  // Stops accepting, commits everything queued, joins the thread. Idempotent.
  void Shutdown();

 private:
  struct Pending {
    WriteFn fn;
    DoneFn done;
  };
  GroupCommitter(const Options& options, MetadataStore* store, Clock* clock, MetricsRegistry* metrics);
  void Loop();
  void CommitBatch(std::deque<Pending>& batch);

  const Options options_;
  MetadataStore* store_;
  Clock* clock_;
  Histogram* batch_size_;
  Histogram* commit_latency_;
  MetricFamily* commits_;
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tamga
