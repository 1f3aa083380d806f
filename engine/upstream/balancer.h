#pragma once
// Endpoint selection. Each worker owns its own balancer per upstream (no
// shared counters), so the sequence is exact per worker and the spread across
// workers comes from SO_REUSEPORT's spread of clients.

#include <cstdint>
#include <vector>

#include "config/config.h"

namespace ringway::upstream {

class Balancer {
 public:
  explicit Balancer(const config::Upstream& upstream);

  // Index into upstream.endpoints of the next endpoint to use. `usable(i)`
  // lets the caller skip endpoints (e.g. marked down); if none is usable the
  // plain choice is returned.
  template <typename Usable>
  uint32_t pick(Usable&& usable) {
    const uint32_t n = static_cast<uint32_t>(weights_.size());
    uint32_t first = next();
    if (usable(first)) return first;
    for (uint32_t k = 1; k < n; ++k) {
      // Round robin: the sequence itself visits every endpoint. Weighted: it
      // could return the same heavy endpoint n times in a row, so scan.
      uint32_t i = kind_ == config::Balancer::kRoundRobin ? next() : (first + k) % n;
      if (usable(i)) return i;
    }
    if (kind_ == config::Balancer::kRoundRobin) cursor_ = (first + 1) % n;  // keep rotating
    return first;
  }
  uint32_t pick() {
    return pick([](uint32_t) { return true; });
  }

 private:
  uint32_t next();

  config::Balancer kind_;
  std::vector<int64_t> weights_;
  std::vector<int64_t> current_;  // smooth weighted round robin state
  int64_t total_ = 0;
  uint32_t cursor_ = 0;
};

}  // namespace ringway::upstream
