#include "engine/upstream/balancer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ringway::upstream {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

config::Upstream make_upstream(config::Balancer kind, std::vector<uint32_t> weights) {
  config::Upstream u;
  u.name = "pool";
  u.balancer = kind;
  for (size_t i = 0; i < weights.size(); ++i) {
    config::Endpoint e;
    e.address.text = "127.0.0.1:" + std::to_string(9000 + i);
    e.weight = weights[i];
    u.endpoints.push_back(e);
  }
  return u;
}

std::vector<uint32_t> picks(Balancer& b, int n) {
  std::vector<uint32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(b.pick());
  return out;
}

TEST(RoundRobin, CyclesInOrder) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1, 1, 1}));
  EXPECT_THAT(picks(b, 7), ElementsAre(0, 1, 2, 0, 1, 2, 0));
}

TEST(RoundRobin, IgnoresWeights) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {5, 1, 3}));
  EXPECT_THAT(picks(b, 6), ElementsAre(0, 1, 2, 0, 1, 2));
}

TEST(RoundRobin, SingleEndpoint) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1}));
  EXPECT_THAT(picks(b, 4), ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(b.pick([](uint32_t) { return false; }), 0u);
}

TEST(RoundRobin, SkipsUnusable) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1, 1, 1, 1}));
  auto not1 = [](uint32_t i) { return i != 1; };
  std::vector<uint32_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.pick(not1));
  EXPECT_THAT(got, ElementsAre(0, 2, 3, 0, 2, 3));
}

TEST(RoundRobin, OnlyOneUsable) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1, 1, 1}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.pick([](uint32_t i) { return i == 2; }), 2u);
}

TEST(RoundRobin, NoneUsableStillPicks) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1, 1, 1}));
  std::set<uint32_t> seen;
  for (int i = 0; i < 6; ++i) {
    uint32_t p = b.pick([](uint32_t) { return false; });
    EXPECT_LT(p, 3u);
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 3u) << "the plain choice keeps rotating";
}

TEST(RoundRobin, UsableIsAskedAboutValidIndexes) {
  Balancer b(make_upstream(config::Balancer::kRoundRobin, {1, 1, 1}));
  for (int i = 0; i < 10; ++i) {
    b.pick([](uint32_t idx) {
      EXPECT_LT(idx, 3u);
      return false;
    });
  }
}

TEST(WeightedRoundRobin, NginxSequenceFor511) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1, 1}));
  // a a b a c a a, and again.
  EXPECT_THAT(picks(b, 14), ElementsAre(0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0));
}

TEST(WeightedRoundRobin, EachEndpointExactlyWeightTimesPerCycle) {
  for (std::vector<uint32_t> w : std::vector<std::vector<uint32_t>>{
           {1, 1}, {2, 1}, {3, 7}, {5, 1, 1}, {1, 2, 3, 4}, {10, 1}, {1, 100}, {4, 4, 4},
           {7, 3, 11, 1, 2}}) {
    SCOPED_TRACE(::testing::PrintToString(w));
    Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, w));
    uint32_t total = 0;
    for (uint32_t x : w) total += x;
    for (int cycle = 0; cycle < 3; ++cycle) {
      std::map<uint32_t, uint32_t> count;
      for (uint32_t i = 0; i < total; ++i) ++count[b.pick()];
      for (uint32_t i = 0; i < w.size(); ++i) EXPECT_EQ(count[i], w[i]) << "endpoint " << i;
    }
  }
}

TEST(WeightedRoundRobin, InterleavedNotBursty) {
  // With weights {3, 3}, a bursty scheduler would do a a a b b b.
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {3, 3}));
  EXPECT_THAT(picks(b, 6), ElementsAre(0, 1, 0, 1, 0, 1));
  // For {5,1,1} the cycle is a a b a c a a, so the longest run of a is 4
  // (two at the end of one cycle, two at the start of the next), never 5.
  Balancer c(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1, 1}));
  int run = 0, longest = 0;
  for (int i = 0; i < 70; ++i) {
    run = c.pick() == 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_EQ(longest, 4);
}

TEST(WeightedRoundRobin, ZeroWeightCountsAsOne) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {0, 0}));
  EXPECT_THAT(picks(b, 4), ElementsAre(0, 1, 0, 1));
}

TEST(WeightedRoundRobin, SingleEndpoint) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {7}));
  EXPECT_THAT(picks(b, 3), ElementsAre(0, 0, 0));
}

// The common case of the (fixed) bug below: the heaviest endpoint is marked
// down, and a third of the picks still went to it.
TEST(WeightedRoundRobin, SkipsUnusableHeavyEndpoint) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1, 1}));
  for (int i = 0; i < 20; ++i) EXPECT_NE(b.pick([](uint32_t i) { return i != 0; }), 0u);
}

TEST(WeightedRoundRobin, SkipsUnusableLightEndpoint) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1, 1}));
  for (int i = 0; i < 20; ++i) EXPECT_NE(b.pick([](uint32_t i) { return i != 2; }), 2u);
}

// "usable(i) lets the caller skip endpoints (e.g. marked down); if none is
// usable the plain choice is returned" - so while one is usable, an unusable
// one must never be returned. (Regression: pick() gave up after n calls to the
// smooth WRR sequence, which can repeat a heavy endpoint more often, until
// 8e528ea.)
TEST(WeightedRoundRobin, NeverReturnsUnusableWhileOneIsUsable) {
  {
    Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1, 1}));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(b.pick([](uint32_t i) { return i == 2; }), 2u);
  }
  {
    Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {5, 1}));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(b.pick([](uint32_t i) { return i == 1; }), 1u);
  }
}

TEST(WeightedRoundRobin, NoneUsableStillPicksAValidIndex) {
  Balancer b(make_upstream(config::Balancer::kWeightedRoundRobin, {2, 1, 1}));
  for (int i = 0; i < 12; ++i) EXPECT_LT(b.pick([](uint32_t) { return false; }), 3u);
}

TEST(Balancer, InstancesAreIndependent) {
  const config::Upstream u = make_upstream(config::Balancer::kRoundRobin, {1, 1});
  Balancer a(u), b(u);
  EXPECT_EQ(a.pick(), 0u);
  EXPECT_EQ(a.pick(), 1u);
  EXPECT_EQ(b.pick(), 0u);
}

}  // namespace
}  // namespace ringway::upstream
