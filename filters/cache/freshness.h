#pragma once
// Freshness lifetime and age (RFC 9111 4.2), as pure functions of a
// response's header facts and the times the cache saw it. All in seconds.

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/http/request_head.h"
#include "filters/cache/cache_control.h"

namespace ringway::filters::cache {

// What freshness depends on, read once from a response head.
struct ResponseFacts {
  CacheControl cc;
  std::optional<int64_t> date;           // Date
  bool has_expires = false;              // some Expires field line
  std::optional<int64_t> expires;        // nullopt when absent or invalid ("0")
  std::optional<int64_t> last_modified;  // Last-Modified
  int64_t age = 0;                       // Age (0 when absent or invalid)
};

ResponseFacts read_response_facts(const http::HeaderList& headers, int64_t now_unix);

struct HeuristicPolicy {
  // Cap on a heuristic lifetime; 0 disables heuristic freshness.
  int64_t max_seconds = 86400;
  // Fraction of (Date - Last-Modified): 4.2.2 suggests 10%.
  int64_t percent = 10;
};

// Status codes that are heuristically cacheable (RFC 9110 15.1).
bool heuristically_cacheable_status(int status);

// Freshness lifetime of a response in a shared cache (4.2.1): s-maxage, else
// max-age, else Expires - Date, else a heuristic (4.2.2) when allowed: no
// explicit expiration, a heuristically cacheable status or "public", and a
// Last-Modified (10% of Date - Last-Modified, capped). `response_time`
// stands in for a missing Date. Invalid freshness information gives 0.
int64_t freshness_lifetime(const ResponseFacts& facts, int status, int64_t response_time,
                           const HeuristicPolicy& heuristic);

// True when the lifetime comes from the response itself (not a heuristic).
bool has_explicit_freshness(const ResponseFacts& facts);

// corrected_initial_age (4.2.3): max(apparent_age, Age + response_delay).
int64_t corrected_initial_age(const ResponseFacts& facts, int64_t request_time, int64_t response_time);

// current_age = corrected_initial_age + resident_time (4.2.3).
inline int64_t current_age(int64_t corrected_initial_age, int64_t response_time, int64_t now) {
  int64_t resident = now > response_time ? now - response_time : 0;
  return corrected_initial_age + resident;
}

}  // namespace ringway::filters::cache
