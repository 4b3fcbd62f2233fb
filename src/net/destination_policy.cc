#include "net/destination_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace tamga {
namespace {

using Addr = std::array<uint8_t, 16>;

std::optional<Addr> ParseIp(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  size_t zone = s.find('%');  // fe80::1%eth0
  if (zone != std::string::npos) s.resize(zone);
  Addr a{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a[10] = a[11] = 0xff;
    std::memcpy(&a[12], &v4, 4);
    return a;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(a.data(), &v6, 16);
    return a;
  }
  return std::nullopt;
}

bool InPrefix(const Addr& a, const Addr& net, int prefix) {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.data(), net.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (net[full] & mask);
}

Addr Mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  Addr x{};
  x[10] = x[11] = 0xff;
  x[12] = a, x[13] = b, x[14] = c, x[15] = d;
  return x;
}

bool IsMappedV4(const Addr& a) {
  static const Addr kMapped = Mapped(0, 0, 0, 0);
  return InPrefix(a, kMapped, 96);
}

// IPv6 forms that carry an IPv4 destination (NAT64, 6to4) are judged by that IPv4 address.
Addr Normalize(const Addr& a) {
  Addr nat64{};
  nat64[0] = 0x00, nat64[1] = 0x64, nat64[2] = 0xff, nat64[3] = 0x9b;
  if (InPrefix(a, nat64, 96)) return Mapped(a[12], a[13], a[14], a[15]);
  if (a[0] == 0x20 && a[1] == 0x02) return Mapped(a[2], a[3], a[4], a[5]);  // 2002::/16 6to4
  Addr siit{};  // ::ffff:0:a.b.c.d (SIIT, RFC 6145)
  siit[8] = siit[9] = 0xff;
  if (InPrefix(a, siit, 96)) return Mapped(a[12], a[13], a[14], a[15]);
  return a;
}

struct Range {
  const char* why;
  Addr net;
  int prefix;
};

std::vector<Range> DeniedRanges() {
  std::vector<Range> r;
  auto v4 = [&](const char* why, uint8_t a, uint8_t b, uint8_t c, int prefix) {
    r.push_back({why, Mapped(a, b, c, 0), 96 + prefix});
  };
  v4("this network", 0, 0, 0, 8);
  v4("private", 10, 0, 0, 8);
  v4("carrier-grade NAT", 100, 64, 0, 10);
  v4("loopback", 127, 0, 0, 8);
  v4("link-local / cloud metadata", 169, 254, 0, 16);
  v4("private", 172, 16, 0, 12);
  v4("IETF protocol assignments", 192, 0, 0, 24);
  v4("documentation", 192, 0, 2, 24);
  v4("6to4 relay anycast", 192, 88, 99, 24);
  v4("private", 192, 168, 0, 16);
  v4("benchmarking", 198, 18, 0, 15);
  v4("documentation", 198, 51, 100, 24);
  v4("documentation", 203, 0, 113, 24);
  v4("multicast", 224, 0, 0, 4);
  v4("reserved / broadcast", 240, 0, 0, 4);
  auto v6 = [&](const char* why, std::initializer_list<uint8_t> head, int prefix) {
    Addr a{};
    std::copy(head.begin(), head.end(), a.begin());
    r.push_back({why, a, prefix});
  };
  v6("unspecified / loopback / IPv4-compatible", {}, 96);
  v6("discard-only", {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64);
  v6("Teredo", {0x20, 0x01, 0x00, 0x00}, 32);
  v6("documentation", {0x20, 0x01, 0x0d, 0xb8}, 32);
  v6("documentation", {0x3f, 0xff}, 20);
  v6("local-use NAT64", {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48);
  v6("unique-local", {0xfc}, 7);
  v6("link-local", {0xfe, 0x80}, 10);
  v6("site-local", {0xfe, 0xc0}, 10);
  v6("multicast", {0xff}, 8);
  return r;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<DestinationPolicy> DestinationPolicy::Create(const Options& options) {
  DestinationPolicy p;
  p.deny_internal_ = options.deny_internal;
  for (const std::string& raw : options.allow) {
    std::string entry = raw;
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) entry.pop_back();
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) entry.erase(0, 1);
    if (entry.empty()) continue;
    size_t slash = entry.find('/');
    auto addr = ParseIp(entry.substr(0, slash));
    if (!addr) {
      bool name_ok =
          slash == std::string::npos && entry.size() <= 253 &&
          entry.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
              std::string::npos;
      // All digits and dots is a mistyped IPv4 address (300.1.1.1), not a host name.
      if (entry.find_first_not_of("0123456789.") == std::string::npos) name_ok = false;
      if (!name_ok) {
        return InvalidArgument("--outbound-allow: '" + entry + "' is not a CIDR, address or host name");
      }
      p.allow_hosts_.push_back(Lower(entry));
      continue;
    }
    Cidr c;
    c.addr = *addr;
    bool v4 = IsMappedV4(*addr);
    c.prefix = 128;
    if (slash != std::string::npos) {
      std::string bits = entry.substr(slash + 1);
      int n = -1;
      if (!bits.empty() && bits.size() <= 3 && bits.find_first_not_of("0123456789") == std::string::npos) {
        n = std::stoi(bits);
      }
      if (n < 0 || n > (v4 ? 32 : 128))
        return InvalidArgument("--outbound-allow: bad prefix length in '" + entry + "'");
      c.prefix = v4 ? 96 + n : n;
    }
    p.allow_cidrs_.push_back(c);
  }
  return p;
}

DestinationPolicy DestinationPolicy::AllowAll() {
  DestinationPolicy p;
  p.deny_internal_ = false;
  return p;
}

Status DestinationPolicy::Check(std::string_view host, std::string_view ip) const {
  if (!deny_internal_) return Status::Ok();
  auto parsed = ParseIp(ip);
  if (!parsed)
    return PermissionDenied("outbound destination '" + std::string(ip.substr(0, 64)) + "' is not an address");
  std::string lhost = Lower(host);
  if (!lhost.empty() && lhost.front() == '[') lhost = lhost.substr(1, lhost.size() - 2);
  for (const auto& h : allow_hosts_) {
    if (h == lhost) return Status::Ok();
  }
  Addr norm = Normalize(*parsed);
  for (const auto& c : allow_cidrs_) {
    if (InPrefix(*parsed, c.addr, c.prefix) || InPrefix(norm, c.addr, c.prefix)) return Status::Ok();
  }
  static const std::vector<Range> kDenied = DeniedRanges();
  for (const auto& r : kDenied) {
    if (InPrefix(norm, r.net, r.prefix)) {
      return PermissionDenied("outbound calls to " + std::string(ip) + " (" + r.why +
                              ") are not allowed; an operator can allow it with --outbound-allow");
    }
  }
  return Status::Ok();
}

}  // namespace tamga
