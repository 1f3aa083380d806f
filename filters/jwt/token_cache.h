#pragma once
// A worker's cache of tokens that passed every check, so that a client
// sending the same token again costs a hash, a compare and the header copies:
// no base64, no JSON, no signature.
//
// Bounded: at most `capacity` entries, replaced by CLOCK (second chance),
// which approximates LRU with one bit per entry and no list to maintain.
// Entries expire at the token's exp (plus leeway) or after `ttl_ms`,
// whichever comes first; nothing that depends on the time other than that is
// cached (nbf and iat only move towards "valid").
//
// Keyed by a 64-bit hash of the token, but a hit also compares the whole
// token: a hash collision (chance or crafted) is a miss, never someone
// else's identity. Only successes are cached.
//
// One per worker: no locks. Not shared between filters.

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/jwt/claims.h"

namespace ringway::filters::jwt {

class TokenCache {
 public:
  TokenCache(size_t capacity, int64_t ttl_ms);

  // The hash lookups use; exposed so the caller hashes once.
  static uint64_t hash(std::string_view token);

  // The cached grant for `token`, or nullptr (absent, or expired: then dropped).
  const Grant* find(std::string_view token, uint64_t hash, int64_t now_unix_ms);

  // Caches `grant` for `token` until min(grant.valid_until_ms, now + ttl).
  void insert(std::string_view token, uint64_t hash, const Grant& grant, int64_t now_unix_ms);

  void clear();
  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string token;
    uint64_t hash = 0;
    int64_t expires_ms = 0;
    bool referenced = false;  // CLOCK's second-chance bit
    bool used = false;
    Grant grant;
  };

  // A slot for a new entry: a free one, or the CLOCK victim (evicted).
  uint32_t take_slot(int64_t now_unix_ms);
  void evict(uint32_t slot);

  size_t capacity_;
  int64_t ttl_ms_;
  std::vector<Entry> entries_;  // grows to capacity_, then slots are reused
  absl::flat_hash_map<uint64_t, uint32_t> index_;  // hash -> slot
  uint32_t hand_ = 0;
};

}  // namespace ringway::filters::jwt
