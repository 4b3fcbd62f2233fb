#pragma once
// AuditLog (docs/identity.md): who changed what and who was refused — time, principal, route, object,
// outcome. Each record is logged at once as a JSON log line (`"msg":"audit"`) and appended to the store's
// append-only table in batches by a background thread (every `flush_interval_ms` or when `batch` records
// wait), so auditing never puts a database write on the request path. Read() writes what waits first.
// Bounded: past `max_pending` unwritten records new ones are counted as dropped (and still logged).
// Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "storage/auth_store.h"

namespace tamga {

class AuditLog {
 public:
  struct Options {
    int flush_interval_ms = 200;
    size_t batch = 512;
    size_t max_pending = 100000;
  };
  AuditLog(const Options& options, AuthStore* store, Clock* clock);
  ~AuditLog();  // writes what waits

  // Fills time_ms when 0.
  void Append(AuditRecord record);
  Result<std::vector<AuditRecord>> Read(const AuditQuery& q);
  int64_t dropped() const;

 private:
  void Loop();
  Status FlushOnce();

  const Options options_;
  AuthStore* const store_;
  Clock* const clock_;
  Mutex write_mu_;  // one batch write at a time (the loop and Read)
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::vector<AuditRecord> pending_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  int64_t dropped_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace tamga
