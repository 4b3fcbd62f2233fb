#pragma once
// Webhooks, MLflow-3-compatible: CRUD over the store, MLflow's event names, payload shape and signature
// headers; plus Tamga's delivery log. Deliveries themselves come from the outbox via WebhookDispatcher.
//
// Signature (MLflow's scheme): X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret,
// "<delivery_id>.<timestamp>.<body>")>, with X-MLflow-Delivery-Id and X-MLflow-Timestamp (Unix seconds).
//
// Thread-safe. Borrows every dependency.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_executor.h"
#include "core/clock.h"
#include "core/random.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"

namespace tamga {

// The seam through which deliveries leave the process (HTTP in production).
struct WebhookPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 10000;
};
struct WebhookReply {
  int status = 0;
  std::string body;         // possibly cut
  std::string retry_after;  // the Retry-After header, "" when absent
};
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // Unavailable / DeadlineExceeded when no HTTP response arrived.
  virtual Result<WebhookReply> Post(const WebhookPost& post) = 0;
};

struct WebhookSpec {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;  // "<entity>.<action>", lower case
  std::optional<std::string> secret;
  std::optional<WebhookStatus> status;
  std::optional<std::string> model_name;  // Tamga: only this registered model's events (set at creation)
};

struct WebhookTestResult {
  bool success = false;
  int response_status = 0;
  std::string response_body;
  std::string error_message;
};

// The request a delivery sends: JSON body and headers (signature when a secret is set).
WebhookPost BuildWebhookPost(const Webhook& hook, const std::string& delivery_id,
                             const std::string& event_type, int64_t event_timestamp_ms,
                             const std::string& data_json, int64_t now_ms, int64_t timeout_ms);
// "model_version.created" or {"entity":"MODEL_VERSION","action":"CREATED"} parts -> canonical name;
// InvalidArgument unless it is one of MLflow's webhook events.
Result<std::string> CanonicalWebhookEvent(const std::string& entity, const std::string& action);

class WebhookService {
 public:
  using Done = std::function<void(Status)>;
  using DoneWebhook = std::function<void(Result<Webhook>)>;

  struct Options {
    int64_t delivery_timeout_ms = 10000;  // also bounds test deliveries
    int test_threads = 4;                 // test deliveries run on a bounded pool, never a thread per call
    size_t max_queued_tests = 16;         // beyond this TestAsync answers ResourceExhausted (429)
  };

  WebhookService(const Options& options, MetadataStore* store, GroupCommitter* writer,
                 WebhookTransport* transport, Clock* clock, Random* random);

  // name, url and events are required on create (InvalidArgument otherwise).
  void Create(WebhookSpec spec, DoneWebhook done);
  void Update(const std::string& webhook_id, WebhookSpec spec, DoneWebhook done);
  void Delete(const std::string& webhook_id, Done done);
  Result<Webhook> Get(const std::string& webhook_id);
  struct Page {
    std::vector<Webhook> webhooks;
    std::string next_page_token;
  };
  // `visible` (null = every hook) filters before paging, so pages stay full for callers who see only some.
  Result<Page> List(int64_t max_results, const std::string& page_token,
                    const std::function<bool(const Webhook&)>& visible = nullptr);
  struct DeliveryPage {
    std::vector<WebhookDelivery> deliveries;
    std::string next_page_token;
  };
  Result<DeliveryPage> ListDeliveries(const std::string& webhook_id, int64_t max_results,
                                      const std::string& page_token);
  // Sends an example payload for `event` (default: the webhook's first event) now, blocking up to the
  // delivery timeout. Not recorded in the delivery log.
  Result<WebhookTestResult> Test(const std::string& webhook_id, const std::optional<std::string>& event);
  // Test() on the bounded test pool; `done` runs there, exactly once (ResourceExhausted at once when the
  // pool's queue is full).
  void TestAsync(const std::string& webhook_id, const std::optional<std::string>& event,
                 std::function<void(Result<WebhookTestResult>)> done);

 private:
  Status Validate(const WebhookSpec& spec, bool create);

  const Options options_;
  MetadataStore* store_;
  GroupCommitter* writer_;
  WebhookTransport* transport_;
  Clock* clock_;
  Random* random_;
  std::unique_ptr<BoundedExecutor> test_pool_;  // declared last: joined first, while the rest is alive
};

}  // namespace tamga
