#pragma once
// One worker's state for one jwt filter: its reference to the key set, its
// verified-token cache, scratch buffers, and counters. Touched only by that
// worker's thread.

#include <array>
#include <cstdint>
#include <vector>

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
  // jwks_url: fetches this worker started, those that failed (no answer, not
  // 200, too large, not a usable JWK set), and those that published a new set.
  uint64_t jwks_fetches = 0;
  uint64_t jwks_failures = 0;
  uint64_t jwks_updates = 0;
  uint64_t failed() const {
    uint64_t n = 0;
    for (uint64_t f : failures) n += f;
    return n;
  }
};

class JwksRefresher;

// This worker's side of jwks_url (jwks_refresh.h): its fetch in flight, the
// requests waiting for it, and (worker 0) the periodic schedule.
struct JwksWorker {
  bool periodic = false;   // this worker runs the periodic refresh (worker 0)
  bool in_flight = false;  // a fetch of this worker has not completed yet
  int64_t next_due_ms = 0;  // periodic: when the next fetch is due (0: at start)
  std::vector<filter::ResumeHandle> waiters;  // requests suspended for the fetch
};

class JwtWorkerState : public filter::WorkerState {
 public:
  JwtWorkerState(size_t max_token_bytes, size_t cache_entries, int64_t cache_ttl_ms,
                 JwksRefresher* refresher = nullptr, uint32_t worker_index = 0)
      : scratch(max_token_bytes), cache(cache_entries, cache_ttl_ms), refresher_(refresher) {
    jwks.periodic = refresher != nullptr && worker_index == 0;
  }

  // jwks_url: worker 0 fetches at start and then periodically; other workers
  // fetch only for unknown kids (from the request phase).
  int64_t on_timer(int64_t now_ms, filter::WorkerServices& services) override;

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
    if (refresher_ != nullptr)
      out.insert(out.end(), {{"jwks_fetches", counters.jwks_fetches},
                             {"jwks_failures", counters.jwks_failures},
                             {"jwks_updates", counters.jwks_updates}});
  }

  TokenScratch scratch;
  TokenCache cache;
  Grant grant;  // the grant being built on a cache miss (its buffers are reused)
  JwtCounters counters;
  JwksWorker jwks;

 private:
  JwksRefresher* refresher_;  // the filter's; nullptr without jwks_url
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
