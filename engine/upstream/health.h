#pragma once
// Passive health of one upstream's endpoints on one worker, as nginx's
// max_fails / fail_timeout: an endpoint that fails `max_fails` connects
// within `fail_timeout` is skipped by the balancer for `fail_timeout`, then
// tried again, and one more failure takes it out again. A connect that
// succeeds clears the count. Each worker learns on its own
// (no shared state); a worker that has not met the failure yet pays one
// failed connect for it, and the request fails over (Proxy::connect_failed).
// No I/O and no clock of its own: the caller passes the time.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringway::upstream {

class EndpointHealth {
 public:
  // max_fails 0: endpoints are never marked down.
  EndpointHealth(std::size_t endpoints, uint32_t max_fails, int64_t fail_timeout_ms)
      : state_(endpoints), max_fails_(max_fails), fail_timeout_ms_(fail_timeout_ms) {}

  bool up(uint32_t ep, int64_t now_ms) const { return state_[ep].down_until_ms <= now_ms; }

  // Returns true when this failure takes the endpoint down (it was up).
  bool failed(uint32_t ep, int64_t now_ms) {
    if (max_fails_ == 0) return false;
    State& s = state_[ep];
    const bool was_up = up(ep, now_ms);
    // A count that has not reached max_fails within fail_timeout is stale;
    // one that did stays at max_fails until a success.
    if (s.fails < max_fails_ && now_ms - s.first_fail_ms >= fail_timeout_ms_) s.fails = 0;
    if (s.fails == 0) s.first_fail_ms = now_ms;
    if (s.fails < max_fails_) ++s.fails;
    if (s.fails < max_fails_) return false;
    s.down_until_ms = now_ms + fail_timeout_ms_;
    return was_up;
  }

  void succeeded(uint32_t ep) {
    State& s = state_[ep];
    s.fails = 0;
    s.down_until_ms = 0;
  }

 private:
  struct State {
    uint32_t fails = 0;
    int64_t first_fail_ms = 0;
    int64_t down_until_ms = 0;
  };
  std::vector<State> state_;
  uint32_t max_fails_;
  int64_t fail_timeout_ms_;
};

}  // namespace ringway::upstream
