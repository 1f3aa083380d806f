#pragma once
// What a rate limit counts by: the `key:` of the filter, one part or several
// combined (docs/filters/rate_limit.md, "Keys"), and the 64-bit hash of a
// request's key that indexes the shared table (gcra_table.h).
//
// Collisions: two keys with the same 64-bit hash share one bucket. absl::Hash
// is seeded per process, so clients cannot precompute colliding keys; among
// 65536 live keys the chance that any two collide is about 1 in 2^33.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/filter/filter.h"

namespace ringway::filters::rate_limit {

struct KeyPart {
  enum Kind : uint8_t {
    kClientIp,   // client_ip: attribute "client_ip" (set by ip_rules), else the peer address
    kHeader,     // header:NAME: the first NAME request header
    kAttribute,  // claim:NAME (attribute "jwt.NAME"), consumer (attribute "consumer")
    kRoute,      // route: the matched route's name
  };
  Kind kind = kClientIp;
  std::string name;  // header name or attribute key
  std::string text;  // as written in the config, for messages
  // The same key (spelling aside).
  bool operator==(const KeyPart& o) const { return kind == o.kind && name == o.name; }
};

// A part with no value (absent or empty header, unset attribute, no route).
enum class MissingKey : uint8_t {
  kClientIp,  // count it by the client's address instead (Kong's fallback)
  kShared,    // all requests missing it share one bucket (the empty value)
  kSkip,      // the request is not limited at all (nginx's empty key)
};

// "client_ip", "consumer", "route", "header:NAME" or "claim:NAME"; on a
// malformed spelling, nullopt and `error` says why.
std::optional<KeyPart> parse_key_part(std::string_view text, std::string& error);

// The names parse_key_part knows, for "did you mean".
std::vector<std::string> key_part_names();

// The hash of the request's key, or nullopt to skip the request (a part is
// missing and `missing` is kSkip).
std::optional<uint64_t> key_hash(const filter::Context& ctx, const std::vector<KeyPart>& parts,
                                 MissingKey missing);

}  // namespace ringway::filters::rate_limit
