#include "net/sigv4.h"

#include <algorithm>
#include <cctype>

#include "core/hmac.h"

namespace tamga {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Header values: leading/trailing spaces removed and inner runs of spaces folded to one.
std::string Trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char ch : v) {
    if (ch == ' ' || ch == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(SigV4Encode(k, false), SigV4Encode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

std::string CredentialScope(const SigV4Scope& s) {
  return s.amz_date.substr(0, 8) + "/" + s.region + "/" + s.service + "/aws4_request";
}

}  // namespace

std::string SigV4Encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

std::string SigV4CanonicalRequest(const SigV4Request& r, std::string* signed_headers) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : r.headers) {
    std::string name = Lower(k);
    std::string value = Trimmed(v);
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
    if (it != headers.end()) {
      it->second += "," + value;  // repeated headers: values joined in order
    } else {
      headers.emplace_back(name, value);
    }
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, names;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    names += (names.empty() ? "" : ";") + k;
  }
  if (signed_headers) *signed_headers = names;
  return r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + CanonicalQuery(r.query) + "\n" +
         canonical_headers + "\n" + names + "\n" + r.payload_sha256;
}

std::string SigV4StringToSign(const SigV4Scope& scope, std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + CredentialScope(scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string SigV4Signature(const SigV4Credentials& c, const SigV4Scope& scope,
                           std::string_view string_to_sign) {
  std::string key = HmacSha256("AWS4" + c.secret_key, scope.amz_date.substr(0, 8));
  key = HmacSha256(key, scope.region);
  key = HmacSha256(key, scope.service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, string_to_sign));
}

void SigV4Sign(SigV4Request& r, const SigV4Credentials& c, const SigV4Scope& scope) {
  auto has = [&](std::string_view name) {
    return std::any_of(r.headers.begin(), r.headers.end(),
                       [&](const auto& h) { return Lower(h.first) == name; });
  };
  r.headers.emplace_back("x-amz-date", scope.amz_date);
  if (!has("x-amz-content-sha256")) r.headers.emplace_back("x-amz-content-sha256", r.payload_sha256);
  if (!c.session_token.empty()) r.headers.emplace_back("x-amz-security-token", c.session_token);
  std::string signed_headers;
  std::string canonical = SigV4CanonicalRequest(r, &signed_headers);
  std::string signature = SigV4Signature(c, scope, SigV4StringToSign(scope, canonical));
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + c.access_key + "/" +
                                              CredentialScope(scope) + ", SignedHeaders=" + signed_headers +
                                              ", Signature=" + signature);
}

std::string SigV4Presign(const SigV4Request& r, const SigV4Credentials& c, const SigV4Scope& scope,
                         int64_t expires_s) {
  SigV4Request p = r;
  p.payload_sha256 = "UNSIGNED-PAYLOAD";
  std::string signed_headers;
  {
    SigV4Request names_only = p;
    (void)SigV4CanonicalRequest(names_only, &signed_headers);
  }
  p.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  p.query.emplace_back("X-Amz-Credential", c.access_key + "/" + CredentialScope(scope));
  p.query.emplace_back("X-Amz-Date", scope.amz_date);
  p.query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  if (!c.session_token.empty()) p.query.emplace_back("X-Amz-Security-Token", c.session_token);
  p.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
  std::string canonical = SigV4CanonicalRequest(p, nullptr);
  std::string signature = SigV4Signature(c, scope, SigV4StringToSign(scope, canonical));
  return CanonicalQuery(p.query) + "&X-Amz-Signature=" + signature;
}

}  // namespace tamga
