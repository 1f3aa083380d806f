#include "engine/upstream/balancer.h"

namespace ringway::upstream {

Balancer::Balancer(const config::Upstream& upstream) : kind_(upstream.balancer) {
  for (const auto& e : upstream.endpoints) {
    weights_.push_back(e.weight == 0 ? 1 : e.weight);
    total_ += weights_.back();
  }
  current_.assign(weights_.size(), 0);
}

uint32_t Balancer::next() {
  const uint32_t n = static_cast<uint32_t>(weights_.size());
  if (n == 1) return 0;
  if (kind_ == config::Balancer::kRoundRobin) {
    uint32_t i = cursor_;
    cursor_ = (cursor_ + 1) % n;
    return i;
  }
  // nginx's smooth weighted round robin: every pick adds each weight to its
  // current value, takes the largest, and subtracts the total from it. Over
  // total picks each endpoint is chosen exactly weight times, interleaved.
  uint32_t best = 0;
  for (uint32_t i = 0; i < n; ++i) {
    current_[i] += weights_[i];
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= total_;
  return best;
}

}  // namespace ringway::upstream
