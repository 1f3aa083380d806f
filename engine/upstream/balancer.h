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
    if (n == 1) return 0;
    if (kind_ == config::Balancer::kRoundRobin) {
      for (uint32_t k = 0; k < n; ++k) {
        uint32_t i = (cursor_ + k) % n;
        if (usable(i)) {
          cursor_ = (i + 1) % n;
          return i;
        }
      }
      uint32_t i = cursor_;  // none usable: keep rotating
      cursor_ = (cursor_ + 1) % n;
      return i;
    }
    int64_t best = weighted_step(usable);
    if (best < 0) best = weighted_step(AllUsable{});  // none usable: the plain choice
    return static_cast<uint32_t>(best);
  }
  uint32_t pick() { return pick(AllUsable{}); }

 private:
  struct AllUsable {
    bool operator()(uint32_t) const { return true; }
  };

  // nginx's smooth weighted round robin, over the usable endpoints only (so a
  // down endpoint's share spreads by weight, not onto its neighbour): every
  // pick adds each weight to its current value, takes the largest, and
  // subtracts the total from it. Over `total` picks each endpoint is chosen
  // exactly `weight` times, interleaved. Returns -1 when none is usable.
  template <typename Usable>
  int64_t weighted_step(Usable&& usable) {
    int64_t total = 0;
    int64_t best = -1;
    for (uint32_t i = 0; i < weights_.size(); ++i) {
      if (!usable(i)) continue;
      current_[i] += weights_[i];
      total += weights_[i];
      if (best < 0 || current_[i] > current_[best]) best = i;
    }
    if (best >= 0) current_[best] -= total;
    return best;
  }

  config::Balancer kind_;
  std::vector<int64_t> weights_;
  std::vector<int64_t> current_;  // smooth weighted round robin state
  uint32_t cursor_ = 0;
};

}  // namespace ringway::upstream
