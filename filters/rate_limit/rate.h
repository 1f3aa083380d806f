#pragma once
// A rate as written in the config ("100/s", "300/m", "5/h") and the GCRA
// parameters derived from it (docs/filters/rate_limit.md, "Algorithm").
//
// GCRA keeps one number per key, the theoretical arrival time (TAT): the time
// at which the key's bucket would be full again. A request at `now` passes when
// max(TAT, now) - now <= tolerance, and then moves TAT on by one emission
// interval T = period / count. Times are nanoseconds of CLOCK_MONOTONIC.
// T is rounded down to a whole ns: exact for every count that divides the
// period in ns (100/s, 2500/s, 20/m, ...), and otherwise less than 1 ns short
// per request, i.e. a relative error below 1/T (1e-6 at 1000/s).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringway::filters::rate_limit {

// Bounds that keep burst * T and now + burst * T far inside 63 bits of ns
// (at most 1e6 * 3.6e12 ns = 3.6e18 for 1/h with a burst of a million).
constexpr int64_t kMaxRateCount = 1'000'000;
constexpr int64_t kMaxBurst = 1'000'000;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSecond = 1'000'000'000;

struct Rate {
  int64_t count = 0;      // requests ...
  int64_t period_ms = 0;  // ... per this many ms: 1000 (/s), 60000 (/m), 3600000 (/h)
  bool operator==(const Rate&) const = default;
};

// "N/s", "N/m" or "N/h" (blanks around '/' allowed), 1 <= N <= kMaxRateCount;
// nullopt otherwise.
std::optional<Rate> parse_rate(std::string_view text);

// "100/s": the spelling parse_rate reads.
std::string format_rate(const Rate& rate);

// Seconds in a rate's period (1, 60, 3600): the `w` of RateLimit-Policy.
inline int64_t period_seconds(const Rate& rate) { return rate.period_ms / 1000; }

// One limit's GCRA parameters, in ns.
struct Gcra {
  int64_t interval = 1;   // T: between two requests at the sustained rate
  int64_t tolerance = 0;  // (burst - 1) * T: how far ahead of now a TAT may be and still pass
  int64_t burst = 1;      // requests that pass at once from a full bucket

  // burst in [1, kMaxBurst], rate.count in [1, kMaxRateCount].
  static Gcra make(const Rate& rate, int64_t burst);

  // Requests that would pass at `now` given `tat` (0 .. burst).
  int64_t remaining(int64_t tat, int64_t now) const;
  // Time until the bucket is full again (TAT reached); 0 if it is.
  int64_t until_full(int64_t tat, int64_t now) const;
  // Time until one more request would pass; 0 if it would now.
  int64_t until_allowed(int64_t tat, int64_t now) const;
};

// Whole seconds for header values, rounded up so that a client that waits
// that long is never refused for having come too early.
inline int64_t ceil_seconds(int64_t ns) { return ns <= 0 ? 0 : (ns - 1) / kNsPerSecond + 1; }

}  // namespace ringway::filters::rate_limit
