// Rates as written in the config, and the GCRA arithmetic in ticks.

#include "filters/rate_limit/rate.h"

#include <gtest/gtest.h>

namespace ringway::filters::rate_limit {
namespace {

TEST(ParseRate, Units) {
  auto r = parse_rate("100/s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->count, 100);
  EXPECT_EQ(r->period_ms, 1000);
  EXPECT_EQ(parse_rate("300/m")->period_ms, 60'000);
  EXPECT_EQ(parse_rate("5/h")->period_ms, 3'600'000);
  EXPECT_EQ(parse_rate(" 7 / s ")->count, 7);
  EXPECT_EQ(parse_rate("1000000/s")->count, 1'000'000);
}

TEST(ParseRate, Refused) {
  for (const char* bad : {"100/x", "100", "/s", "0/s", "-1/s", "+1/s", "1.5/s", "1000001/s",
                          "100/sec", "100/S", "abc/s", "100//s", "", "99999999999999999999/s"})
    EXPECT_FALSE(parse_rate(bad)) << bad;
}

TEST(ParseRate, FormatRoundTrips) {
  for (const char* text : {"100/s", "300/m", "5/h"})
    EXPECT_EQ(format_rate(*parse_rate(text)), text);
}

TEST(Gcra, IntervalInNs) {
  Gcra g = Gcra::make(*parse_rate("100/s"), 20);
  EXPECT_EQ(g.interval, 10'000'000);
  EXPECT_EQ(g.tolerance, 19 * 10'000'000);
  EXPECT_EQ(g.burst, 20);
  // 3/s: 333333333.3 ns, rounded down (less than 1 ns short per request).
  EXPECT_EQ(Gcra::make(*parse_rate("3/s"), 1).interval, 333'333'333);
  EXPECT_EQ(Gcra::make(*parse_rate("1/h"), 1).interval, 3'600'000'000'000);
  EXPECT_EQ(Gcra::make(*parse_rate("1000000/s"), 1).interval, 1000);
}

TEST(Gcra, RemainingAndTimes) {
  Gcra g = Gcra::make(*parse_rate("10/s"), 5);  // T = 100 ms
  const int64_t ms = kNsPerMs;
  int64_t now = 1000 * ms;
  EXPECT_EQ(g.remaining(0, now), 5);               // idle: full bucket
  EXPECT_EQ(g.remaining(now + 100 * ms, now), 4);  // one spent
  EXPECT_EQ(g.remaining(now + 500 * ms, now), 0);  // all spent
  EXPECT_EQ(g.remaining(now + 450 * ms, now), 0);  // half a token is no token
  EXPECT_EQ(g.remaining(now + 350 * ms, now), 1);
  EXPECT_EQ(g.until_full(now + 500 * ms, now), 500 * ms);
  EXPECT_EQ(g.until_full(now - 1, now), 0);
  EXPECT_EQ(g.until_allowed(now + 500 * ms, now), 100 * ms);  // next token in T
  EXPECT_EQ(g.until_allowed(now + 400 * ms, now), 0);
  EXPECT_EQ(g.until_allowed(now + 400 * ms + 1, now), 1);
}

TEST(Gcra, CeilSeconds) {
  EXPECT_EQ(ceil_seconds(0), 0);
  EXPECT_EQ(ceil_seconds(-5), 0);
  EXPECT_EQ(ceil_seconds(1), 1);
  EXPECT_EQ(ceil_seconds(kNsPerSecond), 1);
  EXPECT_EQ(ceil_seconds(kNsPerSecond + 1), 2);
  EXPECT_EQ(ceil_seconds(3600 * kNsPerSecond), 3600);
}

}  // namespace
}  // namespace ringway::filters::rate_limit
