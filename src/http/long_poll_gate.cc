#include "http/long_poll_gate.h"

namespace tamga {

std::shared_ptr<void> LongPollGate::TryEnter(const std::string& client) {
  {
    MutexLock lock(&mu_);
    int& n = per_client_[client];
    if (n >= options_.per_client || total_ >= options_.total) {
      if (n == 0) per_client_.erase(client);
      return nullptr;
    }
    ++n;
    ++total_;
  }
  // The gate outlives every ticket: the server holds it until its HTTP server has drained. The pointer is the
  // gate itself (never dereferenced), so the ticket tests true.
  return std::shared_ptr<void>(static_cast<void*>(this), [this, client](void*) { Leave(client); });
}

void LongPollGate::Leave(const std::string& client) {
  MutexLock lock(&mu_);
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  --total_;
}

}  // namespace tamga
