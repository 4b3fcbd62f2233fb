#pragma once
// DynamicBatcher: the request queue and executor threads of one loaded model version.
//
// Requests (a list of input tensors whose dimension 0 is the batch) are queued; each executor thread owns
// one ModelRuntime instance, takes the oldest request and, when batching is on, keeps taking compatible
// requests (same dtypes and trailing dimensions) until the batch holds max_batch_size rows, reaches a
// preferred size with nothing else queued, or the oldest request has waited max_queue_delay_us. The
// batch's inputs are concatenated, executed once, and the outputs split back by rows, so every caller
// gets exactly its own rows. A full queue answers ResourceExhausted at once (HTTP 429).
//
// Thread-safe. Completions run on executor threads and must be quick.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

struct BatchingOptions {
  int max_batch_size = 0;                  // rows; 0 or 1 = no batching
  std::vector<int> preferred_batch_sizes;  // dispatch early at these sizes when the queue is empty
  int64_t max_queue_delay_us = 0;          // how long the oldest request may wait for a fuller batch
  size_t max_queue = 1024;                 // queued requests before ResourceExhausted
};

struct InferTimings {
  int64_t queue_ns = 0;    // enqueue -> execution start
  int64_t compute_ns = 0;  // Execute() of the whole batch
  int64_t batch_rows = 0;  // rows in the batch this request ran in
};

using InferDone = std::function<void(Result<std::vector<Tensor>> outputs, InferTimings timings)>;

class DynamicBatcher {
 public:
  // One executor thread per runtime instance.
  DynamicBatcher(BatchingOptions options, std::vector<std::unique_ptr<ModelRuntime>> instances);
  ~DynamicBatcher();  // Stop()

  // Inputs in signature order, already validated. Returns ResourceExhausted (queue full) or Unavailable
  // (stopped) without calling `done` and leaves `inputs` untouched (the caller may retry elsewhere);
  // otherwise takes `inputs` and calls `done` exactly once.
  Status Submit(std::vector<Tensor>& inputs, InferDone done);
  // Stops accepting, runs what is queued, joins the executors. Idempotent.
  void Stop();
  size_t queued() const;
  const BatchingOptions& options() const { return options_; }

 private:
  struct Request {
    std::vector<Tensor> inputs;
    InferDone done;
    std::chrono::steady_clock::time_point enqueued;
  };
  void ExecutorLoop(ModelRuntime* runtime);
  bool Compatible(const Request& a, const Request& b) const;
  void RunBatch(ModelRuntime* runtime, std::vector<Request>& batch);

  const BatchingOptions options_;
  std::vector<std::unique_ptr<ModelRuntime>> instances_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tamga
