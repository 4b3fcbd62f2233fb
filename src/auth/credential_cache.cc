#include "auth/credential_cache.h"

#include "core/hmac.h"

namespace tamga {

std::string CredentialCache::Key(std::string_view header) { return Sha256(header); }

PrincipalPtr CredentialCache::Lookup(std::string_view header, int64_t now_ms) {
  std::string key = Key(header);
  Shard& s = ShardOf(key);
  MutexLock lock(&s.mu);
  auto it = s.entries.find(key);
  if (it == s.entries.end() || it->second.expires_ms <= now_ms) return nullptr;
  return it->second.principal;
}

void CredentialCache::Insert(std::string_view header, PrincipalPtr principal, int64_t now_ms) {
  std::string key = Key(header);
  Shard& s = ShardOf(key);
  MutexLock lock(&s.mu);
  if (s.entries.size() >= per_shard_ && !s.entries.count(key)) {
    // Expired first, then the soonest to expire.
    while (!s.by_expiry.empty() && (s.by_expiry.begin()->first <= now_ms || s.entries.size() >= per_shard_)) {
      auto oldest = s.by_expiry.begin();
      auto e = s.entries.find(oldest->second);
      if (e != s.entries.end() && e->second.expires_ms == oldest->first) s.entries.erase(e);
      s.by_expiry.erase(oldest);
    }
  }
  int64_t expires = now_ms + ttl_ms_;
  s.entries[key] = Entry{std::move(principal), expires};
  s.by_expiry.emplace(expires, key);
}

void CredentialCache::Invalidate() {
  for (Shard& s : shards_) {
    MutexLock lock(&s.mu);
    s.entries.clear();
    s.by_expiry.clear();
  }
}

size_t CredentialCache::size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    MutexLock lock(&s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace tamga
