#pragma once
// The claims set of a verified token (RFC 7519 section 4) against the
// configured policy, and what a request that passes gets: headers for the
// upstream and attributes for later filters (a Grant).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filters/jwt/failure.h"
#include "filters/jwt/jws.h"

namespace ringway::filters::jwt {

// Bounds on the "jwt.<claim>" attributes a token can create: they are copied
// into every request, so a token must not be able to make that expensive.
inline constexpr size_t kMaxAttributes = 32;
inline constexpr size_t kMaxAttributeNameBytes = 64;
inline constexpr size_t kMaxAttributeValueBytes = 256;

// Claim names that get an attribute: at most 64 bytes of [A-Za-z0-9_.:/-]
// (namespaced claims such as https://example.com/tenant included).
bool is_attribute_name(std::string_view name);

struct ClaimPolicy {
  std::vector<std::string> issuers;          // "iss" must be one of them; empty: unchecked
  std::vector<std::string> audiences;        // "aud" must contain one; empty: unchecked
  std::vector<std::string> required_claims;  // must be present (and not null)
  std::vector<std::string> scopes;           // must all be granted; else 403
  std::vector<std::string> forward_claims;   // claims whose values become headers
  bool require_exp = true;
  int64_t leeway_ms = 60'000;
  bool claim_attributes = true;  // set "jwt.<claim>" attributes
};

// What a valid token grants a request. Cached per token, so it holds copies.
struct Grant {
  // (index into ClaimPolicy::forward_claims, header value) for each forwarded
  // claim the token has.
  std::vector<std::pair<uint32_t, std::string>> headers;
  // ("jwt.sub", "alice"): top-level string and integer claims, bounded above.
  std::vector<std::pair<std::string, std::string>> attributes;
  // Unix ms from which the token no longer passes (exp + leeway); INT64_MAX
  // without exp.
  int64_t valid_until_ms = 0;

  void clear() {
    headers.clear();
    attributes.clear();
    valid_until_ms = 0;
  }
};

// Parses the payload segment of a token whose signature has verified and
// checks it against `policy` at `now_unix_ms`. On kNone, *grant is filled.
Failure check_claims(std::string_view payload_segment, const ClaimPolicy& policy,
                     int64_t now_unix_ms, TokenScratch& scratch, Grant* grant);

}  // namespace ringway::filters::jwt
