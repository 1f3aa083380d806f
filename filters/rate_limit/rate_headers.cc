#include "filters/rate_limit/rate_headers.h"

namespace ringway::filters::rate_limit {

std::string policy_field(const std::vector<LimitSpec>& limits) {
  std::string out;
  for (const LimitSpec& l : limits) {
    if (!out.empty()) out += ", ";
    // Names were checked at load to need no escaping (rate_limit_config.cc).
    out += "\"" + l.name + "\";q=" + std::to_string(l.rate.count) +
           ";w=" + std::to_string(period_seconds(l.rate));
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
