#pragma once
// Cache-Control (RFC 9111 5.2) parsed into the directives this cache acts on.
//
// Parsing rules, and why:
//  * Directive names are case-insensitive; arguments may be a token or a
//    quoted-string (5.2: recipients accept both forms, max-age="5" included).
//  * All Cache-Control field lines of a message are read as one list.
//  * Unknown directives are ignored (5.2.3 extensions).
//  * A delta-seconds directive whose argument is missing or not a number,
//    or one that appears twice with different values, makes the response
//    stale: 4.2.1 says a cache should use the first occurrence or consider
//    the response stale, and encourages treating invalid freshness
//    information as stale; stale is the safe choice for a shared cache.
//  * Values beyond 2^31 saturate to 2^31 (1.2.2).
//  * The qualified forms no-cache="field" and private="field" are treated as
//    their unqualified forms (5.2.2.4 and 5.2.2.7 note caches commonly do
//    this; the qualified semantics need per-field handling we do not do).

#include <cstdint>
#include <string_view>

#include "engine/http/request_head.h"

namespace ringway::filters::cache {

struct CacheControl {
  static constexpr int64_t kAbsent = -1;

  // delta-seconds directives, kAbsent when not present.
  int64_t max_age = kAbsent;
  int64_t s_maxage = kAbsent;
  int64_t min_fresh = kAbsent;               // request
  int64_t max_stale = kAbsent;               // request; see max_stale_any
  int64_t stale_while_revalidate = kAbsent;  // RFC 5861
  int64_t stale_if_error = kAbsent;          // RFC 5861

  bool max_stale_any = false;  // request "max-stale" without a value
  bool no_store = false;
  bool no_cache = false;
  bool private_ = false;
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool must_understand = false;
  bool no_transform = false;
  bool only_if_cached = false;  // request
  bool immutable = false;       // RFC 8246

  // Some freshness directive (max-age, s-maxage) was present but unusable
  // (no argument, not a number, conflicting duplicates): treat as stale.
  bool invalid_freshness = false;

  bool empty() const;
};

// Parses one field value into `cc` (adding to what is already there).
void parse_cache_control(std::string_view value, CacheControl& cc);

// All Cache-Control lines of a header list.
CacheControl parse_cache_control(const http::HeaderList& headers);

}  // namespace ringway::filters::cache
