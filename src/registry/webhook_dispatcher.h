#pragma once
// WebhookDispatcher: turns outbox events into durable webhook deliveries and sends them.
//
// Fan-out thread: follows the outbox from its stored cursor ("webhooks"); for each event, one delivery
// row per active webhook subscribed to it, inserted in the same transaction that advances the cursor, so
// a restart neither loses nor duplicates fan-out. Sender threads: claim a due delivery (a lease in the
// database, so with several replicas each attempt is made by one of them) and send it (at-least-once;
// the delivery id is stable across retries so receivers can deduplicate), retry network errors, 408,
// 429 and 5xx with exponential backoff and jitter (honouring Retry-After), give up after max_attempts;
// other statuses are final. Every attempt is recorded. With several replicas one of them follows the outbox
// at a time (a lease on the "webhooks" cursor); a replica that dies mid-attempt leaves its claims to run out
// (delivery timeout + 30 s), after which another replica retries them. Nothing here runs on a request thread,
// so a slow or dead receiver never stalls the API.
//
// Thread-safe. Start() launches the threads; Shutdown() stops them (in-flight sends finish first).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/random.h"
#include "registry/event_hub.h"
#include "registry/webhook_service.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"

namespace tamga {

struct RetryPolicy {
  int max_attempts = 8;
  int64_t base_delay_ms = 1000;   // attempt n waits base * 2^(n-1), +-20% jitter
  int64_t max_delay_ms = 300000;  // cap on one backoff
  int64_t max_retry_after_ms = 3600000;
};
// Delay before the next attempt after `attempts` failed ones, from a uniform draw in [0, 1).
int64_t BackoffDelayMs(const RetryPolicy& p, int attempts, double draw);
// Whether a delivery answered with `status` (0: no response) should be retried.
bool RetryableStatus(int status);
// Retry-After as milliseconds (delta-seconds only); nullopt when absent or not a number.
std::optional<int64_t> ParseRetryAfterMs(const std::string& header);

class WebhookDispatcher {
 public:
  struct Options {
    int sender_threads = 4;
    int64_t delivery_timeout_ms = 10000;
    RetryPolicy retry;
    int64_t idle_poll_ms = 1000;       // upper bound on how long a due delivery waits when nothing wakes us
    std::string replica_id = "local";  // owner of this process's leases (unique per replica)
    int64_t fan_out_lease_ms = 15000;  // how long the fan-out lease outlives its holder's last batch
  };

  WebhookDispatcher(const Options& options, MetadataStore* store, GroupCommitter* writer, EventHub* hub,
                    WebhookTransport* transport, Clock* clock, Random* random);
  ~WebhookDispatcher();  // Shutdown()

  void Start();
  void Shutdown();

 private:
  void FanOutLoop();
  void SenderLoop();
  // *leased: whether this replica holds the fan-out lease (false: another one follows the outbox now).
  Status FanOut(const std::vector<RegistryEvent>& events, bool* leased);
  void Send(WebhookDelivery d);
  void Wake();

  const Options options_;
  MetadataStore* store_;
  GroupCommitter* writer_;
  EventHub* hub_;
  WebhookTransport* transport_;
  Clock* clock_;
  Random* random_;

  std::atomic<bool> stopping_{false};
  Mutex mu_;
  std::condition_variable cv_;
  uint64_t wakeups_ GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace tamga
