#include "core/store_uri.h"

#include <charconv>

#include "core/uri.h"

namespace tamga {
namespace {

Status CheckText(std::string_view uri, const char* flag) {
  if (uri.empty()) return InvalidArgument(std::string(flag) + " is empty");
  if (uri.size() > 4096) return InvalidArgument(std::string(flag) + " is longer than 4096 bytes");
  for (unsigned char c : uri) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument(std::string(flag) + " holds a control character");
  }
  return Status::Ok();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Result<StoreUri> ParsePostgres(std::string_view uri, std::string_view rest) {
  StoreUri u;
  u.kind = StoreUri::Kind::kPostgres;
  u.original = std::string(uri);
  if (!StartsWith(rest, "//"))
    return InvalidArgument("--backend-store-uri: expected postgresql://user:password@host:port/database");
  rest.remove_prefix(2);
  size_t q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  rest = rest.substr(0, q);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.database = Unquote(rest.substr(slash + 1));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    size_t colon = userinfo.find(':');
    u.user = Unquote(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) u.password = Unquote(userinfo.substr(colon + 1));
  }
  std::string_view host = authority;
  if (StartsWith(host, "[")) {  // [::1]:5432
    size_t close = host.find(']');
    if (close == std::string_view::npos)
      return InvalidArgument("--backend-store-uri: unclosed '[' in the host");
    u.host = std::string(host.substr(1, close - 1));
    host.remove_prefix(close + 1);
    if (!host.empty() && host[0] != ':') return InvalidArgument("--backend-store-uri: bad host");
  } else {
    size_t colon = host.rfind(':');
    u.host = Unquote(host.substr(0, colon));
    host = colon == std::string_view::npos ? "" : host.substr(colon);
  }
  if (!host.empty()) {  // ":port"
    std::string_view digits = host.substr(1);
    int port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535) {
      return InvalidArgument("--backend-store-uri: the port must be a number from 1 to 65535");
    }
    u.port = port;
  }
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    size_t eq = kv.find('=');
    if (!kv.empty())
      u.params[Unquote(kv.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : Unquote(kv.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (u.database.empty())
    return InvalidArgument("--backend-store-uri: name the database (postgresql://host/DATABASE)");
  if (u.host.empty() && u.params.count("host") == 0) u.host = "localhost";
  return u;
}

}  // namespace

std::string StoreUri::Redacted() const {
  size_t start = original.find("://");
  if (start == std::string::npos) return original;
  start += 3;
  size_t end = original.find_first_of("/?", start);
  std::string_view authority =
      std::string_view(original).substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return original;
  size_t colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return original;
  return original.substr(0, start + colon + 1) + "***" + original.substr(start + at);
}

Result<StoreUri> ParseBackendStoreUri(std::string_view uri) {
  TAMGA_RETURN_IF_ERROR(CheckText(uri, "--backend-store-uri"));
  if (StartsWith(uri, "sqlite:")) {
    std::string_view rest = uri.substr(7);
    if (!StartsWith(rest, "///")) {
      return InvalidArgument(
          "--backend-store-uri: write sqlite:///relative/path.db or sqlite:////absolute/path.db");
    }
    StoreUri u;
    u.kind = StoreUri::Kind::kSqlite;
    u.original = std::string(uri);
    u.path = Unquote(rest.substr(3));
    if (u.path.empty() || u.path.back() == '/')
      return InvalidArgument("--backend-store-uri: name the database file");
    return u;
  }
  size_t colon = uri.find(':');
  std::string_view scheme = uri.substr(0, colon);
  std::string_view base =
      scheme.substr(0, scheme.find('+'));  // postgresql+psycopg2 (SQLAlchemy's driver suffix)
  if (colon != std::string_view::npos && (base == "postgresql" || base == "postgres")) {
    return ParsePostgres(uri, uri.substr(colon + 1));
  }
  return InvalidArgument("--backend-store-uri: unsupported scheme '" + std::string(scheme.substr(0, 32)) +
                         "' (use sqlite:/// or postgresql://)");
}

Result<StoreUri> ParseArtifactsUri(std::string_view uri) {
  TAMGA_RETURN_IF_ERROR(CheckText(uri, "--artifacts-destination"));
  StoreUri u;
  u.original = std::string(uri);
  if (StartsWith(uri, "s3://")) {
    u.kind = StoreUri::Kind::kS3;
    std::string_view rest = uri.substr(5);
    size_t slash = rest.find('/');
    u.bucket = std::string(rest.substr(0, slash));
    std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    u.prefix = std::string(prefix);
    // S3 bucket names: 3-63 characters of a-z 0-9 . - (no "..", no leading or trailing punctuation).
    bool ok = u.bucket.size() >= 3 && u.bucket.size() <= 63 && u.bucket.find("..") == std::string::npos;
    for (char c : u.bucket)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
    if (ok)
      ok = u.bucket.front() != '.' && u.bucket.front() != '-' && u.bucket.back() != '.' &&
           u.bucket.back() != '-';
    if (!ok)
      return InvalidArgument("--artifacts-destination: '" + u.bucket.substr(0, 64) +
                             "' is not a valid S3 bucket name");
    if (u.prefix.find("//") != std::string::npos)
      return InvalidArgument("--artifacts-destination: empty path segment in the prefix");
    return u;
  }
  u.kind = StoreUri::Kind::kFile;
  if (StartsWith(uri, "file://")) {
    std::string_view rest = uri.substr(7);
    if (!StartsWith(rest, "/"))
      return InvalidArgument("--artifacts-destination: write file:///absolute/path (no host)");
    u.path = Unquote(rest);
  } else if (uri.find("://") != std::string_view::npos) {
    return InvalidArgument(
        "--artifacts-destination: unsupported scheme (use file:///path or s3://bucket/prefix)");
  } else {
    u.path = std::string(uri);
  }
  return u;
}

}  // namespace tamga
