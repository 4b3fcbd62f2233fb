#include "registry/webhook_dispatcher.h"
#include "core/contain.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/ids.h"
#include "core/log.h"

namespace tamga {

namespace {
constexpr const char* kConsumer = "webhooks";
constexpr int64_t kFanOutBatch = 200;
// A claim outlives the attempt's timeout by this much before another replica may retry the delivery.
constexpr int64_t kClaimMarginMs = 30000;
}  // namespace

int64_t BackoffDelayMs(const RetryPolicy& p, int attempts, double draw) {
  double base = static_cast<double>(p.base_delay_ms) * std::pow(2.0, std::max(0, attempts - 1));
  base = std::min(base, static_cast<double>(p.max_delay_ms));
  double jitter = 0.8 + 0.4 * draw;  // +-20%: spreads retries from many deliveries
  return static_cast<int64_t>(base * jitter);
}

bool RetryableStatus(int status) {
  return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<int64_t> ParseRetryAfterMs(const std::string& header) {
  if (header.empty()) return std::nullopt;
  int64_t secs = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), secs);
  if (ec != std::errc() || end != header.data() + header.size() || secs < 0) return std::nullopt;
  return secs * 1000;
}

WebhookDispatcher::WebhookDispatcher(const Options& options, MetadataStore* store, GroupCommitter* writer,
                                     EventHub* hub, WebhookTransport* transport, Clock* clock, Random* random)
    : options_(options),
      store_(store),
      writer_(writer),
      hub_(hub),
      transport_(transport),
      clock_(clock),
      random_(random) {}

WebhookDispatcher::~WebhookDispatcher() { Shutdown(); }

void WebhookDispatcher::Start() {
  threads_.emplace_back([this] { RunLoopContained("webhook fan-out", [this] { FanOutLoop(); }); });
  for (int i = 0; i < std::max(1, options_.sender_threads); ++i)
    threads_.emplace_back([this] { RunLoopContained("webhook sender", [this] { SenderLoop(); }); });
}

void WebhookDispatcher::Shutdown() {
  if (stopping_.exchange(true)) return;
  Wake();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WebhookDispatcher::Wake() {
  {
    MutexLock lock(&mu_);
    ++wakeups_;
  }
  cv_.notify_all();
}

Status WebhookDispatcher::FanOut(const std::vector<RegistryEvent>& events, bool* leased) {
  TAMGA_ASSIGN_OR_RETURN(auto hooks, store_->registry().ListWebhooks());
  int64_t now = clock_->NowMillis();
  std::vector<WebhookDelivery> rows;
  for (const auto& e : events) {
    for (const auto& h : hooks) {
      if (h.status != WebhookStatus::kActive) continue;
      if (std::find(h.events.begin(), h.events.end(), e.type) == h.events.end()) continue;
      if (!h.model_name.empty() && h.model_name != e.model_name) continue;
      WebhookDelivery d;
      d.delivery_id = NewRunId(*random_);
      d.webhook_id = h.webhook_id;
      d.event_seq = e.seq;
      d.event_type = e.type;
      d.next_attempt_at = now;
      d.created_at = d.updated_at = now;
      rows.push_back(std::move(d));
    }
  }
  int64_t last = events.back().seq;
  size_t inserted = 0;
  const std::string& owner = options_.replica_id;
  int64_t lease_until = now + options_.fan_out_lease_ms;
  TAMGA_RETURN_IF_ERROR(writer_->SubmitAndWait([&](WriteTxn& txn) -> Status {
    inserted = 0;
    *leased = false;
    // The lease and the cursor row lock make the fan-out of each event happen once across replicas: events
    // another replica already fanned out (at or below the stored cursor) are skipped.
    TAMGA_ASSIGN_OR_RETURN(auto stored, txn.registry().ClaimEventCursor(kConsumer, owner, now, lease_until));
    if (!stored) return Status::Ok();
    *leased = true;
    for (const auto& d : rows) {
      if (d.event_seq <= *stored) continue;
      TAMGA_RETURN_IF_ERROR(txn.registry().InsertDelivery(d));
      ++inserted;
    }
    return last > *stored ? txn.registry().SetEventCursor(kConsumer, last) : Status::Ok();
  }));
  if (inserted > 0) Wake();
  return Status::Ok();
}

void WebhookDispatcher::FanOutLoop() {
  auto stored = store_->registry().GetEventCursor(kConsumer);
  int64_t cursor = stored.ok() ? *stored : 0;
  while (!stopping_) {
    auto events = store_->registry().ListEvents(cursor, kFanOutBatch);
    if (!events.ok() || events->empty()) {
      if (!events.ok())
        TAMGA_LOG(kWarn, "webhook fan-out: reading events failed", {{"error", events.status().ToString()}});
      hub_->Wait(cursor, options_.idle_poll_ms);
      continue;
    }
    bool leased = false;
    Status s = FanOut(*events, &leased);
    if (!s.ok()) {
      TAMGA_LOG(kWarn, "webhook fan-out failed; will retry", {{"error", s.ToString()}});
      hub_->Wait(INT64_MAX, options_.idle_poll_ms);  // back off
      continue;
    }
    if (!leased) {
      // Another replica follows the outbox now: check back later (it may stop), reading from the stored
      // cursor then.
      hub_->Wait(INT64_MAX, options_.idle_poll_ms);
      auto again = store_->registry().GetEventCursor(kConsumer);
      if (again.ok()) cursor = *again;
      continue;
    }
    cursor = events->back().seq;
  }
}

void WebhookDispatcher::SenderLoop() {
  while (!stopping_) {
    int64_t now = clock_->NowMillis();
    std::vector<WebhookDelivery> claimed;
    Status s = writer_->SubmitAndWait([&](WriteTxn& txn) -> Status {
      TAMGA_ASSIGN_OR_RETURN(
          claimed, txn.registry().ClaimDeliveries(now, options_.replica_id,
                                                  now + options_.delivery_timeout_ms + kClaimMarginMs, 1));
      return Status::Ok();
    });
    if (!s.ok()) TAMGA_LOG(kWarn, "claiming webhook deliveries failed", {{"error", s.ToString()}});
    if (s.ok() && !claimed.empty()) {
      Send(std::move(claimed.front()));
      continue;
    }
    // Nothing to send: sleep until the next due delivery, a wake-up, or the idle poll.
    int64_t wait_ms = options_.idle_poll_ms;
    auto next = store_->registry().NextDeliveryDue();
    if (s.ok() && next.ok() && *next) wait_ms = std::clamp<int64_t>(**next - clock_->NowMillis(), 1, wait_ms);
    UniqueLock lock(&mu_);
    uint64_t seen = wakeups_;
    cv_.wait_for(lock.native(), std::chrono::milliseconds(wait_ms), [&] {
      mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return stopping_ || wakeups_ != seen;
    });
  }
}

void WebhookDispatcher::Send(WebhookDelivery d) {
  int64_t now = clock_->NowMillis();
  auto hook = store_->registry().GetWebhook(d.webhook_id);
  auto events = store_->registry().ListEvents(d.event_seq - 1, 1);
  d.updated_at = now;
  if (!hook.ok() || hook->status != WebhookStatus::kActive || !events.ok() || events->empty() ||
      events->front().seq != d.event_seq) {
    d.state = DeliveryState::kFailed;
    d.last_error = !hook.ok()                               ? "webhook deleted"
                   : hook->status != WebhookStatus::kActive ? "webhook disabled"
                                                            : "event missing";
  } else {
    const RegistryEvent& e = events->front();
    WebhookPost post = BuildWebhookPost(*hook, d.delivery_id, e.type, e.timestamp, e.data, now,
                                        options_.delivery_timeout_ms);
    auto reply = transport_->Post(post);
    ++d.attempts;
    d.last_status = reply.ok() ? reply->status : 0;
    d.last_error =
        reply.ok() ? (reply->status >= 300 ? reply->body.substr(0, 500) : "") : reply.status().message();
    if (reply.ok() && reply->status >= 200 && reply->status < 300) {
      d.state = DeliveryState::kSucceeded;
    } else if (!RetryableStatus(d.last_status) || d.attempts >= options_.retry.max_attempts) {
      d.state = DeliveryState::kFailed;
    } else {
      int64_t delay =
          BackoffDelayMs(options_.retry, d.attempts, static_cast<double>(random_->Next() % 1000000) / 1e6);
      if (reply.ok()) {
        if (auto ra = ParseRetryAfterMs(reply->retry_after))
          delay = std::min(*ra, options_.retry.max_retry_after_ms);
      }
      d.next_attempt_at = clock_->NowMillis() + delay;
    }
    TAMGA_LOG(kInfo, "webhook delivery attempt",
              {{"webhook_id", d.webhook_id},
               {"delivery_id", d.delivery_id},
               {"event", d.event_type},
               {"status", std::to_string(d.last_status)},
               {"attempt", std::to_string(d.attempts)},
               {"state", DeliveryStateName(d.state)}});
  }
  Status s = writer_->SubmitAndWait([d](WriteTxn& txn) { return txn.registry().UpdateDelivery(d); });
  if (!s.ok()) TAMGA_LOG(kWarn, "recording webhook delivery failed", {{"error", s.ToString()}});
}

}  // namespace tamga
