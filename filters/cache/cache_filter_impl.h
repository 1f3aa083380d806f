#pragma once
// The cache filter's class and its per-worker and per-request state. Split
// from cache_filter.h so that tests can look at stores and counters.
//
// Phases (one file each): request_phase.cc decides hit / stale / revalidate
// / miss and collapses concurrent misses; response_phase.cc handles 304s to
// our revalidations, stale-if-error and captures storable responses;
// serve.cc builds the local responses; cache_filter.cc holds the rest
// (worker state, purges, collapse release, log phase).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "engine/filter/filter.h"
#include "filters/cache/cache_control.h"
#include "filters/cache/cache_options.h"
#include "filters/cache/entry.h"
#include "filters/cache/purge_log.h"
#include "filters/cache/store.h"

namespace ringway::filters::cache {

// Concurrent requests for one key on one worker: the first (the leader) goes
// to the origin, the others wait here until its response is stored or known
// not to be, or until their collapse_timeout (request collapsing).
struct Waiter {
  filter::ResumeHandle handle;
  int64_t deadline_ms;  // monotonic; waiters join in time order, so deadlines grow
};
struct InFlight {
  uint64_t leader = 0;        // id of the leading request
  bool refresh = false;       // the leader is refreshing a stale entry
  std::vector<Waiter> waiters;
};

// Keys whose last response could not be stored (private, no-store, too
// large...), until when (monotonic ms): their requests do not collapse, since
// waiting for a leader's response would only delay their own fetch
// (Varnish's hit-for-miss). A storable response for the key ends it early.
constexpr int64_t kUncacheableMemoMs = 120'000;
constexpr size_t kMaxUncacheableKeys = 4096;  // per worker; past it, the memo starts over

struct CacheStats {
  uint64_t hits = 0;          // fresh responses served (304s to conditionals included)
  uint64_t stale = 0;         // stale responses served (max-stale, s-w-r, stale-if-error)
  uint64_t revalidated = 0;   // stale entries refreshed by a 304
  uint64_t misses = 0;        // requests that went to the origin
  uint64_t stored = 0;        // responses stored
  uint64_t collapsed = 0;     // requests that waited for another's response
  uint64_t collapse_timeouts = 0;  // ... and went to the origin after collapse_timeout
  uint64_t invalidated = 0;   // entries removed by unsafe requests or purges
  uint64_t adopted = 0;       // entries taken over from the previous generation (reload)
};

// What a worker's cache leaves its successor on a reload (WorkerState::leave).
struct LeftStore final : filter::WorkerState {
  LeftStore(Store s, uint64_t id, uint64_t applied) : store(std::move(s)), store_id(id), purges_applied(applied) {}
  Store store;
  uint64_t store_id;
  uint64_t purges_applied;
};

struct CacheWorker final : filter::WorkerState {
  CacheWorker(uint64_t max_bytes, uint64_t id, std::shared_ptr<PurgeLog> log, uint64_t max_entry)
      : store(max_bytes), store_id(id), purges(std::move(log)), max_entry_bytes(max_entry) {}
  Store store;
  uint64_t store_id;            // PurgeRecord::origin of the purges this worker publishes
  uint64_t purges_applied = 0;  // PurgeLog sequence number applied to `store`
  std::shared_ptr<PurgeLog> purges;
  uint64_t max_entry_bytes;
  // Stores previous generations left (reload), newest first, moved into
  // `store` a slice per loop turn so that a big one does not stall the
  // worker; their entries count as misses until moved.
  std::deque<std::unique_ptr<LeftStore>> adopting;
  absl::flat_hash_map<std::string, InFlight> in_flight;
  absl::flat_hash_map<std::string, int64_t> uncacheable;
  uint64_t next_leader = 0;
  // Body bytes held by captures in progress (reserved or received): bounded
  // by the store's own budget, so that many slow responses on their way in
  // cannot hold more memory than the cache may keep.
  uint64_t capturing = 0;
  CacheStats stats;

  void report(std::vector<std::pair<std::string_view, uint64_t>>& out) const override {
    out.insert(out.end(), {{"hits", stats.hits},
                           {"stale", stats.stale},
                           {"revalidated", stats.revalidated},
                           {"misses", stats.misses},
                           {"stored", stats.stored},
                           {"collapsed", stats.collapsed},
                           {"collapse_timeouts", stats.collapse_timeouts},
                           {"invalidated", stats.invalidated},
                           {"adopted", stats.adopted}});
  }

  std::unique_ptr<filter::WorkerState> leave() override {
    return std::make_unique<LeftStore>(std::move(store), store_id, purges_applied);
  }

  // Moves the next slice of `adopting` into `store` (cache_filter.cc).
  void adopt_slice();
  // Resumes the waiters whose collapse_timeout ran out; the next deadline.
  int64_t expire_waiters(int64_t now_ms);
  void remember_uncacheable(const std::string& key, int64_t now_ms);
  bool has_waiters(const std::string& key, uint64_t leader) const {
    auto it = in_flight.find(key);
    return leader != 0 && it != in_flight.end() && it->second.leader == leader && !it->second.waiters.empty();
  }
  bool known_uncacheable(const std::string& key, int64_t now_ms) const;
  int64_t on_timer(int64_t now_ms, filter::WorkerServices&) override {
    adopt_slice();
    const int64_t next = expire_waiters(now_ms);
    return adopting.empty() ? next : now_ms;
  }
};

enum class Mode : uint8_t {
  kBypass,      // not a cache request: passed on, not stored
  kUnsafe,      // POST, PUT, DELETE, ...: invalidates on success
  kMiss,        // to the origin, stored if allowed
  kRevalidate,  // to the origin with our validators for `stale`
};

// A response being stored: its head copied in the response-head phase (the
// views there die with the phase), its body as it passes.
struct Capture {
  int status = 0;
  std::vector<StoredHeader> headers;
  std::vector<std::string> vary;
  std::string secondary;
  std::string age;  // the response's Age value, for the entry's age
  int64_t response_time = 0;
  int64_t expected_length = -1;
  std::string body;
  uint64_t charged = 0;  // body bytes counted in CacheWorker::capturing
};

struct CacheRequest final : filter::RequestState {
  Mode mode = Mode::kBypass;
  std::string key;
  bool waited = false;         // waited once for a leader: never waits again
  uint64_t leader = 0;         // our InFlight id while we lead `key`
  EntryPtr stale;              // stored response being refreshed (or kept for stale-if-error)
  int64_t request_time = 0;    // Unix seconds when the request went on
  CacheControl request_cc;
  bool authorized = false;  // Authorization, or authenticated by an earlier filter (3.5)
  // The request's fields as the cache saw them (the secondary key of what
  // gets stored must not see edits by later filters or our validators).
  std::vector<StoredHeader> request_headers;
  std::unique_ptr<Capture> capture;
  bool invalidated = false;
};

class CacheFilter final : public filter::Filter {
 public:
  // `purges` is shared with the filter this one replaces on a reload when
  // their stores may carry over (compile_cache); `routes` sums up what the
  // routes that run this filter do to a request before it is stored.
  explicit CacheFilter(CacheOptions options, std::shared_ptr<PurgeLog> purges = std::make_shared<PurgeLog>(),
                       std::string routes = {})
      : options_(std::move(options)), purges_(std::move(purges)), routes_(std::move(routes)) {}

  uint8_t phases() const override {
    return filter::kRequestHead | filter::kResponseHead | filter::kResponseBody | filter::kLog;
  }
  std::unique_ptr<filter::WorkerState> make_worker_state(uint32_t worker_index) const override;
  filter::Outcome on_request_head(filter::Context& ctx) const override;
  filter::Outcome on_response_head(filter::Context& ctx) const override;
  std::string_view on_response_body(filter::Context& ctx, std::string_view piece, bool last) const override;
  void on_log(filter::Context& ctx) const override;
  void adopt(filter::WorkerState& mine, const filter::Filter& previous, filter::WorkerState& left) const override;

  // See purge_cache() in cache_filter.h. Returns the purge's sequence number.
  uint64_t purge(std::string_view host, std::string_view path, bool prefix) const;

  const CacheOptions& options() const { return options_; }

  // Whether entries this filter stored still mean the same under `options`
  // and `routes`: the same keys (ignore_query), the same rules for what was
  // stored and how (cache_authorized, heuristic freshness, the status header
  // left out of entries), the same routes in front. Reloads carry stores
  // over only then.
  bool stores_compatible(const CacheOptions& options, const std::string& routes) const;
  const std::shared_ptr<PurgeLog>& purge_log() const { return purges_; }

 private:
  // cache_filter.cc
  void apply_purges(CacheWorker& w) const;
  void invalidate(filter::Context& ctx, CacheWorker& w, CacheRequest& st, bool with_locations) const;
  void release(CacheWorker& w, CacheRequest& st) const;
  void release_key(CacheWorker& w, const std::string& key, uint64_t leader) const;
  // background.cc: stale-while-revalidate without making anyone wait.
  bool refresh_in_background(filter::Context& ctx, CacheWorker& w, const EntryPtr& e, int64_t now) const;
  void background_done(CacheWorker& w, const EntryPtr& old, uint64_t leader, int64_t request_time,
                       const filter::WorkerServices::FetchResult& r) const;
  void store_capture(filter::Context& ctx, CacheWorker& w, CacheRequest& st) const;
  // Counts `bytes` as what `cap` holds; false (nothing counted) when that
  // would take the worker's captures past the store's budget.
  static bool charge_capture(CacheWorker& w, Capture& cap, uint64_t bytes);
  // Ends st's capture, if any, without storing it.
  static void drop_capture(CacheWorker& w, CacheRequest& st);
  // response_phase.cc: `old` freshened with a 304's fields (4.3.3/4.3.4),
  // replacing it. It goes back into the store only if still storable: the
  // 304 may have added Set-Cookie, private or no-store, which make it this
  // client's answer only. Returns it, stored or not.
  EntryPtr freshen(CacheWorker& w, const EntryPtr& old, const http::HeaderList& not_modified,
                   int64_t request_time, bool authorized, const CacheControl& request_cc,
                   int64_t now) const;
  // request_phase.cc
  filter::Outcome lookup(filter::Context& ctx, CacheWorker& w, CacheRequest& st, int64_t now) const;
  // serve.cc
  filter::Outcome serve(filter::Context& ctx, const EntryPtr& e, std::string_view label,
                        const http::HeaderList& conditionals, int64_t now) const;
  filter::Outcome only_if_cached_miss(filter::Context& ctx) const;
  filter::Outcome bad_gateway(filter::Context& ctx) const;
  void label(filter::Context& ctx, std::string_view value) const;

  CacheOptions options_;
  std::shared_ptr<PurgeLog> purges_;
  std::string routes_;
};

// The X-Cache values.
inline constexpr std::string_view kHit = "HIT";
inline constexpr std::string_view kMissLabel = "MISS";
inline constexpr std::string_view kStale = "STALE";
inline constexpr std::string_view kRevalidated = "REVALIDATED";
inline constexpr std::string_view kBypassLabel = "BYPASS";

int64_t unix_seconds(const filter::Context& ctx);
// The name of the request's route ("" without one: unit tests).
std::string_view route_name(const filter::Context& ctx);

}  // namespace ringway::filters::cache
