#pragma once
// One worker's state for one jwt filter: its reference to the key set, its
// verified-token cache, scratch buffers, and counters. Touched only by that
// worker's thread.

#include <array>
#include <cstdint>

#include "engine/filter/filter.h"
#include "filters/jwt/claims.h"
#include "filters/jwt/failure.h"
#include "filters/jwt/jws.h"
#include "filters/jwt/key_set.h"
#include "filters/jwt/token_cache.h"

namespace ringway::filters::jwt {

// Plain counters, reported through WorkerState::report() (and readable in
// tests with jwt_counters() below).
struct JwtCounters {
  uint64_t accepted = 0;    // requests let through
  uint64_t cache_hits = 0;  // of those, served from the verified-token cache
  uint64_t verified = 0;    // tokens fully checked (signature and claims), pass or fail
  std::array<uint64_t, kFailureCount> failures{};  // by Failure; [kNone] unused
  uint64_t failed() const {
    uint64_t n = 0;
    for (uint64_t f : failures) n += f;
    return n;
  }
};

class JwtWorkerState : public filter::WorkerState {
 public:
  JwtWorkerState(size_t max_token_bytes, size_t cache_entries, int64_t cache_ttl_ms)
      : scratch(max_token_bytes), cache(cache_entries, cache_ttl_ms) {}

  // Brings `keys` up to date with `store`: one atomic load when nothing
  // changed. A new key set empties the cache, so that tokens of a withdrawn
  // key stop working at once.
  const KeySet& current_keys(const KeyStore& store) {
    const uint64_t v = store.version();
    if (v != keys_version_ || !keys_) {
      keys_ = store.current(&keys_version_);
      cache.clear();
    }
    return *keys_;
  }

  void report(std::vector<std::pair<std::string_view, uint64_t>>& out) const override {
    out.insert(out.end(), {{"accepted", counters.accepted},
                           {"cache_hits", counters.cache_hits},
                           {"verified", counters.verified}});
    for (size_t f = 1; f < kFailureCount; ++f)
      if (counters.failures[f] != 0)
        out.emplace_back(failure_name(static_cast<Failure>(f)), counters.failures[f]);
  }

  TokenScratch scratch;
  TokenCache cache;
  Grant grant;  // the grant being built on a cache miss (its buffers are reused)
  JwtCounters counters;

 private:
  KeySetPtr keys_;
  uint64_t keys_version_ = 0;
};

// The counters of a jwt filter's worker state (from make_worker_state()), or
// nullptr when `state` belongs to another filter type.
inline const JwtCounters* jwt_counters(const filter::WorkerState* state) {
  auto* s = dynamic_cast<const JwtWorkerState*>(state);
  return s != nullptr ? &s->counters : nullptr;
}

}  // namespace ringway::filters::jwt
