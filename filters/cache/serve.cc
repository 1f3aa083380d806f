// Local responses made from stored entries: the stored response itself, or a
// 304 when the client's own conditionals match it.

#include <string>

#include "filters/cache/cache_filter_impl.h"
#include "filters/cache/conditional.h"

namespace ringway::filters::cache {
namespace {

// What a 304 carries (RFC 9110 15.4.5): the fields a 200 would have that
// guide caches, plus Last-Modified for clients validating by date.
bool sent_with_304(std::string_view name) {
  for (std::string_view n : {"cache-control", "content-location", "date", "etag", "expires",
                             "last-modified", "vary"})
    if (http::iequals(name, n)) return true;
  return false;
}

}  // namespace

int64_t unix_seconds(const filter::Context& ctx) {
  return ctx.unix_ms >= 0 ? ctx.unix_ms / 1000 : 0;
}

std::string_view route_name(const filter::Context& ctx) {
  return ctx.route != nullptr ? std::string_view(ctx.route->name) : std::string_view();
}

void CacheFilter::label(filter::Context& ctx, std::string_view value) const {
  if (!options_.status_header.empty()) ctx.set_response_header(options_.status_header, value);
}

filter::Outcome CacheFilter::serve(filter::Context& ctx, const EntryPtr& e, std::string_view label,
                                   const http::HeaderList& conditionals, int64_t now) const {
  filter::LocalResponse& local = ctx.local();
  Validators v{e->etag, e->last_modified, e->date, e->response_time};
  // Preconditions apply only to what would be a 2xx (RFC 9110 13.2.1): a
  // stored 404 is a 404 whatever the client's validators say.
  bool not_modified = e->status >= 200 && e->status < 300 &&
                      evaluate_conditionals(conditionals, v, now) == Conditional::kNotModified;
  local.headers.clear();
  if (not_modified) {
    local.status = 304;
    local.body = {};
    for (const auto& h : e->headers)
      if (sent_with_304(h.name)) local.headers.push_back({h.name, h.value});
  } else {
    local.status = e->status;
    local.body = *e->body;
    for (const auto& h : e->headers) local.headers.push_back({h.name, h.value});
  }
  // The views above point into the entry: keep it alive until sent, even if
  // the store evicts or replaces it meanwhile.
  local.keep = e;
  local.headers.push_back({"Age", ctx.keep(std::to_string(e->age(now)))});
  if (!options_.status_header.empty()) local.headers.push_back({options_.status_header, label});
  return filter::Outcome::kRespond;
}

filter::Outcome CacheFilter::bad_gateway(filter::Context& ctx) const {
  filter::LocalResponse& local = ctx.local();
  local.status = 502;
  local.headers.clear();
  local.body = "502 Bad Gateway (304 for another representation)\n";
  local.keep.reset();
  if (!options_.status_header.empty()) local.headers.push_back({options_.status_header, kMissLabel});
  return filter::Outcome::kRespond;
}

filter::Outcome CacheFilter::only_if_cached_miss(filter::Context& ctx) const {
  // 5.2.1.7: only-if-cached with nothing usable stored is answered 504.
  filter::LocalResponse& local = ctx.local();
  local.status = 504;
  local.headers.clear();
  local.body = "504 Gateway Timeout (only-if-cached)\n";
  local.keep.reset();
  if (!options_.status_header.empty()) local.headers.push_back({options_.status_header, kMissLabel});
  return filter::Outcome::kRespond;
}

}  // namespace ringway::filters::cache
