// Pure registry rules: model URIs, names, aliases, stages, webhook retry policy and signatures.
#include <gtest/gtest.h>

#include "core/hmac.h"
#include "core/json_writer.h"
#include "registry/model_uri.h"
#include "registry/registry_validation.h"
#include "registry/webhook_dispatcher.h"
#include "registry/webhook_service.h"

namespace tamga {
namespace {

TEST(ModelUri, ParsesEveryForm) {
  auto v = ParseModelUri("models:/fraud/3");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, ModelUri::Kind::kVersion);
  EXPECT_EQ(v->name, "fraud");
  EXPECT_EQ(v->version, 3);
  auto a = ParseModelUri("models:/fraud@champion/sub/MLmodel");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, ModelUri::Kind::kAlias);
  EXPECT_EQ(a->alias, "champion");
  EXPECT_EQ(a->sub_path, "sub/MLmodel");
  auto s = ParseModelUri("models:///fraud/production");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, ModelUri::Kind::kStage);
  EXPECT_EQ(s->stage, "Production");
  EXPECT_EQ(ParseModelUri("models:/fraud/latest")->kind, ModelUri::Kind::kLatest);
  auto m = ParseModelUri("models:/m-0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, ModelUri::Kind::kLoggedModel);
}

TEST(ModelUri, RejectsMalformed) {
  for (const char* bad : {"", "models:", "models:/", "runs:/abc/model", "models:/fraud", "models:/fraud/prod",
                          "models:/@a", "models:/fraud@", "models:/fraud/1/../../x", "models:fraud/1"}) {
    EXPECT_FALSE(ParseModelUri(bad).ok()) << bad;
  }
}

TEST(ModelUri, RunsUris) {
  auto r = ParseRunsUri("runs:///abc/model/sub/");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->run_id, "abc");
  EXPECT_EQ(r->path, "model/sub");
  EXPECT_EQ(ParseRunsUri("runs:/abc")->path, "");
  EXPECT_FALSE(ParseRunsUri("models:/m/1").has_value());
}

TEST(ModelUri, ProxiedBlobPath) {
  EXPECT_EQ(*ProxiedBlobPath("mlflow-artifacts:/1/abc/artifacts/model"), "1/abc/artifacts/model");
  EXPECT_EQ(*ProxiedBlobPath("mlflow-artifacts://host:5000/1/abc"), "1/abc");
  EXPECT_FALSE(ProxiedBlobPath("s3://bucket/x").has_value());
  EXPECT_FALSE(ProxiedBlobPath("mlflow-artifacts:/1/../../etc").has_value());
}

TEST(RegistryValidation, NamesAliasesStages) {
  EXPECT_TRUE(ValidateModelName("fraud model v2").ok());
  for (const char* bad : {"", ".", "..", "a/b", "a\\b", "a@b", "a:b", "a\nb"}) {
    EXPECT_FALSE(ValidateModelName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateModelName(std::string(257, 'a')).ok());
  EXPECT_TRUE(ValidateAlias("champion-2_b").ok());
  for (const char* bad : {"", "latest", "LATEST", "v1", "V22", "a b", "a/b", "a.b"}) {
    EXPECT_FALSE(ValidateAlias(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateAlias("v").ok());
  EXPECT_TRUE(ValidateAlias("v1a").ok());
  EXPECT_EQ(*CanonicalStage("pRoDuCtIoN"), "Production");
  EXPECT_FALSE(CanonicalStage("Deleted_Internal").ok());
  EXPECT_EQ(*ParseModelVersion("12"), 12);
  EXPECT_FALSE(ParseModelVersion("0").ok());
  EXPECT_FALSE(ParseModelVersion("-1").ok());
  EXPECT_FALSE(ParseModelVersion("1.0").ok());
}

TEST(WebhookRetry, BackoffGrowsIsCappedAndJittered) {
  RetryPolicy p;
  EXPECT_EQ(BackoffDelayMs(p, 1, 0.5), 1000);
  EXPECT_EQ(BackoffDelayMs(p, 2, 0.5), 2000);
  EXPECT_EQ(BackoffDelayMs(p, 3, 0.0), 3200);  // 4000 * 0.8
  EXPECT_EQ(BackoffDelayMs(p, 30, 0.5), p.max_delay_ms);
  EXPECT_TRUE(RetryableStatus(0));
  EXPECT_TRUE(RetryableStatus(429));
  EXPECT_TRUE(RetryableStatus(503));
  EXPECT_FALSE(RetryableStatus(400));
  EXPECT_FALSE(RetryableStatus(404));
  EXPECT_EQ(*ParseRetryAfterMs("7"), 7000);
  EXPECT_FALSE(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
  EXPECT_FALSE(ParseRetryAfterMs("").has_value());
}

TEST(WebhookPayload, MlflowShapeAndSignature) {
  Webhook w;
  w.url = "http://127.0.0.1/x";
  w.secret = "key";
  WebhookPost p = BuildWebhookPost(w, "d1", "model_version_alias.created", 1700000000123,
                                   R"({"name":"m","alias":"a","version":"1"})", 1700000001000, 5000);
  EXPECT_EQ(
      p.body,
      R"({"entity":"model_version_alias","action":"created","timestamp":"2023-11-14T22:13:20.123000+00:00",)"
      R"("data":{"name":"m","alias":"a","version":"1"}})");
  std::string sig;
  for (const auto& [k, v] : p.headers) {
    if (k == "X-MLflow-Signature") sig = v;
  }
  EXPECT_EQ(sig, "v1," + Base64Encode(HmacSha256("key", "d1.1700000001." + p.body)));
  // RFC 4231 test case 2.
  std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : mac) hex += {kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(CanonicalWebhookEvent("MODEL_VERSION", "CREATED").ok());
  EXPECT_FALSE(CanonicalWebhookEvent("MODEL_VERSION", "STAGE_CHANGED").ok());
}

}  // namespace
}  // namespace tamga
