#pragma once
// The jwt filter's settings, read from its YAML map (docs/filters/jwt.md).
// Everything that can be wrong with the config, key files included, fails
// here at load with FILE:LINE:COLUMN, never at request time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filters/jwt/claims.h"
#include "filters/jwt/key_set.h"
#include "filters/jwt/token_source.h"
#include "filters/registry.h"

namespace ringway::filters::jwt {

// jwks_url: a JWK set fetched through the gateway's own upstream client
// (filter::WorkerServices::fetch) and refreshed in the background.
struct JwksUrl {
  std::string url;       // as written ("http://idp/jwks.json"), for Key::origin
  std::string upstream;  // the URL's authority: an entry of the config's upstreams
  std::string path;      // origin-form ("/jwks.json", query included), sent as is
  int64_t refresh_ms = 5 * 60'000;  // periodic refresh (worker 0)
  int64_t min_refresh_ms = 30'000;  // least time between fetches for unknown kids;
                                    // also the retry interval after a failure
  size_t max_bytes = 1024 * 1024;   // larger answers are failures
};

struct JwtSettings {
  // The keys of the config itself (jwks_file, keys). With jwks_url they stay
  // in every fetched set; empty only when jwks_url is the one source.
  KeySetPtr keys;
  std::optional<JwksUrl> jwks;
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
