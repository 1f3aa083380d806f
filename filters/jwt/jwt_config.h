#pragma once
// The jwt filter's settings, read from its YAML map (docs/filters/jwt.md).
// Everything that can be wrong with the config, key files included, fails
// here at load with FILE:LINE:COLUMN, never at request time.

#include <cstdint>
#include <string>
#include <vector>

#include "filters/jwt/claims.h"
#include "filters/jwt/key_set.h"
#include "filters/jwt/token_source.h"
#include "filters/registry.h"

namespace ringway::filters::jwt {

struct JwtSettings {
  KeySetPtr keys;
  ClaimPolicy policy;
  // Header names for policy.forward_claims, same order.
  std::vector<std::string> forward_headers;
  std::vector<TokenSource> sources;
  size_t cache_entries = 10000;
  int64_t cache_ttl_ms = 5 * 60'000;
  size_t max_token_bytes = 8192;
  // false: remove the token (its header, or its cookie) before forwarding.
  bool forward_token = true;
  std::string realm = "ringway";
};

// Reads build.field (throws config::detail::ConfigError via field.fail()).
JwtSettings read_jwt_settings(const FilterBuild& build);

}  // namespace ringway::filters::jwt
