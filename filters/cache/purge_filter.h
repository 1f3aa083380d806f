#pragma once
// Purging a cache from the outside, as a route action (the admin API will
// call purge_cache() the same way):
//   filters:
//     edge_cache: { type: cache, max_bytes: 64MiB }
//     purge:      { type: cache_purge, cache: edge_cache }
//     internal:   { type: ip_rules, allow: [10.0.0.0/8] }
//   routes:
//     - match: { prefix: /, methods: [PURGE] }
//       filters: [internal, purge]
// `PURGE /path?query` removes that URL (every variant) on the request's host
// from every worker's store; `PURGE /prefix*` removes every URL starting with
// /prefix. Answers 200 with a one-line summary.

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_cache_purge(const FilterBuild& build);

}  // namespace ringway::filters
