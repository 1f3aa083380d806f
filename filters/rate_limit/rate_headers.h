#pragma once
// Header values that tell clients about their limits.
//
// RateLimit-Policy and RateLimit follow draft-ietf-httpapi-ratelimit-headers-10
// (September 2025; -11 keeps the syntax): each is a structured-field List with
// one item per limit, a quoted policy name with parameters.
//   RateLimit-Policy: "default";q=100;w=1     quota q per window of w seconds
//   RateLimit: "default";r=42;t=1             r left now, t seconds until all are back
// X-RateLimit-Limit/-Remaining/-Reset are the older, widespread convention
// (GitHub, Kong): they describe a single limit, the one closest to refusing.

#include <absl/types/span.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/rate_limit/rate_limit_config.h"

namespace ringway::filters::rate_limit {

// One limit as a request found it.
struct LimitStatus {
  int64_t remaining = 0;  // requests that would pass right after this one
  int64_t reset_s = 0;    // seconds until the bucket is full again (rounded up)
};

// What a limit advertises as its quota: q requests per window of w seconds.
// N per unit while the burst B fits in N; a larger burst is B per the time
// the bucket takes to refill (B x T, rounded up), so that r <= q and t <= w
// always hold and q / w is never above the configured rate.
struct Quota {
  int64_t units = 0;
  int64_t window_s = 0;
};
Quota quota(const LimitSpec& limit);

// "default";q=100;w=1, ... : fixed per filter, built once.
std::string policy_field(const std::vector<LimitSpec>& limits);

// "default";r=42;t=1, ... : `status` has one entry per limit.
std::string ratelimit_field(const std::vector<LimitSpec>& limits,
                            absl::Span<const LimitStatus> status);

// The limit the X-RateLimit-* headers describe: fewest remaining, then the
// longest reset.
size_t tightest(absl::Span<const LimitStatus> status);

}  // namespace ringway::filters::rate_limit
