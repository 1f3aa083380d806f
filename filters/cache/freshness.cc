#include "filters/cache/freshness.h"

#include <algorithm>

#include "engine/http/http_date.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {

ResponseFacts read_response_facts(const http::HeaderList& headers, int64_t now_unix) {
  ResponseFacts f;
  f.cc = parse_cache_control(headers);
  bool seen_date = false, seen_lm = false, seen_age = false;
  for (const auto& h : headers) {
    // First occurrence of each single-valued field wins (4.2.1).
    if (http::iequals(h.name, "date")) {
      if (!seen_date) f.date = http::parse_http_date(h.value, now_unix);
      seen_date = true;
    } else if (http::iequals(h.name, "expires")) {
      // Invalid dates, "0" in particular, mean "already expired" (5.3).
      if (!f.has_expires) f.expires = http::parse_http_date(h.value, now_unix);
      f.has_expires = true;
    } else if (http::iequals(h.name, "last-modified")) {
      if (!seen_lm) f.last_modified = http::parse_http_date(h.value, now_unix);
      seen_lm = true;
    } else if (http::iequals(h.name, "age")) {
      // An invalid Age is ignored (5.1); the first of several is used.
      int64_t age = 0;
      if (!seen_age && parse_delta_seconds(trim_ows(h.value), age)) f.age = age;
      seen_age = true;
    }
  }
  return f;
}

bool heuristically_cacheable_status(int status) {
  switch (status) {
    case 200: case 203: case 204: case 206: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
      return true;
    default:
      return false;
  }
}

bool has_explicit_freshness(const ResponseFacts& f) {
  return f.cc.s_maxage != CacheControl::kAbsent || f.cc.max_age != CacheControl::kAbsent ||
         f.has_expires || f.cc.invalid_freshness;
}

int64_t freshness_lifetime(const ResponseFacts& f, int status, int64_t response_time,
                           const HeuristicPolicy& heuristic) {
  if (f.cc.invalid_freshness) return 0;
  if (f.cc.s_maxage != CacheControl::kAbsent) return f.cc.s_maxage;
  if (f.cc.max_age != CacheControl::kAbsent) return f.cc.max_age;
  const int64_t date = f.date.value_or(response_time);
  if (f.has_expires) {
    if (!f.expires) return 0;
    return std::clamp<int64_t>(*f.expires - date, 0, kMaxDeltaSeconds);
  }
  if (heuristic.max_seconds <= 0 || !f.last_modified) return 0;
  if (!heuristically_cacheable_status(status) && !f.cc.public_) return 0;
  int64_t since_modified = date - *f.last_modified;
  if (since_modified <= 0) return 0;
  return std::min(since_modified * heuristic.percent / 100, heuristic.max_seconds);
}

int64_t corrected_initial_age(const ResponseFacts& f, int64_t request_time, int64_t response_time) {
  int64_t apparent_age = f.date ? std::max<int64_t>(0, response_time - *f.date) : 0;
  int64_t response_delay = std::max<int64_t>(0, response_time - request_time);
  int64_t corrected_age_value = f.age + response_delay;
  return std::min(std::max(apparent_age, corrected_age_value), kMaxDeltaSeconds);
}

}  // namespace ringway::filters::cache
