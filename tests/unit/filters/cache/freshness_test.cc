#include "filters/cache/freshness.h"

#include <gtest/gtest.h>

#include "headers.h"

namespace ringway::filters::cache {
namespace {

using testing::headers;

constexpr int64_t kT = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
const HeuristicPolicy kHeuristic{86400, 10};

ResponseFacts facts(const http::HeaderList& h) { return read_response_facts(h, kT); }

TEST(Freshness, SharedMaxAgeWinsOverMaxAgeWinsOverExpires) {
  auto h = headers({{"Cache-Control", "max-age=60, s-maxage=120"},
                    {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"},
                    {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 120);
  h = headers({{"Cache-Control", "max-age=60"},
               {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"},
               {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 60);
}

TEST(Freshness, ExpiresMinusDate) {
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 3600);
  // Expires before Date: already stale.
  h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", "Sun, 06 Nov 1994 07:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 0);
}

TEST(Freshness, ExpiresWithoutDateUsesResponseTime) {
  auto h = headers({{"Expires", "Sun, 06 Nov 1994 08:50:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 60);
}

TEST(Freshness, InvalidExpiresIsAlreadyExpired) {
  // RFC 9111 5.3: "0" and other invalid dates are in the past.
  for (std::string_view v : {"0", "-1", "never", ""}) {
    auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", v},
                      {"Last-Modified", "Sun, 06 Nov 1994 00:00:00 GMT"}});
    ResponseFacts f = facts(h);
    EXPECT_TRUE(has_explicit_freshness(f)) << v;
    // An Expires present but invalid also rules out heuristics.
    EXPECT_EQ(freshness_lifetime(f, 200, kT, kHeuristic), 0) << v;
  }
}

TEST(Freshness, InvalidMaxAgeIsStaleEvenWithExpires) {
  auto h = headers({{"Cache-Control", "max-age=soon"}, {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 0);
}

TEST(Freshness, HeuristicIsTenPercentOfAgeSinceModified) {
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 720);  // 10% of 2 h
  EXPECT_EQ(freshness_lifetime(facts(h), 404, kT, kHeuristic), 720);
}

TEST(Freshness, HeuristicIsCapped) {
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 86400);
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, HeuristicPolicy{300, 10}), 300);
}

TEST(Freshness, HeuristicNeedsLastModifiedAndACacheableStatus) {
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 0);
  h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 302, kT, kHeuristic), 0);
  EXPECT_EQ(freshness_lifetime(facts(h), 500, kT, kHeuristic), 0);
  // "public" makes any status heuristically cacheable (RFC 9111 4.2.2).
  h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"},
               {"Cache-Control", "public"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 302, kT, kHeuristic), 720);
}

TEST(Freshness, HeuristicDisabled) {
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, HeuristicPolicy{0, 10}), 0);
}

TEST(Freshness, HeuristicIgnoredWhenExplicit) {
  auto h = headers({{"Cache-Control", "max-age=5"}, {"Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT"}});
  EXPECT_EQ(freshness_lifetime(facts(h), 200, kT, kHeuristic), 5);
}

TEST(Age, FirstOccurrenceAndInvalidValues) {
  EXPECT_EQ(facts(headers({{"Age", "30"}})).age, 30);
  EXPECT_EQ(facts(headers({{"Age", "30"}, {"Age", "40"}})).age, 30);
  EXPECT_EQ(facts(headers({{"Age", "-5"}})).age, 0);
  EXPECT_EQ(facts(headers({{"Age", "x"}})).age, 0);
}

TEST(Age, CorrectedInitialAgeOfRfc9111) {
  // apparent_age = max(0, response_time - date_value) = 10
  // corrected_age_value = age_value + response_delay = 3 + 2 = 5
  // corrected_initial_age = max(10, 5) = 10
  auto h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Age", "3"}});
  EXPECT_EQ(corrected_initial_age(facts(h), kT + 8, kT + 10), 10);
  // A large Age dominates: 100 + 2.
  h = headers({{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Age", "100"}});
  EXPECT_EQ(corrected_initial_age(facts(h), kT + 8, kT + 10), 102);
  // A Date in the future (clock skew) gives no negative apparent age.
  h = headers({{"Date", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(corrected_initial_age(facts(h), kT, kT), 0);
}

TEST(Age, CurrentAgeAddsResidentTime) {
  EXPECT_EQ(current_age(10, kT, kT + 50), 60);
  EXPECT_EQ(current_age(10, kT, kT - 5), 10);  // a clock going backwards adds nothing
}

TEST(Freshness, HeuristicallyCacheableStatuses) {
  for (int s : {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
    EXPECT_TRUE(heuristically_cacheable_status(s)) << s;
  for (int s : {201, 302, 303, 307, 400, 403, 500, 502, 503})
    EXPECT_FALSE(heuristically_cacheable_status(s)) << s;
}

}  // namespace
}  // namespace ringway::filters::cache
