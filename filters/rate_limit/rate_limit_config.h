#pragma once
// The keys of a rate_limit filter (docs/filters/rate_limit.md):
//
//   type: rate_limit
//   key: client_ip                 # or header:NAME, claim:NAME, consumer, route, or a list
//   rate: 100/s                    # N/s, N/m or N/h ...
//   burst: 20                      # ... and the bucket size (default: N)
//   limits: [{rate: 10/s, burst: 5}, {rate: 300/m, name: minute}]   # instead of rate/burst
//   max_keys: 65536                # table cells per limit
//   missing_key: client_ip         # client_ip | shared | skip
//   when_full: allow               # allow | deny
//   headers: true                  # RateLimit-Policy and RateLimit (IETF draft)
//   x_ratelimit_headers: true      # X-RateLimit-Limit, -Remaining, -Reset
//   status: 429
//   clock: monotonic               # monotonic (read per request) | loop (ctx.now_ms)

#include <cstdint>
#include <string>
#include <vector>

#include "filters/rate_limit/rate.h"
#include "filters/rate_limit/rate_key.h"
#include "filters/registry.h"

namespace ringway::filters::rate_limit {

constexpr int64_t kDefaultMaxKeys = 65536;
constexpr int64_t kMaxMaxKeys = 1 << 22;  // 64 MiB of cells per limit

struct LimitSpec {
  Rate rate;
  int64_t burst = 0;
  std::string name;  // the policy name in the RateLimit headers
};

// A key that meets a window of live cells (gcra_table.h).
enum class WhenFull : uint8_t { kAllow, kDeny };

// Where `now` comes from. kMonotonic: CLOCK_MONOTONIC read for each request
// (ns, ~20 ns through the vDSO). kLoop: the worker's loop-turn clock
// (ctx.now_ms): no clock read, and what tests drive, but only as fine as that
// clock, which matters for a burst of 1 (docs, "Accuracy").
enum class Clock : uint8_t { kMonotonic, kLoop };

struct RateLimitConfig {
  std::vector<KeyPart> key;
  std::vector<LimitSpec> limits;
  int64_t max_keys = kDefaultMaxKeys;
  MissingKey missing_key = MissingKey::kClientIp;
  WhenFull when_full = WhenFull::kAllow;
  bool headers = true;
  bool x_ratelimit_headers = true;
  int status = 429;
  Clock clock = Clock::kMonotonic;
};

// Reads and checks the filter's map; fails through Field::fail (FILE:LINE:COL).
RateLimitConfig read_rate_limit_config(const FilterBuild& build);

}  // namespace ringway::filters::rate_limit
