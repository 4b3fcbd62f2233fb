#pragma once
// Who a request acts for (docs/identity.md). Plain value; thread-safe to copy.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tamga {

struct Principal {
  // kUser: a password sign-in; kSession: a local user's browser session (the cookie of a password sign-in).
  enum class Kind { kAnonymous, kUser, kToken, kAgent, kOidc, kSession };
  Kind kind = Kind::kAnonymous;
  std::string user_id;
  std::string username;
  bool is_admin = false;
  std::vector<std::string> teams;
  std::string token_id;                   // the personal or service token used, if any
  std::vector<std::string> agent_queues;  // an agent token's queues
  int64_t expires_ms = 0;                 // the token's expiry (0 = none): cached proofs end there

  bool authenticated() const { return kind != Kind::kAnonymous; }
  // How the principal is named in audit rows and logs.
  std::string Name() const { return kind == Kind::kAnonymous ? std::string("anonymous") : username; }
};

// Shared, immutable: a cached proof hands the same Principal to every request that presents it.
using PrincipalPtr = std::shared_ptr<const Principal>;

}  // namespace tamga
