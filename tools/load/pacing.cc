#include "tools/load/pacing.h"

#include <cmath>

namespace ringway::load {

Schedule::Schedule(double rate, int total_connections)
    : rate_(rate), ns_per_request_(1e9 / rate), connections_(total_connections) {
  if (rate == std::floor(rate) && rate >= 1 && rate < 1e15)
    integer_rate_ = static_cast<uint64_t>(rate);
}

int64_t Schedule::offset_of(uint64_t j) const {
  // floor(j * 1e9 / rate), computed from j every time rather than
  // accumulated, so rounding never drifts: request 3 at 3 req/s is at exactly
  // one second. Integer rates are exact; others use long double.
  if (integer_rate_ != 0) {
    return static_cast<int64_t>(static_cast<unsigned __int128>(j) * 1'000'000'000u / integer_rate_);
  }
  return static_cast<int64_t>(std::floor(static_cast<long double>(j) * 1e9L / rate_));
}

uint64_t Schedule::scheduled_before(int64_t end_ns) const {
  if (end_ns <= 0) return 0;
  // Estimate, then settle against offset_of() itself so the count agrees with
  // the offsets the client really uses, whatever the rounding.
  double estimate = std::ceil(static_cast<double>(end_ns) / ns_per_request_);
  uint64_t n = estimate > 0 ? static_cast<uint64_t>(estimate) : 0;
  while (n > 0 && offset_of(n - 1) >= end_ns) --n;
  while (offset_of(n) < end_ns) ++n;
  return n;
}

uint64_t Schedule::scheduled_before(int conn, int64_t end_ns) const {
  const uint64_t n = scheduled_before(end_ns);
  const uint64_t c = static_cast<uint64_t>(conn);
  if (n <= c) return 0;
  const uint64_t per = static_cast<uint64_t>(connections_);
  return (n - c + per - 1) / per;
}

uint64_t Pacer::backlog(int64_t now_ns) const {
  const uint64_t due = schedule_->scheduled_before(conn_, now_ns - start_ns_ + 1);
  return due > taken_ ? due - taken_ : 0;
}

int connections_of_thread(int thread, int threads, int total) {
  if (thread >= total) return 0;
  return (total - thread + threads - 1) / threads;
}

}  // namespace ringway::load
