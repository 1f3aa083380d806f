#include "filters/rate_limit/rate.h"

#include <algorithm>
#include <charconv>

namespace ringway::filters::rate_limit {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Rate> parse_rate(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view number = trim(text.substr(0, slash));
  std::string_view unit = trim(text.substr(slash + 1));
  if (number.empty() || number.size() > 7) return std::nullopt;  // kMaxRateCount has 7 digits
  for (char c : number)
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no fraction: whole requests
  int64_t count = 0;
  std::from_chars(number.data(), number.data() + number.size(), count);
  if (count < 1 || count > kMaxRateCount) return std::nullopt;
  int64_t period_ms = unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 0;
  if (period_ms == 0) return std::nullopt;
  return Rate{count, period_ms};
}

std::string format_rate(const Rate& rate) {
  const char* unit = rate.period_ms == 1000 ? "s" : rate.period_ms == 60'000 ? "m" : "h";
  return std::to_string(rate.count) + "/" + unit;
}

Gcra Gcra::make(const Rate& rate, int64_t burst) {
  Gcra p;
  p.interval = rate.period_ms * kNsPerMs / rate.count;  // >= 1000 ns: count <= 1e6 per s
  p.burst = burst;
  p.tolerance = (burst - 1) * p.interval;
  return p;
}

int64_t Gcra::remaining(int64_t tat, int64_t now) const {
  // k more requests pass while max(tat, now) + k*T - now <= burst*T.
  int64_t debt = std::max(tat, now) - now;
  int64_t room = burst * interval - debt;
  return room <= 0 ? 0 : std::min(burst, room / interval);
}

int64_t Gcra::until_full(int64_t tat, int64_t now) const { return std::max<int64_t>(0, tat - now); }

int64_t Gcra::until_allowed(int64_t tat, int64_t now) const {
  // Passes at the first `s` with tat - s <= tolerance.
  return std::max<int64_t>(0, tat - tolerance - now);
}

}  // namespace ringway::filters::rate_limit
