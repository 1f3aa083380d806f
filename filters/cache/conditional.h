#pragma once
// Conditional requests answered from a stored response (RFC 9111 4.3.2,
// RFC 9110 13.1.1-13.1.3 and 13.2.2): If-None-Match with the weak comparison,
// If-Modified-Since against Last-Modified (or Date, or the time the response
// was received); If-None-Match, when present, makes If-Modified-Since ignored.

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/http/request_head.h"

namespace ringway::filters::cache {

// Weak comparison of two entity-tags (RFC 9110 8.8.3.2): equal opaque-tags,
// either or both may be weak. Malformed tags never match.
bool weak_etag_match(std::string_view a, std::string_view b);

// True when an If-None-Match value (possibly several lines combined) lists
// "*" or an entity-tag that weakly matches `etag` (empty: the stored response
// has none, so only "*" matches).
bool if_none_match_matches(std::string_view if_none_match, std::string_view etag);

enum class Conditional : uint8_t {
  kNone,         // no precondition a cache evaluates
  kNotModified,  // answer 304
  kModified,     // answer with the full stored response
};

struct Validators {
  std::string_view etag;                 // stored ETag value, may be empty
  std::optional<int64_t> last_modified;  // stored Last-Modified
  std::optional<int64_t> date;           // stored Date
  int64_t response_time = 0;             // when the cache received it
};

// Evaluates the request's If-None-Match / If-Modified-Since (GET and HEAD
// only; the caller checks the method) against a stored response.
Conditional evaluate_conditionals(const http::HeaderList& request_headers, const Validators& v,
                                  int64_t now_unix);

// True when the request carries any of the conditionals above.
bool has_cache_conditionals(const http::HeaderList& request_headers);

}  // namespace ringway::filters::cache
