// Request head: what to do with a request before it reaches the origin.
//
//   not GET/HEAD          unsafe methods remember to invalidate; others pass
//   no-store, Range, ...  bypass: neither looked up nor stored (also a
//                         WebSocket handshake)
//   fresh entry           HIT (or 304 when the client's conditional matches)
//   stale, allowed        STALE: the client's max-stale, or s-w-r while
//                         another request is already refreshing the entry
//   someone else fetching wait for it (collapsing), once
//   stale with validators revalidate: our If-None-Match/If-Modified-Since
//   otherwise             miss; the first such request leads the others

#include "filters/cache/cache_filter_impl.h"
#include "filters/cache/conditional.h"
#include "engine/http/http_date.h"
#include "filters/cache/key.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {
namespace {

// RFC 9110 9.2.1: only these are safe; the rest may change the resource.
bool safe_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE";
}

// Preconditions and ranges only an origin can evaluate (4.3.2), requests
// whose responses the cache does not keep, and a GET or HEAD with content:
// the body is forwarded but is not in the key, and an origin that reads it
// would have its answer to one client's body served to everyone ("fat GET"
// poisoning).
bool origin_only(const http::HeaderList& headers) {
  for (const auto& h : headers) {
    std::string_view n = h.name;
    if (http::iequals(n, "range") || http::iequals(n, "if-match") ||
        http::iequals(n, "if-unmodified-since") || http::iequals(n, "if-range") ||
        http::iequals(n, "transfer-encoding") || (http::iequals(n, "content-length") && h.value != "0"))
      return true;
  }
  return false;
}

// May a stale entry be served while it is refreshed (RFC 5861 3)? Not to a
// request that asks for a fresh answer: no-cache, a max-age it is older
// than (max-age=0 included), any min-fresh (5.2.1).
bool accepts_stale_while_revalidate(const Entry& e, const CacheControl& rc, int64_t now) {
  if (rc.no_cache || rc.min_fresh != CacheControl::kAbsent) return false;
  return rc.max_age == CacheControl::kAbsent || (rc.max_age > 0 && e.age(now) <= rc.max_age);
}

// May a fresh or stale entry answer this request without contacting the
// origin, given the request's own directives (5.2.1)?
bool satisfies_request(const Entry& e, const CacheControl& rc, int64_t now, bool& stale) {
  // max-age=0 is treated like no-cache even for a response of age 0 (what
  // a browser's reload sends: the user wants the origin asked).
  if (rc.no_cache || rc.max_age == 0 || e.always_revalidate) return false;
  const int64_t age = e.age(now);
  if (rc.max_age != CacheControl::kAbsent && age > rc.max_age) return false;
  const int64_t left = e.lifetime - age;
  stale = left <= 0;
  if (!stale) return rc.min_fresh == CacheControl::kAbsent || left >= rc.min_fresh;
  // max-stale: the client accepts a stale response, unless the response
  // forbids serving it stale (must-revalidate and friends, 4.2.4).
  if (e.no_stale) return false;
  if (rc.max_stale_any) return true;
  return rc.max_stale != CacheControl::kAbsent && -left <= rc.max_stale;
}

}  // namespace

filter::Outcome CacheFilter::on_request_head(filter::Context& ctx) const {
  auto& w = ctx.worker<CacheWorker>();
  auto& st = ctx.state<CacheRequest>();
  apply_purges(w);
  const http::RequestHead& req = *ctx.request;
  const int64_t now = unix_seconds(ctx);
  st.request_time = now;

  if (req.method != "GET" && req.method != "HEAD") {
    if (!safe_method(req.method)) {
      st.mode = Mode::kUnsafe;
      st.key = primary_key(req.host, req.path, req.query, options_.ignore_query);
    }
    return filter::Outcome::kProceed;
  }
  st.request_cc = parse_cache_control(req.headers);
  st.authorized = ctx.authenticated || find_header(req.headers, "authorization") != nullptr;
  if (st.request_cc.no_store || req.upgrade || origin_only(req.headers) ||
      (!options_.cache_authorized && st.authorized)) {
    st.mode = Mode::kBypass;
    return filter::Outcome::kProceed;
  }
  st.key = primary_key(req.host, req.path, req.query, options_.ignore_query);
  return lookup(ctx, w, st, now);
}

filter::Outcome CacheFilter::lookup(filter::Context& ctx, CacheWorker& w, CacheRequest& st,
                                    int64_t now) const {
  http::RequestHead& req = *ctx.request;
  const bool get = req.method == "GET";
  EntryPtr e = w.store.lookup(st.key, req.headers, route_name(ctx));
  if (e) {
    bool stale = false;
    if (satisfies_request(*e, st.request_cc, now, stale)) {
      ++(stale ? w.stats.stale : w.stats.hits);
      return serve(ctx, e, stale ? kStale : kHit, req.headers, now);
    }
  }
  auto flight = w.in_flight.find(st.key);
  if (e && !e->fresh(now) && accepts_stale_while_revalidate(*e, st.request_cc, now) &&
      e->may_serve_stale(now, e->stale_while_revalidate)) {
    // stale-while-revalidate (RFC 5861 3): serve the stale copy instead of
    // waiting, while someone refreshes it: a request already on its way,
    // or a background revalidation started now.
    bool refreshing = flight != w.in_flight.end() && flight->second.refresh;
    if (refreshing || (flight == w.in_flight.end() && refresh_in_background(ctx, w, e, now))) {
      ++w.stats.stale;
      return serve(ctx, e, kStale, req.headers, now);
    }
    flight = w.in_flight.find(st.key);  // an attempt may have changed the map
  }
  if (st.request_cc.only_if_cached) return only_if_cached_miss(ctx);

  const bool collapse = options_.collapse && !w.known_uncacheable(st.key, ctx.now_ms);
  if (collapse && !st.waited && flight != w.in_flight.end()) {
    st.waited = true;
    ++w.stats.collapsed;
    const int64_t deadline = ctx.now_ms + options_.collapse_timeout_ms;
    flight->second.waiters.push_back({ctx.suspend(), deadline});
    if (ctx.services != nullptr) ctx.services->wake_at(w, deadline);
    return filter::Outcome::kSuspend;
  }

  ++w.stats.misses;
  st.mode = Mode::kMiss;
  st.stale = e;
  st.request_headers.clear();
  for (const auto& h : req.headers) st.request_headers.push_back({std::string(h.name), std::string(h.value)});
  if (!get) return filter::Outcome::kProceed;  // HEAD: passed on, never stored

  if (e && e->has_validators()) {
    // Revalidate with our validators (4.3.1). The client's own conditionals
    // are taken off: they are evaluated here against the refreshed entry.
    st.mode = Mode::kRevalidate;
    ctx.remove_request_header("If-None-Match");
    ctx.remove_request_header("If-Modified-Since");
    if (!e->etag.empty()) ctx.set_request_header("If-None-Match", e->etag);
    if (e->last_modified) ctx.set_request_header("If-Modified-Since", http::format_http_date(*e->last_modified));
  }
  // A request with its own validators and nothing stored likely gets a 304,
  // which stores nothing: it does not make others wait for it.
  if (collapse && flight == w.in_flight.end() && (e || !has_cache_conditionals(req.headers))) {
    InFlight& f = w.in_flight[st.key];
    f.leader = st.leader = ++w.next_leader;
    f.refresh = e != nullptr;
  }
  return filter::Outcome::kProceed;
}

}  // namespace ringway::filters::cache
