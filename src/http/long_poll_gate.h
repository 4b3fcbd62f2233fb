#pragma once
// LongPollGate: bounds the long-polls (events?wait=, jobs/{id}/logs?wait_ms=, agents/{id}/lease) one client
// and all clients together may hold open, so a client cannot pin unbounded server state by opening waits.
// TryEnter returns a ticket held for the life of the wait (release by dropping it), or null when the client
// or the server is at its limit (the route answers 429). Thread-safe.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include "core/mutex.h"

namespace tamga {

class LongPollGate {
 public:
  struct Options {
    int per_client = 64;  // concurrent waits per remote address (agents on one host share it)
    int total = 4096;     // concurrent waits in the whole server
  };
  explicit LongPollGate(const Options& options) : options_(options) {}

  // Null when over a limit; otherwise a ticket that frees the slot when the last copy is destroyed.
  std::shared_ptr<void> TryEnter(const std::string& client);

 private:
  void Leave(const std::string& client);

  const Options options_;
  Mutex mu_;
  std::map<std::string, int> per_client_ GUARDED_BY(mu_);
  int total_ GUARDED_BY(mu_) = 0;
};

}  // namespace tamga
