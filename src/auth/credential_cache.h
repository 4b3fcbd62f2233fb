#pragma once
// Verified credentials (docs/identity.md): the SHA-256 of an Authorization header value -> the Principal it
// proved, for a short time, so a request pays a hash and a map lookup instead of scrypt or a JWT signature
// check. Sharded (16 mutexes) to keep lookups from serialising I/O threads. Invalidate() drops everything at
// once (a password changed, a token revoked, a grant changed); entries also expire after `ttl_ms`. Bounded:
// a full shard drops its expired entries, then its oldest one. Thread-safe.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/principal.h"
#include "core/mutex.h"

namespace tamga {

class CredentialCache {
 public:
  explicit CredentialCache(int64_t ttl_ms = 60000, size_t capacity = 100000)
      : ttl_ms_(ttl_ms), per_shard_(capacity / kShards + 1) {}

  // The principal a header proved, or null.
  PrincipalPtr Lookup(std::string_view header, int64_t now_ms);
  void Insert(std::string_view header, PrincipalPtr principal, int64_t now_ms);
  void Insert(std::string_view header, const Principal& principal, int64_t now_ms) {
    Insert(header, std::make_shared<const Principal>(principal), now_ms);
  }
  void Invalidate();
  size_t size();

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    PrincipalPtr principal;
    int64_t expires_ms = 0;
  };
  struct Shard {
    Mutex mu;
    std::unordered_map<std::string, Entry> entries GUARDED_BY(mu);
    std::multimap<int64_t, std::string> by_expiry GUARDED_BY(mu);
  };
  static std::string Key(std::string_view header);
  Shard& ShardOf(const std::string& key) { return shards_[static_cast<unsigned char>(key[0]) % kShards]; }

  const int64_t ttl_ms_;
  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tamga
