#pragma once
// A stored response. Immutable once built: a worker's store and any number of
// responses being sent share it through shared_ptr<const Entry>, so evicting
// or replacing it never frees memory a send still reads (LocalResponse::keep).
// A revalidation builds a new Entry that shares the body.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_head.h"
#include "filters/cache/freshness.h"

namespace ringway::filters::cache {

struct StoredHeader {
  std::string name;
  std::string value;
};

struct Entry {
  std::string key;                 // primary key (key.h)
  std::vector<std::string> vary;   // lower-cased names from Vary
  std::string secondary;           // secondary key of the request that stored it
  // The route that stored it: routes chosen by headers or method answer one
  // URL differently (another upstream or rewrite), so only its own route
  // may use it.
  std::string route;
  int status = 200;
  std::vector<StoredHeader> headers;  // as sent to clients, minus Age and hop-by-hop fields
  std::shared_ptr<const std::string> body;

  // Freshness, in Unix seconds (RFC 9111 4.2).
  int64_t response_time = 0;
  int64_t corrected_initial_age = 0;
  int64_t lifetime = 0;
  bool always_revalidate = false;  // no-cache: never served without validation
  bool no_stale = false;           // must-revalidate, proxy-revalidate, s-maxage, no-cache
  int64_t stale_while_revalidate = 0;
  int64_t stale_if_error = 0;

  // Validators, for conditional requests in both directions.
  std::string etag;
  std::optional<int64_t> last_modified;
  std::optional<int64_t> date;

  uint64_t size = 0;  // bytes charged to the store

  int64_t age(int64_t now) const { return current_age(corrected_initial_age, response_time, now); }
  bool fresh(int64_t now) const { return !always_revalidate && lifetime > age(now); }
  // Seconds past the end of the freshness lifetime (0 while fresh).
  int64_t staleness(int64_t now) const {
    int64_t past = age(now) - lifetime;
    return past > 0 ? past : 0;
  }
  bool has_validators() const { return !etag.empty() || last_modified.has_value(); }
  // May it be served stale for up to `seconds` (stale-while-revalidate or
  // stale-if-error windows, or a request's max-stale)?
  bool may_serve_stale(int64_t now, int64_t seconds) const {
    return !no_stale && seconds > 0 && staleness(now) <= seconds;
  }
  // The header list as views into this entry.
  http::HeaderList header_views() const;
};

using EntryPtr = std::shared_ptr<const Entry>;

// The fields a cache stores from a response: all but hop-by-hop fields and
// those named by Connection (3.1), Content-Length (the engine frames the
// body), Age (recomputed on every use) and the cache's own status header.
// A Date is added when the response had none (RFC 9110 6.6.1).
std::vector<StoredHeader> storable_headers(const http::HeaderList& headers,
                                           std::string_view status_header, int64_t response_time);

// A stored response's fields updated by a 304 (4.3.4): each field of the 304
// replaces all stored fields of that name, except the fields storable_headers
// drops and those that describe the stored body itself (Content-Encoding,
// Content-Range, Content-Type; we keep the body we have).
std::vector<StoredHeader> updated_headers(const std::vector<StoredHeader>& stored,
                                          const http::HeaderList& not_modified,
                                          std::string_view status_header, int64_t response_time);

struct EntryTimes {
  int64_t request_time = 0;   // when the request that got this response was sent
  int64_t response_time = 0;  // when the response arrived
  int64_t now = 0;            // for parsing two-digit years
};

// Builds an entry and its freshness from stored headers. `age_source` holds
// the Age field of the response that was received (a 304 on revalidation).
std::shared_ptr<Entry> make_entry(std::string key, std::vector<std::string> vary, std::string secondary,
                                  int status, std::vector<StoredHeader> headers,
                                  std::shared_ptr<const std::string> body, const http::HeaderList& age_source,
                                  const EntryTimes& times, const HeuristicPolicy& heuristic);

}  // namespace ringway::filters::cache
