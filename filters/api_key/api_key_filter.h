#pragma once
// API key authentication (docs/filters/api_key.md):
//   type: api_key
//   header: X-API-Key            # default when neither header nor query is given
//   query: api_key               # optional; tried after the header
//   keys: { "<sha256 hex>": alice, ... }   # or [{sha256: ..., consumer: ...}]
//   keys_file: keys.yaml         # optional; same shape as keys:
//   consumer_header: X-Consumer  # optional; forwarded upstream
//   hide_credentials: true       # default: the key is not sent upstream
//   realm: ringway               # default; in WWW-Authenticate
// Keys are stored only as SHA-256 hashes. A request's key is hashed and
// looked up; on success the attribute "consumer" is set, otherwise the
// answer is 401 with WWW-Authenticate: ApiKey realm="...".

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_api_key(const FilterBuild& build);

}  // namespace ringway::filters
