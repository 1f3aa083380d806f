#pragma once
// The cache filter's configuration keys (docs/filters/cache.md), read from
// its YAML map with located errors.

#include <cstdint>
#include <string>

#include "filters/cache/freshness.h"
#include "filters/registry.h"

namespace ringway::filters::cache {

struct CacheOptions {
  // Memory for stored responses across all workers; each worker's store gets
  // max_bytes / workers (stores are per worker: no locks on the request path).
  uint64_t max_bytes = 64ull << 20;
  uint64_t max_entry_bytes = 1ull << 20;  // a larger response is passed on, not stored
  uint32_t workers = 1;                   // resolved like the engine does
  HeuristicPolicy heuristic;              // heuristic_max_age: 24h by default, 0 = off
  std::string status_header = "X-Cache";  // "" when x_cache_header is off
  bool cache_authorized = false;
  bool ignore_query = false;
  bool collapse = true;
  // How long a collapsed request waits for its leader before it goes to the
  // origin itself (nginx: proxy_cache_lock_timeout, also 5 s).
  int64_t collapse_timeout_ms = 5000;

  uint64_t per_worker_bytes() const { return workers > 0 ? max_bytes / workers : max_bytes; }
};

// Throws config::detail::ConfigError (via Field::fail) on a bad key or value.
CacheOptions read_cache_options(const FilterBuild& build);

}  // namespace ringway::filters::cache
