#include "engine/upstream/health.h"

#include <gtest/gtest.h>

namespace ringway::upstream {
namespace {

TEST(EndpointHealth, OneFailureTakesAnEndpointOutForFailTimeout) {
  EndpointHealth h(2, 1, 10'000);
  EXPECT_TRUE(h.up(0, 0));
  EXPECT_TRUE(h.failed(0, 1'000));
  EXPECT_FALSE(h.up(0, 1'000));
  EXPECT_FALSE(h.failed(0, 2'000));  // a probe while down: no new mark, the period starts again
  EXPECT_FALSE(h.up(0, 11'999));
  EXPECT_TRUE(h.up(0, 12'000));
  EXPECT_TRUE(h.up(1, 1'000));  // the others are untouched
}

TEST(EndpointHealth, CountsFailuresWithinFailTimeout) {
  EndpointHealth h(1, 3, 10'000);
  EXPECT_FALSE(h.failed(0, 0));
  EXPECT_FALSE(h.failed(0, 5'000));
  EXPECT_TRUE(h.up(0, 5'000));
  EXPECT_TRUE(h.failed(0, 9'999));
  EXPECT_FALSE(h.up(0, 9'999));
  EXPECT_TRUE(h.up(0, 19'999));
}

TEST(EndpointHealth, AStaleCountStartsAgain) {
  EndpointHealth h(1, 2, 10'000);
  EXPECT_FALSE(h.failed(0, 0));
  EXPECT_FALSE(h.failed(0, 10'000));  // the first is fail_timeout old: counts 1 again
  EXPECT_TRUE(h.up(0, 10'000));
  EXPECT_TRUE(h.failed(0, 12'000));
  EXPECT_FALSE(h.up(0, 12'000));
}

TEST(EndpointHealth, OneMoreFailureAfterComingBackTakesItOutAgain) {
  EndpointHealth h(1, 3, 1'000);
  h.failed(0, 0);
  h.failed(0, 1);
  EXPECT_TRUE(h.failed(0, 2));
  EXPECT_TRUE(h.up(0, 5'000));
  EXPECT_TRUE(h.failed(0, 5'000));
  EXPECT_FALSE(h.up(0, 5'000));
}

TEST(EndpointHealth, SuccessClearsTheCount) {
  EndpointHealth h(1, 2, 10'000);
  EXPECT_FALSE(h.failed(0, 0));
  h.succeeded(0);
  EXPECT_FALSE(h.failed(0, 1));
  EXPECT_TRUE(h.up(0, 1));
  EXPECT_TRUE(h.failed(0, 2));
  h.succeeded(0);  // a connect that was under way when it was marked
  EXPECT_TRUE(h.up(0, 3));
}

TEST(EndpointHealth, MaxFailsZeroNeverMarksDown) {
  EndpointHealth h(1, 0, 10'000);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(h.failed(0, i));
  EXPECT_TRUE(h.up(0, 100));
}

}  // namespace
}  // namespace ringway::upstream
