// The blob store conformance suite and S3-specific behaviour against a real Ceph RADOS Gateway, started by
// tests/harness/ceph_rgw.py around this binary (TAMGA_TEST_S3_ENDPOINT, TAMGA_TEST_S3_BUCKET, AWS_*).
#include "artifacts/s3/s3_blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "conformance/blob_store_conformance.h"

namespace tamga {
namespace {

SystemClock clock_for_tests;

S3Config TestConfig(const std::string& prefix) {
  StoreUri uri;
  uri.kind = StoreUri::Kind::kS3;
  const char* bucket = std::getenv("TAMGA_TEST_S3_BUCKET");
  uri.bucket = bucket ? bucket : "";
  uri.prefix = prefix;
  auto c = S3ConfigFromEnv(uri, ProcessEnv());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : S3Config{};
}

std::unique_ptr<S3BlobStore> MakeStore(const std::string& prefix, S3BlobStore::Options o = {}) {
  o.part_size = 5u << 20;  // the smallest S3 allows: more parts per test blob
  o.read_chunk = 3u << 20;
  auto s = S3BlobStore::Create(o, TestConfig(prefix), &clock_for_tests);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::string FreshPrefix() {
  static std::atomic<int> n{0};
  return "conformance/" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

class RgwEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_NE(std::getenv("TAMGA_TEST_S3_ENDPOINT"), nullptr)
        << "run under tests/harness/ceph_rgw.py (ctest does): it starts the S3 server";
  }
};
const auto* const rgw_env = ::testing::AddGlobalTestEnvironment(new RgwEnvironment);

INSTANTIATE_TEST_SUITE_P(S3, BlobStoreConformance, ::testing::Values([] {
                           return std::unique_ptr<BlobStore>(MakeStore(FreshPrefix()).release());
                         }));

TEST(S3BlobStore, ConfigFromTheUsualVariables) {
  StoreUri uri;
  uri.kind = StoreUri::Kind::kS3;
  uri.bucket = "b";
  std::map<std::string, std::string> env = {{"MLFLOW_S3_ENDPOINT_URL", "http://rgw:7480/"},
                                            {"AWS_ACCESS_KEY_ID", "AK"},
                                            {"AWS_SECRET_ACCESS_KEY", "SK"},
                                            {"AWS_DEFAULT_REGION", "eu-1"}};
  auto get = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto c = S3ConfigFromEnv(uri, get);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://rgw:7480");
  EXPECT_EQ(c->region, "eu-1");
  EXPECT_TRUE(c->path_style);
  env["TAMGA_S3_ADDRESSING"] = "virtual";
  EXPECT_FALSE(S3ConfigFromEnv(uri, get)->path_style);
  env["TAMGA_S3_ADDRESSING"] = "sideways";
  EXPECT_FALSE(S3ConfigFromEnv(uri, get).ok());
  env.erase("TAMGA_S3_ADDRESSING");
  env["MLFLOW_S3_ENDPOINT_URL"] = "ftp://rgw";
  EXPECT_FALSE(S3ConfigFromEnv(uri, get).ok());
  env.erase("MLFLOW_S3_ENDPOINT_URL");
  EXPECT_FALSE(S3ConfigFromEnv(uri, get)->path_style);  // AWS: virtual-host addressing
  env.erase("AWS_SECRET_ACCESS_KEY");
  auto missing = S3ConfigFromEnv(uri, get);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(S3BlobStore, WrongSecretIsRefusedWithoutEchoingIt) {
  S3Config c = TestConfig("x");
  c.credentials.secret_key = "not-the-secret-0123456789";
  auto s = S3BlobStore::Create({}, c, &clock_for_tests);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied) << s.status().ToString();
  EXPECT_EQ(s.status().message().find("not-the-secret"), std::string::npos);
  EXPECT_NE(s.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(S3BlobStore, MissingBucketAndDeadEndpointAreClearErrors) {
  S3Config c = TestConfig("x");
  c.bucket = "no-such-bucket-here";
  auto s = S3BlobStore::Create({}, c, &clock_for_tests);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("no-such-bucket-here"), std::string::npos);

  c = TestConfig("x");
  c.endpoint = "http://127.0.0.1:1";  // nothing listens: retried, then Unavailable
  c.base_backoff_ms = 1;
  c.max_attempts = 3;
  auto dead = S3BlobStore::Create({}, c, &clock_for_tests);
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.status().code(), StatusCode::kUnavailable) << dead.status().ToString();
}

// A reader pinned to the version it opened: an overwrite mid-read fails the read instead of mixing bytes.
TEST(S3BlobStore, OverwriteWhileReadingIsDetected) {
  auto store = MakeStore(FreshPrefix());
  std::string v1(7 << 20, 'a'), v2(7 << 20, 'b');
  for (const std::string* v : {&v1, &v2}) {
    auto w = store->OpenWriter("f");
    ASSERT_TRUE((*w)->Append(*v).ok());
    ASSERT_TRUE((*w)->Commit().ok());
    if (v == &v1) {
      auto r = store->OpenReader("f");
      ASSERT_TRUE(r.ok());
      std::string buf(1 << 20, '\0');
      ASSERT_TRUE((*r)->Read(buf.data(), buf.size()).ok());
      auto w2 = store->OpenWriter("f");
      ASSERT_TRUE((*w2)->Append(v2).ok());
      ASSERT_TRUE((*w2)->Commit().ok());
      Result<size_t> n = size_t{1};
      while (n.ok() && *n > 0) n = (*r)->Read(buf.data(), buf.size());
      ASSERT_FALSE(n.ok());
      EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
      break;
    }
  }
}

// The multipart machinery itself: part order kept with parallel uploads, ETag-less completion checked by
// HEAD.
TEST(S3BlobStore, ParallelPartsKeepTheirOrder) {
  S3BlobStore::Options o;
  o.parallel_parts = 6;
  auto store = MakeStore(FreshPrefix(), o);
  std::string data = BlobStoreConformance::Pattern(33u << 20, 5);
  auto w = store->OpenWriter("parts/blob");
  for (size_t i = 0; i < data.size(); i += 999983) ASSERT_TRUE((*w)->Append(data.substr(i, 999983)).ok());
  ASSERT_TRUE((*w)->Commit().ok());
  auto head = store->client().Head(store->client().KeyOf("parts/blob"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, static_cast<int64_t>(data.size()));
  EXPECT_NE(head->etag.find("-7"), std::string::npos) << head->etag;  // 7 parts of 5 MiB
  auto r = store->OpenReader("parts/blob");
  std::string back;
  std::string buf(1 << 20, '\0');
  for (;;) {
    auto n = (*r)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    back.append(buf.data(), *n);
  }
  EXPECT_EQ(Sha256Hex(back), Sha256Hex(data));
}

}  // namespace
}  // namespace tamga
