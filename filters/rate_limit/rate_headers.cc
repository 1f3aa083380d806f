#include "filters/rate_limit/rate_headers.h"

namespace ringway::filters::rate_limit {

Quota quota(const LimitSpec& l) {
  if (l.burst <= l.rate.count) return {l.rate.count, period_seconds(l.rate)};
  // B x T in ms, rounded up (B <= 10^6, the period <= 3.6 x 10^6 ms: no overflow).
  const int64_t refill_ms = (l.burst * l.rate.period_ms + l.rate.count - 1) / l.rate.count;
  return {l.burst, (refill_ms + 999) / 1000};
}

std::string policy_field(const std::vector<LimitSpec>& limits) {
  std::string out;
  for (const LimitSpec& l : limits) {
    if (!out.empty()) out += ", ";
    // Names were checked at load to need no escaping (rate_limit_config.cc).
    const Quota q = quota(l);
    out += "\"" + l.name + "\";q=" + std::to_string(q.units) + ";w=" + std::to_string(q.window_s);
  }
  return out;
}

std::string ratelimit_field(const std::vector<LimitSpec>& limits,
                            absl::Span<const LimitStatus> status) {
  std::string out;
  for (size_t i = 0; i < limits.size() && i < status.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += "\"" + limits[i].name + "\";r=" + std::to_string(status[i].remaining) +
           ";t=" + std::to_string(status[i].reset_s);
  }
  return out;
}

size_t tightest(absl::Span<const LimitStatus> status) {
  size_t best = 0;
  for (size_t i = 1; i < status.size(); ++i)
    if (status[i].remaining < status[best].remaining ||
        (status[i].remaining == status[best].remaining && status[i].reset_s > status[best].reset_s))
      best = i;
  return best;
}

}  // namespace ringway::filters::rate_limit
