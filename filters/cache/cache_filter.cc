#include "filters/cache/cache_filter.h"

#include <string>

#include <yaml-cpp/yaml.h>

#include "engine/routing/path.h"
#include "filters/cache/cache_filter_impl.h"
#include "filters/cache/key.h"
#include "filters/cache/text.h"

namespace ringway::filters {

namespace {

// What the routes that run the filter being built do to a request before
// it is stored, in file order: their names, how they match, where they send it (upstream
// and its Host), how they rewrite the path, and which filters (with their
// config) run before the cache. Stored responses mean the same after a
// reload only if this is unchanged.
std::string route_signature(const FilterBuild& build) {
  const config::Config& config = build.config;
  std::string sig;
  auto field = [&sig](std::string_view v) {
    sig.append(v);
    sig.push_back('\x1f');
  };
  for (const config::Route& route : config.routes) {
    for (size_t pos = 0; pos < route.filters.size(); ++pos) {
      if (config.filters[route.filters[pos]].name != build.spec.name) continue;
      const config::RouteMatch& m = route.match;
      field(route.name);  // entries are tagged with it
      for (const auto& h : m.hosts) field(h);
      field(std::to_string(static_cast<int>(m.path_kind)));
      field(m.path);
      for (const auto& v : m.methods) field(v);
      for (const auto& h : m.headers) field(h.name + ":" + h.value);
      field(route.upstream);
      if (route.upstream_index < config.upstreams.size()) field(config.upstreams[route.upstream_index].host_header);
      field(route.strip_prefix);
      field(route.replace_prefix);
      for (size_t before = 0; before < pos; ++before) {
        const config::FilterSpec& f = config.filters[route.filters[before]];
        field(f.name);
        field(f.type);
        if (f.node) field(YAML::Dump(*f.node));
      }
      sig.push_back('\x1e');
    }
  }
  return sig;
}

}  // namespace

std::shared_ptr<const filter::Filter> compile_cache(const FilterBuild& build) {
  cache::CacheOptions options = cache::read_cache_options(build);
  std::string routes = route_signature(build);
  // A reload keeps the stored responses (each worker's successor adopts its
  // store) when they still mean the same; sharing the purge log is how the
  // successor's filter knows, and it lets purges published meanwhile reach
  // the entries on their way over.
  const auto* running = dynamic_cast<const cache::CacheFilter*>(build.running);
  std::shared_ptr<cache::PurgeLog> purges = running && running->stores_compatible(options, routes)
                                                ? running->purge_log()
                                                : std::make_shared<cache::PurgeLog>();
  return std::make_shared<cache::CacheFilter>(std::move(options), std::move(purges), std::move(routes));
}

bool purge_cache(const filter::Filter& filter, std::string_view host, std::string_view path, bool prefix) {
  const auto* cache = dynamic_cast<const cache::CacheFilter*>(&filter);
  if (cache == nullptr) return false;
  cache->purge(host, path, prefix);
  return true;
}

}  // namespace ringway::filters

namespace ringway::filters::cache {

namespace {

// Brings `store` up to date with the purges published after `applied`,
// except those its own worker (`store_id`) published: applied at the time.
// Returns how many entries went.
uint64_t catch_up(const PurgeLog& log, Store& store, uint64_t& applied, uint64_t store_id) {
  std::vector<PurgeRecord> records;
  if (!log.since(applied, records)) {
    uint64_t n = store.entries();
    store.clear();
    return n;
  }
  uint64_t n = 0;
  for (const PurgeRecord& r : records) {
    if (r.origin == store_id) continue;
    if (!r.prefix && !r.every_host)
      n += store.erase_key(r.host + r.path);
    else
      n += store.erase_if([&](std::string_view key) { return r.matches(key); });
  }
  return n;
}

}  // namespace

std::unique_ptr<filter::WorkerState> CacheFilter::make_worker_state(uint32_t) const {
  auto w = std::make_unique<CacheWorker>(options_.per_worker_bytes(), purges_->new_store_id(), purges_,
                                         options_.max_entry_bytes);
  // Purges published before this worker existed concern nothing it holds.
  w->purges_applied = purges_->published();
  return w;
}

bool CacheFilter::stores_compatible(const CacheOptions& options, const std::string& routes) const {
  return options.ignore_query == options_.ignore_query && options.cache_authorized == options_.cache_authorized &&
         options.heuristic.max_seconds == options_.heuristic.max_seconds &&
         options.heuristic.percent == options_.heuristic.percent &&
         options.status_header == options_.status_header && routes == routes_;
}

void CacheFilter::adopt(filter::WorkerState& mine, const filter::Filter& previous, filter::WorkerState& left) const {
  const auto* was = dynamic_cast<const CacheFilter*>(&previous);
  auto* old = dynamic_cast<LeftStore*>(&left);
  // compile_cache shared the purge log only if the stores are compatible.
  if (was == nullptr || old == nullptr || was->purges_ != purges_) return;
  auto& w = static_cast<CacheWorker&>(mine);
  w.adopting.push_back(std::make_unique<LeftStore>(std::move(*old)));
  // The first slice now, the rest from on_timer (the engine runs it at the
  // next turn after an adopt): a small store is in place at once.
  w.adopt_slice();
}

void CacheWorker::adopt_slice() {
  // 0.2-0.4 ms of work (bench/micro/filter_cache.cc, BM_AdoptSlice).
  constexpr size_t kSlice = 512;
  while (!adopting.empty()) {
    LeftStore& left = *adopting.front();
    // Purges published since the old worker's last lookup, or since the
    // last slice, reach the entries still on their way.
    if (purges->published() != left.purges_applied)
      catch_up(*purges, left.store, left.purges_applied, left.store_id);
    stats.adopted += store.adopt_older(left.store, kSlice, max_entry_bytes);
    if (left.store.entries() > 0) return;
    adopting.pop_front();
  }
}

int64_t CacheWorker::expire_waiters(int64_t now_ms) {
  int64_t next = INT64_MAX;
  std::vector<filter::ResumeHandle> due;
  for (auto& [key, flight] : in_flight) {
    auto& waiters = flight.waiters;
    size_t n = 0;
    while (n < waiters.size() && waiters[n].deadline_ms <= now_ms) due.push_back(waiters[n++].handle);
    waiters.erase(waiters.begin(), waiters.begin() + static_cast<ptrdiff_t>(n));
    if (!waiters.empty()) next = std::min(next, waiters.front().deadline_ms);
  }
  stats.collapse_timeouts += due.size();
  for (const auto& h : due) h.resume();  // each goes to the origin itself (it has waited)
  return next;
}

void CacheWorker::remember_uncacheable(const std::string& key, int64_t now_ms) {
  if (uncacheable.size() >= kMaxUncacheableKeys) {
    for (auto it = uncacheable.begin(); it != uncacheable.end();) {
      if (it->second <= now_ms) uncacheable.erase(it++);
      else ++it;
    }
    // Still full: start over rather than sweep on every insert (forgetting
    // costs only some collapsing).
    if (uncacheable.size() >= kMaxUncacheableKeys) uncacheable.clear();
  }
  uncacheable[key] = now_ms + kUncacheableMemoMs;
}

bool CacheWorker::known_uncacheable(const std::string& key, int64_t now_ms) const {
  auto it = uncacheable.find(key);
  return it != uncacheable.end() && it->second > now_ms;
}

uint64_t CacheFilter::purge(std::string_view host, std::string_view path, bool prefix) const {
  PurgeRecord r;
  r.host = to_lower_ascii(host);
  r.every_host = host.empty();
  r.prefix = prefix;
  r.path.assign(path);
  if (!prefix) {
    // Exact keys hold normalised paths: spell the purge the same way.
    routing::TargetParts parts;
    if (!path.empty() && path[0] == '/' && routing::normalize_target(path, parts) == nullptr) {
      r.path = parts.path;
      if (!options_.ignore_query && !parts.query.empty()) {
        r.path.push_back('?');
        r.path.append(parts.query);
      }
    }
  }
  return purges_->publish(std::move(r));
}

void CacheFilter::apply_purges(CacheWorker& w) const {
  if (purges_->published() == w.purges_applied) return;  // the common case: one relaxed load
  w.stats.invalidated += catch_up(*purges_, w.store, w.purges_applied, w.store_id);
}

void CacheFilter::invalidate(filter::Context& ctx, CacheWorker& w, CacheRequest& st,
                             bool with_locations) const {
  // 4.4: the target URI, and Location / Content-Location on the same host.
  if (st.invalidated) return;
  st.invalidated = true;
  std::vector<std::string> keys{st.key};
  const http::RequestHead& req = *ctx.request;
  for (std::string_view name : {"location", "content-location"}) {
    if (!with_locations) break;
    if (const http::Header* h = find_header(ctx.response.headers, name)) {
      std::string k = reference_key(h->value, req.host, req.path, options_.ignore_query);
      if (!k.empty()) keys.push_back(std::move(k));
    }
  }
  for (const std::string& k : keys) {
    w.stats.invalidated += w.store.erase_key(k);
    // Other workers' stores hold their own copies.
    PurgeRecord r;
    r.host.assign(key_host(k));
    r.path.assign(key_path(k));
    r.origin = w.store_id;
    purges_->publish(std::move(r));
  }
}

void CacheFilter::release(CacheWorker& w, CacheRequest& st) const {
  if (st.leader == 0) return;
  uint64_t leader = st.leader;
  st.leader = 0;
  release_key(w, st.key, leader);
}

void CacheFilter::release_key(CacheWorker& w, const std::string& key, uint64_t leader) const {
  auto it = w.in_flight.find(key);
  if (it == w.in_flight.end() || it->second.leader != leader) return;
  // Out of the map before resuming: a resumed request may lead the key anew.
  std::vector<Waiter> waiters = std::move(it->second.waiters);
  w.in_flight.erase(it);
  for (const auto& waiter : waiters) waiter.handle.resume();
}

bool CacheFilter::charge_capture(CacheWorker& w, Capture& cap, uint64_t bytes) {
  const uint64_t others = w.capturing - cap.charged;
  if (others + bytes > w.store.max_bytes()) return false;
  w.capturing = others + bytes;
  cap.charged = bytes;
  return true;
}

void CacheFilter::drop_capture(CacheWorker& w, CacheRequest& st) {
  if (!st.capture) return;
  w.capturing -= st.capture->charged;
  st.capture.reset();
}

void CacheFilter::store_capture(filter::Context& ctx, CacheWorker& w, CacheRequest& st) const {
  std::unique_ptr<Capture> cap = std::move(st.capture);
  w.capturing -= cap->charged;
  // A body shorter than its Content-Length was cut off: not stored.
  if (cap->expected_length < 0 || static_cast<uint64_t>(cap->expected_length) == cap->body.size()) {
    http::HeaderList age;
    if (!cap->age.empty()) age.push_back({"Age", cap->age});
    auto body = std::make_shared<const std::string>(std::move(cap->body));
    auto e = make_entry(st.key, std::move(cap->vary), std::move(cap->secondary), cap->status,
                        std::move(cap->headers), std::move(body), age,
                        EntryTimes{st.request_time, cap->response_time, unix_seconds(ctx)},
                        options_.heuristic);
    e->route = route_name(ctx);
    if (st.stale) w.store.remove(st.stale);  // 4.3.3: the full response replaces it
    if (w.store.insert(std::move(e))) ++w.stats.stored;
  }
  release(w, st);
}

void CacheFilter::on_log(filter::Context& ctx) const {
  auto* st = ctx.state_if_any<CacheRequest>();
  if (st == nullptr) return;
  auto& w = ctx.worker<CacheWorker>();
  // An unsafe request whose response head we did not see still invalidates
  // its URI when it succeeded (only the URI: the head's fields are not
  // guaranteed to be readable here).
  if (st->mode == Mode::kUnsafe && ctx.response.status >= 200 && ctx.response.status < 400)
    invalidate(ctx, w, *st, false);
  drop_capture(w, *st);  // a body that never reached its last piece is not stored
  release(w, *st);      // waiters re-run: a hit if stored, else their own fetch
}

}  // namespace ringway::filters::cache
