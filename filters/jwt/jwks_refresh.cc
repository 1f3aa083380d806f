#include "filters/jwt/jwks_refresh.h"

#include <openssl/evp.h>

#include <utility>
#include <vector>

#include "filters/jwt/jwks.h"

namespace ringway::filters::jwt {
namespace {

// Another reference to the same key material: the public key shared (it is
// reference-counted and only read), the HMAC context duplicated (workers
// duplicate it again for each verification). False when out of memory.
bool clone_key(const Key& from, Key* to) {
  to->kid = from.kid;
  to->alg = from.alg;
  to->ecdsa_order = from.ecdsa_order;
  to->origin = from.origin;
  if (from.pkey) {
    if (EVP_PKEY_up_ref(from.pkey.get()) != 1) return false;
    to->pkey.reset(from.pkey.get());
  }
  if (from.hmac) {
    to->hmac.reset(EVP_MAC_CTX_dup(from.hmac.get()));
    if (!to->hmac) return false;
  }
  return true;
}

}  // namespace

int64_t JwtWorkerState::on_timer(int64_t now_ms, filter::WorkerServices& services) {
  return refresher_ != nullptr ? refresher_->on_timer(*this, now_ms, services) : INT64_MAX;
}

JwksRefresher::JwksRefresher(JwksUrl settings, KeySetPtr static_keys, KeyStore& store)
    : settings_(std::move(settings)),
      static_keys_(static_keys ? std::move(static_keys)
                               : std::make_shared<const KeySet>(std::vector<Key>{})),
      store_(store) {}

int64_t JwksRefresher::on_timer(JwtWorkerState& w, int64_t now_ms, filter::WorkerServices& services) {
  if (!w.jwks.periodic) return INT64_MAX;
  if (!w.jwks.in_flight && now_ms >= w.jwks.next_due_ms) {
    w.jwks.next_due_ms = now_ms + settings_.refresh_ms;
    if (!start(w, services, now_ms, /*periodic=*/true)) w.jwks.next_due_ms = now_ms + retry_ms();
  }
  // While a fetch is in flight its outcome is unknown: look again after the
  // retry interval, when a failure moves next_due_ms closer.
  if (w.jwks.in_flight) return std::min(now_ms + retry_ms(), w.jwks.next_due_ms);
  return w.jwks.next_due_ms;
}

bool JwksRefresher::should_wait(JwtWorkerState& w, int64_t now_ms, filter::WorkerServices* services) {
  if (services == nullptr || w.jwks.waiters.size() >= kMaxJwksWaiters) return false;
  if (w.jwks.in_flight) return true;  // join this worker's fetch
  int64_t last = last_kid_fetch_ms_.load(std::memory_order_relaxed);
  if (last != kNever && now_ms - last < settings_.min_refresh_ms) return false;
  // One winner per window, whichever worker gets here first.
  if (!last_kid_fetch_ms_.compare_exchange_strong(last, now_ms, std::memory_order_relaxed))
    return false;
  return start(w, *services, now_ms, /*periodic=*/false);
}

bool JwksRefresher::start(JwtWorkerState& w, filter::WorkerServices& services, int64_t now_ms,
                          bool periodic) {
  ++w.counters.jwks_fetches;
  const uint64_t seq = sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  // `this` outlives every fetch (the filter outlives its workers); `state` is
  // this worker's, and the engine drops, never completes, the fetches of a
  // worker that stops.
  JwtWorkerState* state = &w;
  const bool started = services.fetch(
      settings_.upstream, settings_.path, settings_.max_bytes,
      [this, state, seq, now_ms, periodic](int status, std::string_view body) {
        finish(*state, seq, now_ms, periodic, status, body);
      });
  if (!started) {
    ++w.counters.jwks_failures;
    return false;
  }
  w.jwks.in_flight = true;
  return true;
}

void JwksRefresher::finish(JwtWorkerState& w, uint64_t seq, int64_t started_ms, bool periodic,
                           int status, std::string_view body) {
  w.jwks.in_flight = false;
  const Result result = apply(seq, status, body);
  if (result == Result::kFailed) ++w.counters.jwks_failures;
  if (result == Result::kUpdated) ++w.counters.jwks_updates;
  if (w.jwks.periodic) {
    if (result != Result::kFailed)
      w.jwks.next_due_ms = std::max(w.jwks.next_due_ms, started_ms + settings_.refresh_ms);
    else if (periodic)
      w.jwks.next_due_ms = started_ms + retry_ms();
  }
  // Success or not, the waiting requests look at the keys again (once).
  std::vector<filter::ResumeHandle> waiters;
  waiters.swap(w.jwks.waiters);
  for (const filter::ResumeHandle& h : waiters) h.resume();
}

std::string JwksRefresher::applied_body() {
  std::lock_guard<std::mutex> lock(mutex_);
  return applied_body_;
}

void JwksRefresher::seed(std::string_view body) {
  // Numbered like a fetch, so the first real fetch recognises an unchanged
  // set (and the workers keep their token caches).
  if (!body.empty()) apply(++sequence_, 200, body);
}

JwksRefresher::Result JwksRefresher::apply(uint64_t seq, int status, std::string_view body) {
  if (status != 200 || body.size() > settings_.max_bytes) return Result::kFailed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seq < applied_seq_) return Result::kUnchanged;  // a newer fetch's set is in place
    if (applied_seq_ != 0 && body == applied_body_) {
      applied_seq_ = seq;
      return Result::kUnchanged;
    }
  }

  JwksResult parsed = parse_jwks(body, settings_.url);
  if (!parsed.error.empty()) return Result::kFailed;
  std::vector<Key> keys;
  keys.reserve(static_keys_->keys().size() + parsed.keys.size());
  for (const Key& k : static_keys_->keys()) {
    if (!clone_key(k, &keys.emplace_back())) return Result::kFailed;
  }
  const size_t statics = keys.size();
  for (Key& k : parsed.keys) {
    // A configured key wins over a fetched one with its kid.
    bool shadowed = false;
    for (size_t i = 0; i < statics; ++i) shadowed |= !k.kid.empty() && keys[i].kid == k.kid;
    if (shadowed) continue;
    // The rules of jwks_file: kids unique, and a kid on every key when
    // there are several.
    for (size_t i = statics; i < keys.size(); ++i)
      if (keys[i].kid == k.kid) return Result::kFailed;
    keys.push_back(std::move(k));
  }
  if (keys.size() > 1)
    for (const Key& k : keys)
      if (k.kid.empty()) return Result::kFailed;
  auto set = std::make_shared<const KeySet>(std::move(keys));

  std::lock_guard<std::mutex> lock(mutex_);
  if (seq < applied_seq_) return Result::kUnchanged;
  const bool same = applied_seq_ != 0 && body == applied_body_;  // applied meanwhile
  applied_seq_ = seq;
  if (same) return Result::kUnchanged;
  applied_body_.assign(body);
  store_.replace(std::move(set));
  return Result::kUpdated;
}

}  // namespace ringway::filters::jwt
