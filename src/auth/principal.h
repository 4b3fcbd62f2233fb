#pragma once
// Who a request acts for (docs/identity.md). Plain value; thread-safe to copy.
#include <string>
#include <vector>

namespace tamga {

struct Principal {
  enum class Kind { kAnonymous, kUser, kToken, kAgent, kOidc };
  Kind kind = Kind::kAnonymous;
  std::string user_id;
  std::string username;
  bool is_admin = false;
  std::vector<std::string> teams;
  std::string token_id;                   // the personal or service token used, if any
  std::vector<std::string> agent_queues;  // an agent token's queues
};

}  // namespace tamga
