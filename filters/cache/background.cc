// stale-while-revalidate in the background (RFC 5861 3): the request that
// finds an entry stale within its stale-while-revalidate window is answered
// from the stale copy at once, and the entry is revalidated with the
// engine's own fetch (filter::WorkerServices) on this worker. Requests
// meanwhile see the refresh in flight and get the stale copy too.
//
// What comes back: a 304 refreshes the stored fields (4.3.4); a full
// response drops the entry, so the next request fetches it through the
// route's whole chain (a background fetch skips the other filters, e.g. a
// gzip that produced the stored variant, so its body is not stored); an
// error keeps the stale copy for the rest of its windows.

#include "engine/routing/router.h"
#include "filters/cache/cache_filter_impl.h"
#include "filters/cache/conditional.h"
#include "engine/http/http_date.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {

bool CacheFilter::refresh_in_background(filter::Context& ctx, CacheWorker& w, const EntryPtr& e,
                                        int64_t now) const {
  const http::RequestHead& req = *ctx.request;
  if (ctx.services == nullptr || ctx.route == nullptr || ctx.route->upstream.empty() ||
      req.method != "GET" || !e->has_validators())
    return false;
  filter::WorkerServices::FetchRequest fetch;
  fetch.upstream = ctx.route->upstream;
  std::string target;
  routing::rewrite_path(*ctx.route, req.path, target);
  if (!req.query.empty()) target.append("?").append(req.query);
  fetch.path = target;
  fetch.max_body = options_.max_entry_bytes;
  std::string date;
  if (!req.host.empty()) fetch.headers.push_back({"Host", req.host});
  // The fields the stored variant was chosen by, as this request sent them.
  for (const std::string& name : e->vary)
    if (const http::Header* h = find_header(req.headers, name)) fetch.headers.push_back(*h);
  if (!e->etag.empty()) fetch.headers.push_back({"If-None-Match", e->etag});
  if (e->last_modified) {
    date = http::format_http_date(*e->last_modified);
    fetch.headers.push_back({"If-Modified-Since", date});
  }
  const uint64_t leader = ++w.next_leader;
  InFlight& flight = w.in_flight[e->key];
  flight.leader = leader;
  flight.refresh = true;
  CacheWorker* worker = &w;  // the engine drops pending fetches when the worker stops
  bool started = ctx.services->fetch(fetch, [this, worker, e, leader, now](
                                                const filter::WorkerServices::FetchResult& r) {
    background_done(*worker, e, leader, now, r);
  });
  if (!started) w.in_flight.erase(e->key);
  return started;
}

void CacheFilter::background_done(CacheWorker& w, const EntryPtr& old, uint64_t leader,
                                  int64_t request_time,
                                  const filter::WorkerServices::FetchResult& r) const {
  // The response time is taken as the request time: a background fetch
  // takes milliseconds, and ages count in seconds.
  const int64_t now = request_time;
  if (r.status == 304 && r.headers != nullptr) {
    const http::Header* etag = find_header(*r.headers, "etag");
    if (etag == nullptr || old->etag.empty() || weak_etag_match(etag->value, old->etag)) {
      // No request of a client's behind it: judged as a plain GET's.
      freshen(w, old, *r.headers, request_time, false, CacheControl{}, now);
      ++w.stats.revalidated;
    }
  } else if (r.status >= 200 && r.status < 500) {
    w.store.remove(old);  // changed (or gone): the next request fetches it through the chain
  }
  release_key(w, old->key, leader);
}

}  // namespace ringway::filters::cache
