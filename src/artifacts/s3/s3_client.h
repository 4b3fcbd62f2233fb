#pragma once
// S3Client: the handful of S3 calls the S3 blob store needs (Ceph RGW, MinIO, AWS; docs/scale-out.md), over
// the outbound HTTP client and SigV4. Every call is retried with exponential backoff and jitter on 5xx,
// SlowDown, RequestTimeout and connection failures (never on other 4xx); answers map onto Status codes with
// S3's own error code and message. Keys are passed as they are stored (the bucket prefix already applied).
// Secrets never appear in errors or logs. Thread-safe: each call uses its own connection.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "artifacts/s3/s3_xml.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/store_uri.h"
#include "net/http_client.h"
#include "net/sigv4.h"

namespace tamga {

struct S3Config {
  // "http(s)://host[:port]" of the S3 server; "" = AWS (https://s3.<region>.amazonaws.com).
  std::string endpoint;
  std::string region = "us-east-1";
  SigV4Credentials credentials;
  bool path_style = true;  // http://endpoint/bucket/key; false: http://bucket.endpoint/key
  std::string bucket;
  std::string prefix;   // key prefix without leading or trailing '/'; "" = the bucket's root
  std::string ca_file;  // HTTPS trust besides the system store ("" = the process default)
  // Over plain HTTP, sign each body's SHA-256 (integrity on the wire); HTTPS sends UNSIGNED-PAYLOAD.
  bool sign_payload = true;
  int max_attempts = 5;
  int64_t base_backoff_ms = 100;
  int64_t timeout_ms = 30000;  // per attempt (a part of 8 MiB needs ~0.3 MB/s to make it)
};

// The configuration for `s3://bucket/prefix` from the variables MLflow and the AWS tools read:
// MLFLOW_S3_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION (or AWS_REGION; default us-east-1) and
// TAMGA_S3_ADDRESSING=path|virtual (path-style by default with an endpoint URL, as Ceph RGW and MinIO expect;
// virtual-host on AWS). InvalidArgument (naming the variable) on missing credentials or a malformed endpoint.
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
Result<S3Config> S3ConfigFromEnv(const StoreUri& uri, const GetEnv& getenv);
GetEnv ProcessEnv();

struct S3Head {
  int64_t size = 0;
  std::string etag;
};

class S3Client {
 public:
  S3Client(S3Config config, Clock* clock);

  const S3Config& config() const { return config_; }
  // "prefix/path" (or "path" without a prefix).
  std::string KeyOf(const std::string& path) const;

  // The bucket answers and the credentials are accepted (a clear error at start-up instead of at first use).
  Status CheckBucket();
  Status Put(const std::string& key, std::string body);
  // NotFound when absent.
  Result<S3Head> Head(const std::string& key);
  // Bytes [offset, offset+length) of the object; FailedPrecondition when its ETag is no longer `if_match`
  // (overwritten while being read).
  Result<std::string> GetRange(const std::string& key, int64_t offset, int64_t length,
                               const std::string& if_match);
  Result<S3ListPage> List(const std::string& prefix, const std::string& delimiter,
                          const std::string& continuation_token, int max_keys = 1000);
  // At most 1000 keys per call (DeleteObjects); keys already gone count as deleted.
  Status DeleteKeys(const std::vector<std::string>& keys);
  Status Copy(const std::string& from_key, const std::string& to_key);

  Result<std::string> CreateMultipart(const std::string& key);
  // The part's ETag.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                 std::string body);
  // Bytes [first, last] of `from_key` as one part (multipart copy of objects over 5 GiB); the part's ETag.
  Result<std::string> UploadPartCopy(const std::string& key, const std::string& upload_id, int part_number,
                                     const std::string& from_key, int64_t first, int64_t last);
  Status CompleteMultipart(const std::string& key, const std::string& upload_id,
                           const std::vector<std::pair<int, std::string>>& part_etags);
  Status AbortMultipart(const std::string& key, const std::string& upload_id);
  // NotFound unless `upload_id` is an upload in progress for `key` (ListParts).
  Status CheckUpload(const std::string& key, const std::string& upload_id);

  // A presigned URL for one part of a multipart upload (MLflow's proxy multipart: the client PUTs the part
  // straight to the S3 server), valid `expires_s` seconds.
  std::string PresignUploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                int64_t expires_s);

 private:
  struct Call {
    std::string method = "GET";
    std::string key;  // "" = the bucket itself
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    size_t max_response_bytes = 1 << 20;
  };
  // Signs and sends with retries; returns the last answer (any status) or the last transport error.
  Result<HttpClientResponse> Send(const Call& call);
  HttpClientRequest Build(const Call& call, const std::string& amz_date) const;
  Status ErrorOf(const Call& call, const HttpClientResponse& res) const;
  std::string AmzDate() const;
  std::string CopySource(const std::string& from_key) const;

  S3Config config_;
  Clock* clock_;
  bool https_ = false;
  std::string host_;  // host[:port] as sent in Host (with the bucket in front for virtual-host addressing)
  std::string base_url_;
};

}  // namespace tamga
