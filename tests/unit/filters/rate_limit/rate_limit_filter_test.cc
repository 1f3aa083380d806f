// The rate_limit filter driven through its phases with a simulated clock:
// burst and steady rate, several limits, the key kinds, the headers,
// Retry-After, a full table, eviction, and workers on several threads.

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "filters/rate_limit/rate_headers.h"
#include "tests/unit/filters/rate_limit/rate_limit_test_util.h"

namespace ringway::filters::rate_limit {
namespace {

using testing::build;
using testing::Reply;
using testing::Request;
using testing::Worker;

// Requests at every ms from `from` to `to` (inclusive) until one is refused;
// returns how many passed.
int64_t flood(Worker& w, int64_t from, int64_t to, const std::string& ip = "10.0.0.1") {
  int64_t passed = 0;
  for (int64_t ms = from; ms <= to; ++ms)
    while (w.at(ms, ip).passed()) ++passed;
  return passed;
}

// The tests drive time through ctx.now_ms (clock: loop); this one is the
// default clock, which reads CLOCK_MONOTONIC: a minute-long limit cannot
// refill during the test, so no timing is assumed.
TEST(RateLimitFilter, DefaultClockIsMonotonic) {
  auto f = build("{ type: rate_limit, rate: 3/m }");
  Worker w(*f);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(w.at(0).passed()) << i;
  Reply r = w.at(0);
  EXPECT_FALSE(r.passed());
  int retry = std::stoi(r.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 20);  // one request every 20 s
}

TEST(RateLimitFilter, TheIssueExample) {
  auto f = build("{ type: rate_limit, clock: loop, key: client_ip, rate: 100/s, burst: 20 }");
  EXPECT_EQ(f->phases(), filter::kRequestHead | filter::kResponseHead);
  Worker w(*f);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(w.at(5000).passed()) << i;
  Reply r = w.at(5000);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.status, 429);
  // One token every 10 ms, exactly.
  EXPECT_FALSE(w.at(5009).passed());
  EXPECT_TRUE(w.at(5010).passed());
  EXPECT_FALSE(w.at(5010).passed());
  EXPECT_EQ(w.counters().allowed, 21u);
  EXPECT_EQ(w.counters().limited, 3u);
}

TEST(RateLimitFilter, BurstThenSteadyRateExactly) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 10/s, burst: 5 }");
  Worker w(*f);
  EXPECT_EQ(flood(w, 1000, 1000), 5);
  // Ten more seconds of a client that never stops: exactly 10 per second.
  EXPECT_EQ(flood(w, 1001, 11'000), 100);
  // An idle client gets its whole burst back, and no more.
  EXPECT_EQ(flood(w, 60'000, 60'000), 5);
}

TEST(RateLimitFilter, BurstDefaultsToTheRateCount) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 30/m }");
  Worker w(*f);
  EXPECT_EQ(flood(w, 0, 0), 30);
  EXPECT_EQ(flood(w, 1, 60'000), 30);  // and 30 a minute after that
}

TEST(RateLimitFilter, SeveralLimitsAllMustPass) {
  auto f = build(R"(
type: rate_limit
clock: loop
limits:
  - { rate: 10/s, burst: 5 }
  - { rate: 20/m }
)");
  Worker w(*f);
  EXPECT_EQ(flood(w, 0, 0), 5);  // the short limit's burst first
  // A minute of flooding: the minute limit's burst and rate, exactly. Requests
  // it refuses cost the 10/s limit nothing (else it would run dry and the
  // total would fall short).
  EXPECT_EQ(flood(w, 1, 60'000), 40 - 5);
  Reply r = w.at(60'000);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.header("RateLimit-Policy"), "\"rl:10/s\";q=10;w=1, \"rl:20/m\";q=20;w=60");
  // The 10/s limit was charged by the request that passed at 60 s, not by this one.
  EXPECT_EQ(r.header("RateLimit"), "\"rl:10/s\";r=4;t=1, \"rl:20/m\";r=0;t=60");
  EXPECT_EQ(r.header("Retry-After"), "3");         // the next 20/m token
  EXPECT_EQ(r.header("X-RateLimit-Limit"), "20");  // the limit that refused
  EXPECT_EQ(r.header("X-RateLimit-Remaining"), "0");
}

TEST(RateLimitFilter, ShortLimitRefusalDoesNotSpendTheLongOne) {
  auto f = build(
      "{ type: rate_limit, clock: loop, limits: [{rate: 1/s, burst: 1}, {rate: 3/h, name: hourly}] "
      "}");
  Worker w(*f);
  EXPECT_TRUE(w.at(0).passed());
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(w.at(500).passed());
  EXPECT_TRUE(w.at(1000).passed());
  EXPECT_TRUE(w.at(2000).passed());
  Reply r = w.at(3000);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.header("RateLimit"), "\"rl:1/s\";r=1;t=0, \"hourly\";r=0;t=3597");
  // 3/h is one every 20 minutes; the first came back at 20 min after 0 s.
  EXPECT_EQ(r.header("Retry-After"), "1197");
}

TEST(RateLimitFilter, ClientIpKeysAreSeparate) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.at(0, "10.0.0.1").passed());
  EXPECT_TRUE(w.at(0, "10.0.0.2").passed());
  EXPECT_TRUE(w.at(0, "::1").passed());
  EXPECT_FALSE(w.at(0, "10.0.0.1").passed());
  EXPECT_FALSE(w.at(0, "::1").passed());
}

TEST(RateLimitFilter, ClientIpPrefersTheAddressIpRulesResolved) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1 }");
  Worker w(*f);
  // Two clients behind one proxy (peer 10.0.0.9), told apart by ip_rules.
  Request a;
  a.client_ip = "10.0.0.9";
  a.attributes.push_back({"client_ip", "198.51.100.1"});
  Request b = a;
  b.attributes[0].second = "198.51.100.2";
  EXPECT_TRUE(w.send(a).passed());
  EXPECT_TRUE(w.send(b).passed());
  EXPECT_FALSE(w.send(a).passed());
  EXPECT_TRUE(w.at(0, "10.0.0.9").passed());  // the proxy itself, without the attribute
}

Request with_header(const std::string& name, const std::string& value,
                    const std::string& ip = "10.0.0.1") {
  Request r;
  r.client_ip = ip;
  if (!name.empty()) r.headers.push_back({name, value});
  return r;
}

TEST(RateLimitFilter, HeaderKey) {
  auto f = build("{ type: rate_limit, clock: loop, key: header:X-Api-Key, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.send(with_header("X-Api-Key", "a", "1.1.1.1")).passed());
  // The same key from another address is the same client; names are case-insensitive.
  EXPECT_FALSE(w.send(with_header("x-api-key", "a", "2.2.2.2")).passed());
  EXPECT_TRUE(w.send(with_header("X-Api-Key", "b", "1.1.1.1")).passed());
}

TEST(RateLimitFilter, MissingKeyFallsBackToTheClientAddress) {
  auto f = build("{ type: rate_limit, clock: loop, key: header:X-Api-Key, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.send(with_header("", "", "1.1.1.1")).passed());
  EXPECT_FALSE(w.send(with_header("", "", "1.1.1.1")).passed());
  EXPECT_FALSE(w.send(with_header("X-Api-Key", "", "1.1.1.1")).passed());  // empty is missing
  EXPECT_TRUE(w.send(with_header("", "", "2.2.2.2")).passed());
  // A key whose value happens to be that address is a different bucket.
  EXPECT_TRUE(w.send(with_header("X-Api-Key", "1.1.1.1", "9.9.9.9")).passed());
}

TEST(RateLimitFilter, MissingKeyShared) {
  auto f = build(
      "{ type: rate_limit, clock: loop, key: header:X-Api-Key, rate: 1/m, burst: 1, missing_key: "
      "shared }");
  Worker w(*f);
  EXPECT_TRUE(w.send(with_header("", "", "1.1.1.1")).passed());
  EXPECT_FALSE(
      w.send(with_header("", "", "2.2.2.2")).passed());  // every keyless request: one bucket
  EXPECT_TRUE(w.send(with_header("X-Api-Key", "k", "2.2.2.2")).passed());
}

TEST(RateLimitFilter, MissingKeySkip) {
  auto f = build(
      "{ type: rate_limit, clock: loop, key: header:X-Api-Key, rate: 1/m, burst: 1, missing_key: "
      "skip }");
  Worker w(*f);
  for (int i = 0; i < 10; ++i) {
    Reply r = w.send(with_header("", ""));
    EXPECT_TRUE(r.passed());
    EXPECT_EQ(r.header("RateLimit"), "(none)");  // not limited, so nothing to report
  }
  EXPECT_EQ(w.counters().skipped, 10u);
  EXPECT_EQ(w.counters().allowed, 0u);
  EXPECT_TRUE(w.send(with_header("X-Api-Key", "k")).passed());
  EXPECT_FALSE(w.send(with_header("X-Api-Key", "k")).passed());
}

Request with_attribute(const std::string& key, const std::string& value,
                       const std::string& ip = "10.0.0.1") {
  Request r;
  r.client_ip = ip;
  r.attributes.push_back({key, value});
  return r;
}

TEST(RateLimitFilter, ClaimKeyReadsTheJwtAttribute) {
  auto f = build("{ type: rate_limit, clock: loop, key: claim:sub, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.send(with_attribute("jwt.sub", "alice", "1.1.1.1")).passed());
  EXPECT_FALSE(w.send(with_attribute("jwt.sub", "alice", "2.2.2.2")).passed());
  EXPECT_TRUE(w.send(with_attribute("jwt.sub", "bob", "1.1.1.1")).passed());
  EXPECT_TRUE(
      w.send(with_attribute("sub", "alice", "3.3.3.3")).passed());  // not the claim: falls back
}

TEST(RateLimitFilter, ConsumerKey) {
  auto f = build("{ type: rate_limit, clock: loop, key: consumer, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.send(with_attribute("consumer", "acme", "1.1.1.1")).passed());
  EXPECT_FALSE(w.send(with_attribute("consumer", "acme", "2.2.2.2")).passed());
  EXPECT_TRUE(w.send(with_attribute("consumer", "initech", "1.1.1.1")).passed());
}

TEST(RateLimitFilter, RouteKeyAndCombinedKeys) {
  config::Route a, b;
  a.name = "api";
  b.name = "static";
  auto f = build("{ type: rate_limit, clock: loop, key: [consumer, route], rate: 1/m, burst: 1 }");
  Worker w(*f);
  auto req = [&](const std::string& consumer, const config::Route* route) {
    Request r = with_attribute("consumer", consumer);
    r.route = route;
    return w.send(r);
  };
  EXPECT_TRUE(req("acme", &a).passed());
  EXPECT_TRUE(req("acme", &b).passed());
  EXPECT_TRUE(req("initech", &a).passed());
  EXPECT_FALSE(req("acme", &a).passed());
  EXPECT_FALSE(req("initech", &a).passed());

  auto g = build("{ type: rate_limit, clock: loop, key: route, rate: 1/m, burst: 1 }");
  Worker v(*g);
  Request r1;
  r1.route = &a;
  r1.client_ip = "1.1.1.1";
  EXPECT_TRUE(v.send(r1).passed());
  r1.client_ip = "2.2.2.2";
  EXPECT_FALSE(v.send(r1).passed());  // one budget for the whole route
  r1.route = &b;
  EXPECT_TRUE(v.send(r1).passed());
}

TEST(RateLimitFilter, HeadersOnAllowedResponses) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 10/s, burst: 5 }");
  Worker w(*f);
  Reply r = w.at(1000);
  ASSERT_TRUE(r.passed());
  EXPECT_EQ(r.header("RateLimit-Policy"), "\"rl\";q=10;w=1");
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=4;t=1");
  EXPECT_EQ(r.header("X-RateLimit-Limit"), "10");  // the quota, as in RateLimit-Policy
  EXPECT_EQ(r.header("X-RateLimit-Remaining"), "4");
  EXPECT_EQ(r.header("X-RateLimit-Reset"), "1");
  for (int i = 0; i < 3; ++i) w.at(1000);
  r = w.at(1000);
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=1");
  // 250 ms later two and a half tokens are back; this request takes one.
  r = w.at(1250);
  EXPECT_EQ(r.header("X-RateLimit-Remaining"), "1");

  auto m = build("{ type: rate_limit, clock: loop, rate: 60/m }");
  Worker v(*m);
  for (int i = 0; i < 29; ++i) v.at(0);
  r = v.at(0);
  EXPECT_EQ(r.header("RateLimit-Policy"), "\"rl\";q=60;w=60");
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=30;t=30");  // 30 s until all 60 are back
  EXPECT_EQ(r.header("X-RateLimit-Reset"), "30");
}

TEST(RateLimitFilter, BurstAboveTheRateAdvertisesItsRefillWindow) {
  // 1/m with a burst of 3: three pass at once and one a minute after, so
  // the quota is 3 per 180 s, never "1 per 60 s" with 3 remaining.
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 3 }");
  Worker w(*f);
  Reply r = w.at(0);
  EXPECT_EQ(r.header("RateLimit-Policy"), "\"rl\";q=3;w=180");
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=2;t=60");
  EXPECT_EQ(r.header("X-RateLimit-Limit"), "3");
  w.at(0);
  r = w.at(0);
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=180");
  // A refill time that is not whole seconds is rounded up: 7/s, burst 10.
  rate_limit::LimitSpec l{*rate_limit::parse_rate("7/s"), 10, "x"};
  EXPECT_EQ(rate_limit::quota(l).units, 10);
  EXPECT_EQ(rate_limit::quota(l).window_s, 2);
  l.burst = 7;
  EXPECT_EQ(rate_limit::quota(l).units, 7);
  EXPECT_EQ(rate_limit::quota(l).window_s, 1);
}

TEST(RateLimitFilter, HeadersCanBeTurnedOff) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/s, burst: 1, headers: false }");
  Worker w(*f);
  Reply r = w.at(0);
  EXPECT_EQ(r.header("RateLimit"), "(none)");
  EXPECT_EQ(r.header("X-RateLimit-Remaining"), "0");
  r = w.at(0);
  EXPECT_EQ(r.header("RateLimit-Policy"), "(none)");
  EXPECT_EQ(r.header("Retry-After"), "1");  // always on a refusal

  auto g =
      build("{ type: rate_limit, clock: loop, rate: 1/s, burst: 1, x_ratelimit_headers: false }");
  Worker v(*g);
  r = v.at(0);
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=1");
  EXPECT_EQ(r.header("X-RateLimit-Limit"), "(none)");

  auto h = build(
      "{ type: rate_limit, clock: loop, rate: 1/s, headers: false, x_ratelimit_headers: false }");
  EXPECT_EQ(h->phases(), filter::kRequestHead);  // nothing to add to responses
}

TEST(RateLimitFilter, RefusalResponse) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1 }");
  Worker w(*f);
  EXPECT_TRUE(w.at(0).passed());
  Reply r = w.at(0);
  EXPECT_EQ(r.outcome, filter::Outcome::kRespond);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("Retry-After"), "60");
  EXPECT_EQ(r.header("RateLimit-Policy"), "\"rl\";q=1;w=60");
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=60");
  EXPECT_EQ(r.header("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(r.header("Content-Type"), "text/plain");
  EXPECT_EQ(w.at(30'000).header("Retry-After"), "30");
  EXPECT_EQ(w.at(59'001).header("Retry-After"), "1");  // 999 ms: rounded up
  EXPECT_TRUE(w.at(60'000).passed());

  // Less than a second to wait is still "1", never "0".
  auto g = build("{ type: rate_limit, clock: loop, rate: 10/s, burst: 1, status: 503 }");
  Worker v(*g);
  v.at(0);
  r = v.at(0);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After"), "1");
}

// Eight colliding keys fill the only window of an 8-cell table.
TEST(RateLimitFilter, TableFullAllowsByDefaultAndCounts) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1, max_keys: 8 }");
  Worker w(*f);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(w.at(0, "10.0.0." + std::to_string(i)).passed());
  Reply r = w.at(0, "10.0.1.1");
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=60");  // treated as a fresh bucket
  EXPECT_TRUE(w.at(0, "10.0.1.1").passed());                 // and not remembered
  EXPECT_EQ(w.counters().table_full, 2u);
  EXPECT_EQ(w.counters().allowed, 10u);
  EXPECT_FALSE(w.at(0, "10.0.0.3").passed());  // keys in the table are still limited
}

TEST(RateLimitFilter, TableFullCanDeny) {
  auto f =
      build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1, max_keys: 8, when_full: deny }");
  Worker w(*f);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(w.at(0, "10.0.0." + std::to_string(i)).passed());
  Reply r = w.at(0, "10.0.1.1");
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.status, 429);
  // Until the first cell of its window frees up (the keys took them at 0 s).
  EXPECT_EQ(r.header("Retry-After"), "60");
  EXPECT_EQ(r.header("RateLimit"), "\"rl\";r=0;t=60");
  EXPECT_EQ(w.counters().table_full, 1u);
  EXPECT_EQ(w.counters().limited, 1u);
  // A client that waits that long passes.
  EXPECT_FALSE(w.at(59'000, "10.0.1.1").passed());
  EXPECT_TRUE(w.at(60'000, "10.0.1.1").passed());
}

TEST(RateLimitFilter, ExpiredKeysMakeRoom) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 1/m, burst: 1, max_keys: 8 }");
  Worker w(*f);
  for (int i = 0; i < 8; ++i) w.at(i * 1000, "10.0.0." + std::to_string(i));
  EXPECT_TRUE(w.at(59'999, "10.0.1.1").passed());
  EXPECT_EQ(w.counters().table_full, 1u);
  // At 60 s the first key's bucket is full again: its cell is reused, and the
  // new key is limited from then on.
  EXPECT_TRUE(w.at(60'000, "10.0.1.1").passed());
  EXPECT_FALSE(w.at(60'000, "10.0.1.1").passed());
  EXPECT_EQ(w.counters().table_full, 1u);
}

// Four workers (threads, each with its own WorkerState) hammer one client's
// key through the filter, in lock-step rounds of a shared simulated clock.
TEST(RateLimitFilter, ExactAcrossWorkers) {
  auto f = build("{ type: rate_limit, clock: loop, rate: 200/s, burst: 20 }");  // T = 5 ms
  constexpr int kWorkers = 4;
  constexpr int64_t kRounds = 3000;  // 1 ms each
  std::atomic<int64_t> clock{1'000'000};
  std::barrier sync(kWorkers, [&]() noexcept { clock.fetch_add(1); });
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(std::make_unique<Worker>(*f));
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i)
    threads.emplace_back([&, i] {
      for (int64_t round = 0; round < kRounds; ++round) {
        int64_t now = clock.load();
        for (int k = 0; k < 8; ++k) workers[i]->at(now);
        sync.arrive_and_wait();
      }
    });
  for (auto& t : threads) t.join();
  uint64_t allowed = 0, limited = 0;
  for (auto& w : workers) {
    allowed += w->counters().allowed;
    limited += w->counters().limited;
  }
  // burst + rate * time: rounds at +0 .. +2999 ms, 20 + floor(2999 / 5).
  EXPECT_EQ(allowed, 20u + 599u);
  EXPECT_EQ(allowed + limited, static_cast<uint64_t>(kWorkers * kRounds * 8));
}

}  // namespace
}  // namespace ringway::filters::rate_limit
