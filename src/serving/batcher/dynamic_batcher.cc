#include "serving/batcher/dynamic_batcher.h"

#include <algorithm>

namespace tamga {

DynamicBatcher::DynamicBatcher(BatchingOptions options, std::vector<std::unique_ptr<ModelRuntime>> instances)
    : options_(std::move(options)), instances_(std::move(instances)) {
  for (auto& rt : instances_) threads_.emplace_back([this, r = rt.get()] { ExecutorLoop(r); });
}

DynamicBatcher::~DynamicBatcher() { Stop(); }

void DynamicBatcher::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t DynamicBatcher::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

Status DynamicBatcher::Submit(std::vector<Tensor>& inputs, InferDone done) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return Unavailable("the model version is unloading");
    if (queue_.size() >= options_.max_queue) {
      return ResourceExhausted("the model's request queue is full (" + std::to_string(options_.max_queue) +
                               " requests); retry later");
    }
    queue_.push_back(Request{std::move(inputs), std::move(done), std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
  return Status::Ok();
}

bool DynamicBatcher::Compatible(const Request& a, const Request& b) const {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (!RowCompatible(a.inputs[i], b.inputs[i])) return false;
  }
  return true;
}

void DynamicBatcher::ExecutorLoop(ModelRuntime* runtime) {
  const bool batching = options_.max_batch_size > 1 && runtime->signature().batched;
  for (;;) {
    std::vector<Request> batch;
    {
      UniqueLock lock(&mu_);
      cv_.wait(lock.native(), [&] {
        mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
        return stopping_ || !queue_.empty();
      });
      if (queue_.empty()) return;  // stopping and drained
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      if (batching && !batch[0].inputs.empty() && !batch[0].inputs[0].shape.empty()) {
        int64_t rows = batch[0].inputs[0].Rows();
        auto deadline = batch[0].enqueued + std::chrono::microseconds(options_.max_queue_delay_us);
        for (;;) {
          while (!queue_.empty() && rows < options_.max_batch_size && Compatible(batch[0], queue_.front()) &&
                 rows + queue_.front().inputs[0].Rows() <= options_.max_batch_size) {
            rows += queue_.front().inputs[0].Rows();
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
          }
          if (rows >= options_.max_batch_size || stopping_) break;
          if (!queue_.empty()) break;  // the next request does not fit or is incompatible
          const auto& pref = options_.preferred_batch_sizes;
          if (std::find(pref.begin(), pref.end(), rows) != pref.end()) break;
          if (std::chrono::steady_clock::now() >= deadline) break;
          cv_.wait_until(lock.native(), deadline);
        }
        if (!queue_.empty()) cv_.notify_one();  // let another executor take the rest
      }
    }
    RunBatch(runtime, batch);
  }
}

void DynamicBatcher::RunBatch(ModelRuntime* runtime, std::vector<Request>& batch) {
  auto start = std::chrono::steady_clock::now();
  Result<std::vector<Tensor>> result = Internal("unset");
  int64_t total_rows = 0;
  if (batch.size() == 1) {
    total_rows = batch[0].inputs.empty() ? 0 : batch[0].inputs[0].Rows();
    result = runtime->Execute(batch[0].inputs);
  } else {
    std::vector<Tensor> merged;
    for (size_t i = 0; i < batch[0].inputs.size(); ++i) {
      std::vector<const Tensor*> parts;
      for (const auto& r : batch) parts.push_back(&r.inputs[i]);
      merged.push_back(ConcatRows(parts));
    }
    total_rows = merged[0].Rows();
    result = runtime->Execute(merged);
  }
  auto end = std::chrono::steady_clock::now();
  int64_t compute_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  auto timings = [&](const Request& r) {
    return InferTimings{std::chrono::duration_cast<std::chrono::nanoseconds>(start - r.enqueued).count(),
                        compute_ns, total_rows};
  };
  if (batch.size() == 1) {
    batch[0].done(std::move(result), timings(batch[0]));
    return;
  }
  if (result.ok()) {
    for (const auto& o : *result) {
      if (o.shape.empty() || o.shape[0] != total_rows) {
        result = Internal("the model's output '" + o.name + "' is not batched along dimension 0 (shape " +
                          ShapeString(o.shape) + " for " + std::to_string(total_rows) +
                          " rows); disable batching for this model");
        break;
      }
    }
  }
  if (!result.ok()) {
    for (auto& r : batch) r.done(result.status(), timings(r));
    return;
  }
  int64_t offset = 0;
  for (auto& r : batch) {
    int64_t rows = r.inputs[0].Rows();
    std::vector<Tensor> mine;
    for (const auto& o : *result) mine.push_back(SliceRows(o, offset, rows));
    offset += rows;
    r.done(std::move(mine), timings(r));
  }
}

}  // namespace tamga
