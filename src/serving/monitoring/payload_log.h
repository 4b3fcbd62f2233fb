#pragma once
// PayloadLogger: sampled request/response pairs of served endpoints (docs/rollouts.md §6), the material for
// shadow comparison, retro analysis and drift. Each sampled inference becomes one JSON line
//   {"ts": ms, "model": endpoint, "variant", "version", "protocol", "outcome": "success"|"failure",
//    "latency_ms", "inputs": [{name, datatype, shape, data}], "outputs": [...]}
// (tensor data flat, as V2 JSON; BYTES as strings). Lines are buffered per endpoint and written in batches
// to the blob store as `payload-logs/<endpoint>/<yyyy-mm-dd>/<hh>/<first ts>-<seq>.jsonl` (UTC hour of the
// batch's first record) every `flush_ms` or when a batch reaches `max_batch_records` / 8 MiB. A record over
// `max_record_bytes` is dropped and counted, never truncated. Query reads the hours a time range covers.
//
// Thread-safe; one flusher thread. Borrows the blob store.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/blob_store.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "serving/tensor.h"

namespace tamga {

struct PayloadLogOptions {
  double sample = 0;                 // share of requests logged, (0, 1]; 0 = off
  int64_t max_record_bytes = 65536;  // a larger record is dropped (counted)
};

struct PayloadRecord {
  int64_t ts_ms = 0;
  std::string model, variant, version, protocol;
  bool ok = true;
  double latency_ms = 0;
  const std::vector<Tensor>* inputs = nullptr;
  const std::vector<Tensor>* outputs = nullptr;  // null when inference failed
};

// One JSON line (no trailing newline).
std::string EncodePayloadRecord(const PayloadRecord& r);

struct PayloadQuery {
  std::string model;
  int64_t from_ms = 0;
  int64_t to_ms = INT64_MAX;
  std::string version;  // "" = any
  int64_t max_results = 100;
};

class PayloadLogger {
 public:
  struct Options {
    int64_t flush_ms = 10000;
    int64_t max_batch_records = 10000;
    size_t max_buffered_bytes = size_t{64}
                                << 20;  // across endpoints; beyond it records are dropped (counted)
  };
  PayloadLogger(Options options, BlobStore* blobs, MetricsRegistry* metrics);
  ~PayloadLogger();  // Shutdown()

  // Per endpoint; sample 0 turns logging off (what is buffered is still written).
  void Configure(const std::string& model, PayloadLogOptions options);
  void Log(const PayloadRecord& r);
  // Writes every buffered batch now.
  void Flush();
  // Records of `q.model` in [from_ms, to_ms] (and of `q.version`), oldest first, at most max_results. Reads
  // at most 500 batch files; flushes first so what was logged is visible.
  Result<std::vector<std::string>> Query(const PayloadQuery& q);
  void Shutdown();

 private:
  struct Buffer {
    PayloadLogOptions options;
    std::string lines;
    int64_t records = 0;
    int64_t first_ts = 0;
    int64_t seq = 0;  // the batch's number (file names stay unique within a millisecond)
  };
  void FlushLocked(std::vector<std::pair<std::string, Buffer>>* out) REQUIRES(mu_);
  void Write(const std::string& model, const Buffer& b);

  const Options options_;
  BlobStore* blobs_;
  MetricFamily* logged_;
  MetricFamily* dropped_;
  Mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Buffer> buffers_ GUARDED_BY(mu_);
  size_t buffered_ GUARDED_BY(mu_) = 0;
  int64_t seq_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  Mutex write_mu_;  // one batch write at a time (Flush from Query and the flusher)
  std::thread thread_;
};

}  // namespace tamga
