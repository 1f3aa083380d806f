#pragma once
// Per-worker counters of a rate_limit filter (its make_worker_state): plain
// integers, as only the worker's own thread writes them; whoever reports them
// sums the workers' copies.

#include <cstdint>

#include "engine/filter/filter.h"

namespace ringway::filters::rate_limit {

struct RateLimitCounters final : filter::WorkerState {
  uint64_t allowed = 0;     // requests that passed every limit
  uint64_t limited = 0;     // requests answered with the limit status
  uint64_t table_full = 0;  // requests whose key found no cell (when_full decided)
  uint64_t skipped = 0;     // requests with a missing key part and missing_key: skip

  void report(std::vector<std::pair<std::string_view, uint64_t>>& out) const override {
    out.insert(out.end(), {{"allowed", allowed}, {"limited", limited},
                           {"table_full", table_full}, {"skipped", skipped}});
  }
};

}  // namespace ringway::filters::rate_limit
