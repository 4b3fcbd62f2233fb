#include "registry/webhook_service.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/hmac.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "core/python_repr.h"
#include "core/uri.h"
#include "core/utf8.h"
#include "registry/registry_events.h"
#include "tracking/tracking_service.h"

namespace tamga {
namespace {

std::string Iso8601(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// MLflow's example payloads, sent by the test endpoint.
std::string ExampleData(const std::string& event) {
  if (event == event_type::kModelCreated) {
    return R"({"name":"example_model","tags":{"example_key":"example_value"},"description":"An example registered model"})";
  }
  if (event == event_type::kVersionCreated) {
    return R"({"name":"example_model","version":"1","source":"models:/123","run_id":"abcd1234abcd5678","tags":{"example_key":"example_value"},"description":"An example model version"})";
  }
  if (event == event_type::kVersionTagSet) {
    return R"({"name":"example_model","version":"1","key":"example_key","value":"example_value"})";
  }
  if (event == event_type::kVersionTagDeleted)
    return R"({"name":"example_model","version":"1","key":"example_key"})";
  if (event == event_type::kAliasCreated)
    return R"({"name":"example_model","alias":"example_alias","version":"1"})";
  return R"({"name":"example_model","alias":"example_alias"})";
}

}  // namespace

Result<std::string> CanonicalWebhookEvent(const std::string& entity, const std::string& action) {
  std::string name = Lower(entity) + "." + Lower(action);
  const auto& known = MlflowWebhookEventTypes();
  if (std::find(known.begin(), known.end(), name) == known.end()) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return InvalidArgument("Invalid webhook event '" + std::string(Utf8Prefix(name, 100)) +
                           "'. Valid events are: " + list);
  }
  return name;
}

WebhookPost BuildWebhookPost(const Webhook& hook, const std::string& delivery_id,
                             const std::string& event_type, int64_t event_timestamp_ms,
                             const std::string& data_json, int64_t now_ms, int64_t timeout_ms) {
  size_t dot = event_type.find('.');
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Field("entity", event_type.substr(0, dot));
  w.Field("action", event_type.substr(dot + 1));
  w.Field("timestamp", Iso8601(event_timestamp_ms));
  w.Key("data");
  w.Raw(data_json);
  w.EndObject();
  std::string ts = std::to_string(now_ms / 1000);
  WebhookPost post;
  post.url = hook.url;
  post.timeout_ms = timeout_ms;
  post.headers = {{"Content-Type", "application/json"},
                  {"X-MLflow-Delivery-Id", delivery_id},
                  {"X-MLflow-Timestamp", ts}};
  if (!hook.secret.empty()) {
    std::string sig = HmacSha256(hook.secret, delivery_id + "." + ts + "." + body);
    post.headers.emplace_back("X-MLflow-Signature", "v1," + Base64Encode(sig));
  }
  post.body = std::move(body);
  return post;
}

WebhookService::WebhookService(const Options& options, MetadataStore* store, GroupCommitter* writer,
                               WebhookTransport* transport, Clock* clock, Random* random)
    : options_(options),
      store_(store),
      writer_(writer),
      transport_(transport),
      clock_(clock),
      random_(random),
      test_pool_(std::make_unique<BoundedExecutor>(
          BoundedExecutor::Options{"webhook-tests", options.test_threads, options.max_queued_tests})) {}

namespace {

// MLflow 3.x's _validate_webhook_url (its messages), plus Tamga's own: a host, no whitespace, <= 2048.
Status ValidateWebhookUrl(const std::string& url) {
  bool blank = true;
  for (char c : url) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank) return InvalidArgument("Webhook URL cannot be empty or just whitespace: " + PythonRepr(url));
  UriParts parts = ParseUri(url);
  bool open = parts.netloc.find('[') != std::string::npos,
       close = parts.netloc.find(']') != std::string::npos;
  if (open != close) {
    return InvalidArgument("Invalid webhook URL " + PythonRepr(url) + ": ValueError('Invalid IPv6 URL')");
  }
  if (parts.scheme != "http" && parts.scheme != "https") {
    return InvalidArgument("Invalid webhook URL scheme: " + PythonRepr(parts.scheme) +
                           ". Allowed schemes are: http, https.");
  }
  bool clean = url.find_first_of(" \t\r\n") == std::string::npos;
  if (parts.netloc.empty() || !clean || url.size() > 2048) {
    return InvalidArgument("Invalid webhook URL " + PythonRepr(url) +
                           ": it needs a host, no whitespace and at most 2048 characters.");
  }
  return Status::Ok();
}

}  // namespace

Status WebhookService::Validate(const WebhookSpec& spec, bool create) {
  if (create) {
    if (!spec.name || spec.name->empty())
      return InvalidArgument("Missing value for required parameter 'name'");
    if (!spec.url || spec.url->empty()) return InvalidArgument("Missing value for required parameter 'url'");
    if (!spec.events || spec.events->empty())
      return InvalidArgument("Missing value for required parameter 'events'");
  }
  if (spec.name && (spec.name->empty() || spec.name->size() > 256)) {
    return InvalidArgument("Webhook name must be 1 to 256 characters long");
  }
  if (spec.description && spec.description->size() > 1000) {
    return InvalidArgument("Webhook description must be at most 1000 characters long");
  }
  if (spec.url) TAMGA_RETURN_IF_ERROR(ValidateWebhookUrl(*spec.url));
  if (spec.events && spec.events->empty()) return InvalidArgument("Webhook events must not be empty");
  if (spec.secret && spec.secret->size() > 1024) return InvalidArgument("Webhook secret is too long");
  return Status::Ok();
}

void WebhookService::Create(WebhookSpec spec, DoneWebhook done) {
  Status valid = Validate(spec, true);
  if (!valid.ok()) return done(valid);
  Webhook w;
  w.webhook_id = NewRunId(*random_);
  w.name = *spec.name;
  w.description = spec.description.value_or("");
  w.url = *spec.url;
  w.events = *spec.events;
  w.secret = spec.secret.value_or("");
  w.status = spec.status.value_or(WebhookStatus::kActive);
  w.model_name = spec.model_name.value_or("");
  if (!w.model_name.empty()) {
    auto model = store_->registry().GetRegisteredModel(w.model_name);
    if (!model.ok()) return done(model.status());
  }
  w.creation_timestamp = w.last_updated_timestamp = clock_->NowMillis();
  writer_->Submit([w](WriteTxn& txn) { return txn.registry().PutWebhook(w); },
                  [w, done = std::move(done)](Status s) {
                    if (!s.ok()) return done(s);
                    done(w);
                  });
}

void WebhookService::Update(const std::string& webhook_id, WebhookSpec spec, DoneWebhook done) {
  Status valid = Validate(spec, false);
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<Webhook>();
  int64_t now = clock_->NowMillis();
  writer_->Submit(
      [webhook_id, spec = std::move(spec), reply, now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(Webhook w, txn.registry().reader().GetWebhook(webhook_id));
        if (spec.name) w.name = *spec.name;
        if (spec.description) w.description = *spec.description;
        if (spec.url) w.url = *spec.url;
        if (spec.events) w.events = *spec.events;
        if (spec.secret) w.secret = *spec.secret;
        if (spec.status) w.status = *spec.status;
        if (spec.model_name && *spec.model_name != w.model_name)
          return InvalidArgument("A webhook's model_name is set when it is created; create a new webhook.");
        w.last_updated_timestamp = now;
        TAMGA_RETURN_IF_ERROR(txn.registry().PutWebhook(w));
        *reply = w;
        return Status::Ok();
      },
      [reply, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(*reply);
      });
}

void WebhookService::Delete(const std::string& webhook_id, Done done) {
  writer_->Submit([webhook_id](WriteTxn& txn) { return txn.registry().DeleteWebhook(webhook_id); },
                  std::move(done));
}

Result<Webhook> WebhookService::Get(const std::string& webhook_id) {
  return store_->registry().GetWebhook(webhook_id);
}

Result<WebhookService::Page> WebhookService::List(int64_t max_results, const std::string& page_token,
                                                  const std::function<bool(const Webhook&)>& visible) {
  if (max_results < 1 || max_results > 1000) {
    return InvalidArgument("Invalid value for max_results: must be between 1 and 1000");
  }
  int64_t offset = 0;
  if (!page_token.empty()) {
    TAMGA_ASSIGN_OR_RETURN(offset, DecodeOffsetToken(page_token));
  }
  TAMGA_ASSIGN_OR_RETURN(auto all, store_->registry().ListWebhooks());
  if (visible)
    all.erase(std::remove_if(all.begin(), all.end(), [&](const Webhook& h) { return !visible(h); }),
              all.end());
  Page page;
  for (int64_t i = offset; i < static_cast<int64_t>(all.size()) && i < offset + max_results; ++i) {
    page.webhooks.push_back(all[i]);
  }
  if (offset + max_results < static_cast<int64_t>(all.size()))
    page.next_page_token = EncodeOffsetToken(offset + max_results);
  return page;
}

Result<WebhookService::DeliveryPage> WebhookService::ListDeliveries(const std::string& webhook_id,
                                                                    int64_t max_results,
                                                                    const std::string& page_token) {
  if (max_results < 1 || max_results > 1000) {
    return InvalidArgument("Invalid value for max_results: must be between 1 and 1000");
  }
  int64_t before = 0;
  if (!page_token.empty()) {
    TAMGA_ASSIGN_OR_RETURN(before, DecodeOffsetToken(page_token));
  }
  TAMGA_RETURN_IF_ERROR(store_->registry().GetWebhook(webhook_id).status());
  DeliveryPage page;
  TAMGA_ASSIGN_OR_RETURN(page.deliveries,
                         store_->registry().ListDeliveries(webhook_id, before, max_results + 1));
  if (static_cast<int64_t>(page.deliveries.size()) > max_results) {
    page.deliveries.resize(max_results);
    page.next_page_token = EncodeOffsetToken(page.deliveries.back().delivery_pk);
  }
  return page;
}

Result<WebhookTestResult> WebhookService::Test(const std::string& webhook_id,
                                               const std::optional<std::string>& event) {
  TAMGA_ASSIGN_OR_RETURN(Webhook w, store_->registry().GetWebhook(webhook_id));
  std::string type =
      event ? *event : (w.events.empty() ? std::string(event_type::kModelCreated) : w.events[0]);
  int64_t now = clock_->NowMillis();
  WebhookPost post = BuildWebhookPost(w, "test-" + NewRunId(*random_), type, now, ExampleData(type), now,
                                      options_.delivery_timeout_ms);
  WebhookTestResult out;
  auto reply = transport_->Post(post);
  if (!reply.ok()) {
    out.error_message = reply.status().message();
    return out;
  }
  out.response_status = reply->status;
  out.response_body = std::string(Utf8Prefix(reply->body, 4096));
  out.success = reply->status >= 200 && reply->status < 300;
  return out;
}

void WebhookService::TestAsync(const std::string& webhook_id, const std::optional<std::string>& event,
                               std::function<void(Result<WebhookTestResult>)> done) {
  auto shared_done = std::make_shared<std::function<void(Result<WebhookTestResult>)>>(std::move(done));
  bool queued = test_pool_->TrySubmit([this, webhook_id, event, shared_done] {
    Result<WebhookTestResult> r = Internal("webhook test failed");
    try {
      r = Test(webhook_id, event);
    } catch (const std::exception& e) {
      r = Internal(std::string("webhook test failed: ") + e.what());
    }
    (*shared_done)(std::move(r));
  });
  if (!queued) (*shared_done)(ResourceExhausted("Too many webhook tests in flight; retry later"));
}

}  // namespace tamga
