#pragma once
// Rate limiting (docs/filters/rate_limit.md):
//   type: rate_limit   key (client_ip, header:NAME, claim:NAME, consumer, route,
//                      or a list), rate + burst or limits, max_keys,
//                      missing_key, when_full, headers, x_ratelimit_headers, status
// GCRA over a lock-free table shared by all workers: one budget per key for
// the whole gateway, not per worker.

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_rate_limit(const FilterBuild& build);

}  // namespace ringway::filters
