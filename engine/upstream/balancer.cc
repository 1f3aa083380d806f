#include "engine/upstream/balancer.h"

namespace ringway::upstream {

Balancer::Balancer(const config::Upstream& upstream) : kind_(upstream.balancer) {
  for (const auto& e : upstream.endpoints) {
    weights_.push_back(e.weight == 0 ? 1 : e.weight);
  }
  current_.assign(weights_.size(), 0);
}

}  // namespace ringway::upstream
