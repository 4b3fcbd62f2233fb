#pragma once
// LeaderForwarder: several replicas on one PostgreSQL run one job scheduler, on the replica holding the
// leader lock (docs/scale-out.md). On the others, the job, agent, queue, tier and quota routes hand each
// request to the leader over HTTP and relay its answer, so every replica serves the full API. The leader
// authenticates and authorises the request again (the identity store is shared); a request that was forwarded
// once is never forwarded again (no ping-pong while the lock moves): it gets 503 with Retry-After instead.
//
// Forwarded calls block a thread of the forwarder's own pools: long-polls (agents' leases, log follows: up to
// 30 s) have a pool of their own and are refused at once (429) when it is full, so waiting requests never
// delay the short ones (a heartbeat, a submit) behind them; each client's long-polls also count against the
// server's per-client limit before they are forwarded (Forwarded() in routes). Past the short pool and its
// queue: 503 with Retry-After. Thread-safe.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/bounded_executor.h"
#include "http/http_types.h"

namespace tamga {

class LeaderForwarder {
 public:
  struct Options {
    int threads = 16;  // short calls
    size_t max_queued = 256;
    int long_poll_threads = 64;  // waiting calls; a full pool means 429, not a queue
    int64_t timeout_ms = 60000;  // beyond the longest long-poll
    size_t max_response_bytes = 64 << 20;
  };
  // leader_url(): the leader's base URL ("http://10.0.0.5:5000"), or nullopt when this replica leads;
  // "" when no replica leads at this moment.
  LeaderForwarder(Options options, std::function<std::optional<std::string>()> leader_url);

  // False when this replica leads (the caller handles the request); otherwise takes `respond` and answers
  // through it once the leader has.
  bool Forward(HttpRequest& req, Responder& respond);
  // Whether requests go to another replica now (this one does not lead).
  bool Forwards() const { return leader_url_().has_value(); }
  // Whether this request waits on the leader (a lease or a log follow with a wait).
  static bool IsLongPoll(const HttpRequest& req);

  static constexpr const char* kForwardedHeader = "x-tamga-forwarded";

 private:
  Options options_;
  std::function<std::optional<std::string>()> leader_url_;
  std::unique_ptr<BoundedExecutor> pool_;
  std::unique_ptr<BoundedExecutor> long_pool_;
};

}  // namespace tamga
