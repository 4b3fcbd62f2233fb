#pragma once
// DestinationPolicy: which addresses an outbound call to a user-supplied URL (a webhook) may connect to.
// The default denies what an attacker would aim a server at: loopback, link-local (cloud metadata at
// 169.254.169.254 and fd00:ec2::254), private (RFC 1918), carrier-grade NAT, unique-local, multicast,
// unspecified, reserved and documentation ranges, and the IPv4-mapped/NAT64 forms of those. An allow-list
// (--outbound-allow: CIDRs, addresses or host names) re-admits internal hosts such as a CI server.
// The check runs on the *resolved* address right before connecting, so a DNS answer that changes between a
// check and the connect (rebinding) cannot slip through. Immutable after Create; thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tamga {

class DestinationPolicy {
 public:
  struct Options {
    // Entries: "10.0.0.0/8", "192.168.1.7", "::1", "fd00::/8", or a host name ("ci.internal", exact, case-
    // insensitive; it admits whatever that name resolves to).
    std::vector<std::string> allow;
    bool deny_internal = true;  // false: everything is allowed (trusted callers: the CLI, the agent)
  };

  // InvalidArgument naming a malformed entry.
  static Result<DestinationPolicy> Create(const Options& options);
  // No restriction (outbound calls to operator-configured servers).
  static DestinationPolicy AllowAll();

  // Ok, or PermissionDenied saying why (`ip` is the resolved address as text, v4 or v6).
  Status Check(std::string_view host, std::string_view ip) const;

 private:
  struct Cidr {
    std::array<uint8_t, 16> addr{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 0;                  // over the 128-bit form
  };
  bool deny_internal_ = true;
  std::vector<Cidr> allow_cidrs_;
  std::vector<std::string> allow_hosts_;  // lower-cased
};

}  // namespace tamga
