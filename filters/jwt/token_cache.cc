#include "filters/jwt/token_cache.h"

#include <absl/hash/hash.h>

#include <algorithm>

namespace ringway::filters::jwt {

TokenCache::TokenCache(size_t capacity, int64_t ttl_ms)
    : capacity_(std::min<size_t>(capacity, UINT32_MAX)), ttl_ms_(ttl_ms) {
  // Grows with use: a large cache_entries must not cost its full size in
  // every worker before the first token arrives.
  index_.reserve(std::min<size_t>(capacity_, 1024));
}

uint64_t TokenCache::hash(std::string_view token) {
  // Seeded per process by abseil, so which tokens collide cannot be worked
  // out offline (and a collision is only ever a miss anyway).
  return absl::Hash<std::string_view>{}(token);
}

const Grant* TokenCache::find(std::string_view token, uint64_t hash, int64_t now_unix_ms) {
  auto it = index_.find(hash);
  if (it == index_.end()) return nullptr;
  Entry& e = entries_[it->second];
  if (e.token != token) return nullptr;
  if (now_unix_ms >= e.expires_ms) {
    evict(it->second);
    return nullptr;
  }
  e.referenced = true;
  return &e.grant;
}

void TokenCache::insert(std::string_view token, uint64_t hash, const Grant& grant,
                        int64_t now_unix_ms) {
  if (capacity_ == 0) return;
  const int64_t expires = std::min(grant.valid_until_ms, now_unix_ms + ttl_ms_);
  if (expires <= now_unix_ms) return;
  uint32_t slot;
  auto it = index_.find(hash);
  if (it != index_.end()) {
    slot = it->second;  // same token again, or a colliding one: replace it
  } else {
    slot = take_slot(now_unix_ms);
    index_.emplace(hash, slot);
  }
  Entry& e = entries_[slot];
  e.token.assign(token);
  e.hash = hash;
  e.expires_ms = expires;
  e.referenced = false;
  e.used = true;
  e.grant = grant;
}

uint32_t TokenCache::take_slot(int64_t now_unix_ms) {
  if (entries_.size() < capacity_) {
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
  }
  // CLOCK: one full sweep clears every referenced bit, so the second sweep
  // is certain to stop.
  for (size_t step = 0; step <= 2 * entries_.size(); ++step) {
    const uint32_t slot = hand_;
    hand_ = static_cast<uint32_t>((hand_ + 1) % entries_.size());
    Entry& e = entries_[slot];
    if (!e.used) return slot;
    if (e.referenced && e.expires_ms > now_unix_ms) {
      e.referenced = false;
      continue;
    }
    evict(slot);
    return slot;
  }
  evict(hand_);  // not reached
  return hand_;
}

void TokenCache::evict(uint32_t slot) {
  Entry& e = entries_[slot];
  if (!e.used) return;
  index_.erase(e.hash);
  e.used = false;
  e.referenced = false;
  // The strings keep their capacity for the next token in this slot.
  e.token.clear();
  e.grant.clear();
}

void TokenCache::clear() {
  for (uint32_t i = 0; i < entries_.size(); ++i) evict(i);
  hand_ = 0;
}

}  // namespace ringway::filters::jwt
