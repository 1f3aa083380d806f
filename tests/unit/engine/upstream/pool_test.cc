#include "engine/upstream/pool.h"

#include <gtest/gtest.h>

namespace ringway::upstream {
namespace {

struct Conn {
  int id;
};
struct Request {
  int id;
};
using TestPool = Pool<Conn, Request>;

TEST(Pool, ReusesTheMostRecentlyParkedConnectionOfTheEndpoint) {
  TestPool pool(2, 10, 10);
  Conn a{1}, b{2}, c{3};
  for (int i = 0; i < 3; ++i) pool.opened();
  EXPECT_TRUE(pool.park(&a, 0));
  EXPECT_TRUE(pool.park(&b, 0));
  EXPECT_TRUE(pool.park(&c, 1));
  EXPECT_EQ(pool.idle(), 3U);
  EXPECT_EQ(pool.take_idle(0), &b);  // last parked, still warm
  EXPECT_EQ(pool.take_idle(0), &a);
  EXPECT_EQ(pool.take_idle(0), nullptr);  // endpoint 1's connection is not for 0
  EXPECT_EQ(pool.take_idle(1), &c);
  EXPECT_EQ(pool.idle(), 0U);
  EXPECT_EQ(pool.open(), 3U);  // taken is still open
}

TEST(Pool, ParksAtMostMaxIdle) {
  TestPool pool(1, 10, 2);
  Conn a{1}, b{2}, c{3};
  EXPECT_TRUE(pool.park(&a, 0));
  EXPECT_TRUE(pool.park(&b, 0));
  EXPECT_FALSE(pool.park(&c, 0));  // the caller closes it
  EXPECT_EQ(pool.idle(), 2U);
  pool.take_idle(0);
  EXPECT_TRUE(pool.park(&c, 0));
}

TEST(Pool, NoIdleKeptWithMaxIdleZero) {
  TestPool pool(1, 10, 0);
  Conn a{1};
  EXPECT_FALSE(pool.park(&a, 0));
  EXPECT_EQ(pool.take_any_idle(), nullptr);
}

TEST(Pool, ClosingAnIdleConnectionTakesItOutOfThePool) {
  TestPool pool(2, 10, 10);
  Conn a{1}, b{2};
  pool.opened();
  pool.opened();
  pool.park(&a, 1);
  pool.park(&b, 1);
  pool.closed(&a, 1, true);  // the upstream closed it while it was idle
  EXPECT_EQ(pool.open(), 1U);
  EXPECT_EQ(pool.idle(), 1U);
  EXPECT_EQ(pool.take_idle(1), &b);
  EXPECT_EQ(pool.take_idle(1), nullptr);
  pool.closed(&b, 1, false);  // closed while busy: only the count moves
  EXPECT_EQ(pool.open(), 0U);
  EXPECT_EQ(pool.idle(), 0U);
}

TEST(Pool, AtTheLimitAnyEndpointsIdleConnectionServes) {
  TestPool pool(3, 2, 10);
  Conn a{1}, b{2};
  pool.opened();
  EXPECT_FALSE(pool.at_limit());
  pool.opened();
  EXPECT_TRUE(pool.at_limit());
  EXPECT_EQ(pool.take_any_idle(), nullptr);
  pool.park(&a, 2);
  pool.park(&b, 1);
  EXPECT_EQ(pool.take_any_idle(), &b);  // first endpoint that has one
  EXPECT_EQ(pool.take_any_idle(), &a);
  EXPECT_EQ(pool.take_any_idle(), nullptr);
}

TEST(Pool, QueuedRequestsAreServedInArrivalOrderWhenThereIsRoom) {
  TestPool pool(1, 1, 10);
  Conn a{1};
  Request r1{1}, r2{2}, r3{3};
  pool.opened();
  pool.wait(&r1);
  pool.wait(&r2);
  pool.wait(&r3);
  EXPECT_EQ(pool.waiting(), 3U);
  EXPECT_EQ(pool.next_servable(), nullptr);  // at the limit, nothing idle
  pool.park(&a, 0);  // the one connection comes back
  EXPECT_EQ(pool.next_servable(), &r1);
  // The caller gives r1 the idle connection; the others keep waiting.
  EXPECT_EQ(pool.take_any_idle(), &a);
  EXPECT_EQ(pool.next_servable(), nullptr);
  pool.closed(&a, 0, false);  // it closes instead of coming back: room to open one
  EXPECT_EQ(pool.next_servable(), &r2);
  pool.opened();
  EXPECT_EQ(pool.next_servable(), nullptr);
  EXPECT_EQ(pool.waiting(), 1U);
}

TEST(Pool, ARequestThatGivesUpLeavesTheQueue) {
  TestPool pool(1, 1, 10);
  Request r1{1}, r2{2};
  pool.opened();
  pool.wait(&r1);
  pool.wait(&r2);
  pool.cancel_wait(&r1);  // timed out in the queue, or its client went away
  pool.closed(nullptr, 0, false);
  EXPECT_EQ(pool.next_servable(), &r2);
  EXPECT_EQ(pool.next_servable(), nullptr);
}

TEST(Pool, IdleConnectionsListsEveryEndpoint) {
  TestPool pool(3, 10, 10);
  Conn a{1}, b{2}, c{3};
  pool.park(&a, 0);
  pool.park(&b, 2);
  pool.park(&c, 2);
  EXPECT_EQ(pool.idle_connections(), (std::vector<Conn*>{&a, &b, &c}));
  for (Conn* x : pool.idle_connections()) pool.closed(x, x == &a ? 0 : 2, true);
  EXPECT_EQ(pool.idle(), 0U);
  EXPECT_TRUE(pool.idle_connections().empty());
}

}  // namespace
}  // namespace ringway::upstream
