#pragma once
// AWS Signature Version 4 (the S3 API of Ceph RGW, MinIO and AWS; docs/scale-out.md): signs a request by
// adding x-amz-date, x-amz-content-sha256, x-amz-security-token (with a session token) and Authorization, or
// builds a presigned URL query. Pure functions over the request's parts (no I/O, no clock: the caller passes
// the time), so they are checked against AWS's published examples.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tamga {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // "" unless temporary credentials (AWS_SESSION_TOKEN)
};

struct SigV4Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
  std::string amz_date;  // "YYYYMMDDTHHMMSSZ" (UTC)
};

struct SigV4Request {
  std::string method = "GET";
  std::string path = "/";  // already URI-encoded as sent (S3: each key segment encoded, '/' kept)
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // must contain Host; names any case
  std::string payload_sha256;  // lower-case hex of the body, or "UNSIGNED-PAYLOAD"
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, everything
// else %XX upper-case; '/' kept when `keep_slash`.
std::string SigV4Encode(std::string_view s, bool keep_slash);
// "AWS4-HMAC-SHA256" canonical request and its pieces (exposed for tests and error messages).
std::string SigV4CanonicalRequest(const SigV4Request& r, std::string* signed_headers);
std::string SigV4StringToSign(const SigV4Scope& scope, std::string_view canonical_request);
// The hex signature of a string to sign.
std::string SigV4Signature(const SigV4Credentials& c, const SigV4Scope& scope,
                           std::string_view string_to_sign);

// Adds x-amz-date, x-amz-content-sha256 (when absent), x-amz-security-token (with a session token) and
// Authorization to r.headers.
void SigV4Sign(SigV4Request& r, const SigV4Credentials& c, const SigV4Scope& scope);

// The query string of a presigned URL (X-Amz-Algorithm ... X-Amz-Signature) valid for `expires_s` seconds;
// r.query's own parameters come first, all encoded. The payload is UNSIGNED-PAYLOAD.
std::string SigV4Presign(const SigV4Request& r, const SigV4Credentials& c, const SigV4Scope& scope,
                         int64_t expires_s);

}  // namespace tamga
