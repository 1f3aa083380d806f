#pragma once
// jwks_url: fetching the key set through the gateway's own upstream client
// and publishing it to the workers (docs/filters/jwt.md, "jwks_url").
//
// Who fetches, and when:
//   * Worker 0 fetches when it starts, then every jwks_refresh (its
//     WorkerState::on_timer). After a failed periodic fetch it tries again
//     every jwks_min_refresh until one succeeds.
//   * Any worker fetches at once when a token names a kid the current set
//     lacks, if no other fetch for an unknown kid started in the last
//     jwks_min_refresh (one compare-and-swap on a shared timestamp decides
//     which worker, if any). That request is suspended until the fetch
//     completes, then looked at again with the (possibly new) set; so are
//     later unknown-kid requests of the same worker while the fetch is in
//     flight. A request waits at most once. Requests of other workers, or
//     beyond the window, get 401 unknown_key at once.
//
// What a fetch does: status 200 and a body that parse_jwks() accepts (the
// rules of jwks_file) replace the fetched part of the key set; the static
// keys (jwks_file, keys) stay, and win over a fetched key with the same kid.
// Anything else leaves the last good set in place and counts a failure. A
// body equal to the one last applied changes nothing (the workers' token
// caches survive); an answer to a fetch that started before the one last
// applied is not applied (it may hold an older set).
//
// Threads: a fetch's callback runs on the worker that started it; it touches
// that worker's state (which the engine never outlives with a pending fetch:
// a stopping worker drops its fetches without calling them back) and the
// shared parts below (atomics, and a mutex around publication).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/filter/filter.h"
#include "filters/jwt/jwt_config.h"
#include "filters/jwt/jwt_worker.h"
#include "filters/jwt/key_set.h"

namespace ringway::filters::jwt {

// Most requests one worker keeps suspended for a fetch; more get 401 at once.
inline constexpr size_t kMaxJwksWaiters = 4096;

// The per-request mark that a request already waited for a fetch.
struct JwksWaited : filter::RequestState {
  bool waited = false;
};

class JwksRefresher {
 public:
  // `static_keys`: the config's own keys (may be empty); `store` is the
  // filter's, which outlives this object's use.
  JwksRefresher(JwksUrl settings, KeySetPtr static_keys, KeyStore& store);

  const JwksUrl& settings() const { return settings_; }

  // The body of the last good fetch ("" before the first), and starting from
  // one: a reload hands the running filter's to its successor, whose own
  // static keys are merged in as for a fetch.
  std::string applied_body();
  void seed(std::string_view body);

  // Worker 0's timer: starts a fetch when one is due; returns when to be
  // called again.
  int64_t on_timer(JwtWorkerState& w, int64_t now_ms, filter::WorkerServices& services);

  // A token of this worker named an unknown kid: true when the request
  // should suspend (and the caller adds its handle to w.jwks.waiters), because
  // this worker has a fetch in flight or just won the right to start one.
  bool should_wait(JwtWorkerState& w, int64_t now_ms, filter::WorkerServices* services);

 private:
  enum class Result { kUpdated, kUnchanged, kFailed };
  // Publishes the answer of the fetch numbered `seq` (from sequence_).
  Result apply(uint64_t seq, int status, std::string_view body);
  // Starts a fetch on this worker (counts it); false when the engine refused.
  bool start(JwtWorkerState& w, filter::WorkerServices& services, int64_t now_ms, bool periodic);
  void finish(JwtWorkerState& w, uint64_t seq, int64_t started_ms, bool periodic, int status,
              std::string_view body);
  // The retry interval after a failed periodic fetch, and the time worker 0
  // looks again while its fetch is in flight.
  int64_t retry_ms() const { return std::min(settings_.min_refresh_ms, settings_.refresh_ms); }

  const JwksUrl settings_;
  const KeySetPtr static_keys_;
  KeyStore& store_;

  // Monotonic ms at which the last unknown-kid fetch started (kNever: none).
  static constexpr int64_t kNever = INT64_MIN;
  std::atomic<int64_t> last_kid_fetch_ms_{kNever};
  std::atomic<uint64_t> sequence_{0};  // fetches started, all workers

  std::mutex mutex_;         // guards the two below and the publication
  uint64_t applied_seq_ = 0;  // the fetch whose set is current
  std::string applied_body_;  // its body, to recognise an unchanged set
};

}  // namespace ringway::filters::jwt
