// Response head and body: refresh on 304, stale-if-error on 5xx, capture of
// storable responses.

#include "filters/cache/cache_filter_impl.h"
#include "filters/cache/conditional.h"
#include "filters/cache/storability.h"
#include "filters/cache/text.h"
#include "filters/cache/vary.h"

namespace ringway::filters::cache {
namespace {

http::HeaderList views_of(const std::vector<StoredHeader>& headers) {
  http::HeaderList list;
  for (const auto& h : headers) list.push_back({h.name, h.value});
  return list;
}

}  // namespace

filter::Outcome CacheFilter::on_response_head(filter::Context& ctx) const {
  auto* st = ctx.state_if_any<CacheRequest>();
  if (st == nullptr || st->mode == Mode::kBypass) {
    label(ctx, kBypassLabel);
    return filter::Outcome::kProceed;
  }
  auto& w = ctx.worker<CacheWorker>();
  const int status = ctx.response.status;
  const int64_t now = unix_seconds(ctx);
  if (st->mode == Mode::kUnsafe) {
    if (status >= 200 && status < 400) invalidate(ctx, w, *st, true);
    label(ctx, kBypassLabel);
    return filter::Outcome::kProceed;
  }

  if (st->mode == Mode::kRevalidate && status == 304) {
    // 4.3.3/4.3.4: freshen the stored response with the 304's fields. A 304
    // carrying a different ETag does not describe what we hold (4.3.4: it
    // must not update it); the stored response is then served as it is,
    // still stale, unless it must never be served stale: a 502 then, as
    // the origin's answer is unusable.
    const EntryPtr& old = st->stale;
    const http::Header* etag = find_header(ctx.response.headers, "etag");
    http::HeaderList client = views_of(st->request_headers);
    if (etag != nullptr && !old->etag.empty() && !weak_etag_match(etag->value, old->etag)) {
      release(w, *st);
      if (old->no_stale) return bad_gateway(ctx);
      ++w.stats.stale;
      return serve(ctx, old, kStale, client, now);
    }
    EntryPtr fresh =
        freshen(w, old, ctx.response.headers, st->request_time, st->authorized, st->request_cc, now);
    release(w, *st);
    ++w.stats.revalidated;
    return serve(ctx, fresh, kRevalidated, client, now);
  }

  if (st->stale && status >= 500 && status <= 599) {
    // stale-if-error (RFC 5861 4), from the response or the request.
    int64_t window = std::max<int64_t>(st->stale->stale_if_error, st->request_cc.stale_if_error);
    if (st->stale->may_serve_stale(now, window)) {
      release(w, *st);
      ++w.stats.stale;
      return serve(ctx, st->stale, kStale, views_of(st->request_headers), now);
    }
  }

  label(ctx, kMissLabel);
  http::HeaderList request = views_of(st->request_headers);
  ResponseFacts facts = read_response_facts(ctx.response.headers, now);
  StorePolicy policy{options_.cache_authorized, options_.heuristic};
  StoreVerdict verdict = storability(ctx.request->method, st->authorized, st->request_cc, status,
                                     ctx.response.headers, facts, now, policy);
  const int64_t length = ctx.response.body_rewritten ? -1 : ctx.response.content_length;
  const bool storable = verdict == StoreVerdict::kStore &&
                        (length < 0 || static_cast<uint64_t>(length) <= options_.max_entry_bytes);
  auto cap = std::make_unique<Capture>();
  // Also not stored when too much is on its way into the store already.
  const bool get = ctx.request->method == "GET";
  // The next requests for a key that will not be stored need not wait for
  // each other: remembered when some did (a 5xx may be passing, and a 304
  // answers one client's own validators: collapsing goes on).
  if (get && !storable && status < 500 && status != 304 && w.has_waiters(st->key, st->leader))
    w.remember_uncacheable(st->key, ctx.now_ms);
  else if (get && storable) w.uncacheable.erase(st->key);
  if (!storable || (length > 0 && !charge_capture(w, *cap, static_cast<uint64_t>(length)))) {
    // A full response supersedes the stale one even when it is not stored
    // (it may have become private, say): the stale one must not be reused.
    if (st->stale && get && status < 500) w.store.remove(st->stale);
    release(w, *st);  // waiters go to the origin themselves now
    return filter::Outcome::kProceed;
  }
  cap->status = status;
  cap->headers = storable_headers(ctx.response.headers, options_.status_header, now);
  cap->vary = vary_names(ctx.response.headers);
  cap->secondary = secondary_key(request, cap->vary);
  if (const http::Header* age = find_header(ctx.response.headers, "age")) cap->age.assign(age->value);
  cap->response_time = now;
  cap->expected_length = length;
  if (length > 0) cap->body.reserve(static_cast<size_t>(length));
  st->capture = std::move(cap);
  ctx.watch_response_body();
  return filter::Outcome::kProceed;
}

std::string_view CacheFilter::on_response_body(filter::Context& ctx, std::string_view piece,
                                               bool last) const {
  auto* st = ctx.state_if_any<CacheRequest>();
  if (st == nullptr || !st->capture) return piece;
  auto& w = ctx.worker<CacheWorker>();
  Capture& cap = *st->capture;
  const uint64_t size = cap.body.size() + piece.size();
  if (size > options_.max_entry_bytes || (size > cap.charged && !charge_capture(w, cap, size))) {
    drop_capture(w, *st);
    release(w, *st);
    return piece;
  }
  cap.body.append(piece);
  if (last) store_capture(ctx, w, *st);
  return piece;
}

EntryPtr CacheFilter::freshen(CacheWorker& w, const EntryPtr& old, const http::HeaderList& not_modified,
                              int64_t request_time, bool authorized, const CacheControl& request_cc,
                              int64_t now) const {
  auto fresh = make_entry(old->key, old->vary, old->secondary, old->status,
                          updated_headers(old->headers, not_modified, options_.status_header, now),
                          old->body, not_modified, EntryTimes{request_time, now, now}, options_.heuristic);
  fresh->route = old->route;
  w.store.remove(old);
  const http::HeaderList headers = fresh->header_views();
  const StorePolicy policy{options_.cache_authorized, options_.heuristic};
  if (storability("GET", authorized, request_cc, fresh->status, headers,
                  read_response_facts(headers, now), now, policy) == StoreVerdict::kStore)
    w.store.insert(fresh);
  return fresh;
}

}  // namespace ringway::filters::cache
