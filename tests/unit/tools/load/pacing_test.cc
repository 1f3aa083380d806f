#include "tools/load/pacing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace ringway::load {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;

TEST(load_pacing, IntendedTimesEvenlySpaced) {
  Schedule s(1000, 10);  // 100 per connection: every 10 ms, staggered by 1 ms
  for (int conn = 0; conn < 10; ++conn) {
    EXPECT_EQ(s.offset_of(conn, 0), conn * kMs);
    for (uint64_t k = 1; k < 500; ++k) {
      EXPECT_EQ(s.offset_of(conn, k) - s.offset_of(conn, k - 1), 10 * kMs);
    }
  }
}

TEST(load_pacing, ConnectionsInterleaveIntoOneEvenStream) {
  Schedule s(1000, 4);
  std::vector<int64_t> all;
  for (int conn = 0; conn < 4; ++conn) {
    for (uint64_t k = 0; k < 250; ++k) all.push_back(s.offset_of(conn, k));
  }
  std::sort(all.begin(), all.end());
  for (size_t j = 0; j < all.size(); ++j) EXPECT_EQ(all[j], static_cast<int64_t>(j) * kMs);
}

TEST(load_pacing, FractionalIntervalsDoNotDrift) {
  Schedule s(3, 1);  // 333.33 ms apart
  EXPECT_EQ(s.offset_of(0, 3), kSecond);
  EXPECT_EQ(s.offset_of(0, 3000), 1000 * kSecond);
  for (uint64_t k = 1; k < 100; ++k) {
    const int64_t gap = s.offset_of(0, k) - s.offset_of(0, k - 1);
    EXPECT_TRUE(gap == 333333333 || gap == 333333334) << gap;
  }
}

TEST(load_pacing, RateSplitAcrossConnectionsAndThreadsIsExact) {
  struct Case {
    double rate;
    int connections;
    int threads;
  };
  for (const Case& c : {Case{1000, 10, 1}, Case{1000, 7, 3}, Case{200, 1, 1}, Case{20000, 50, 2},
                        Case{7, 3, 2}, Case{999, 16, 5}, Case{1, 4, 4}}) {
    Schedule s(c.rate, c.connections);
    EXPECT_EQ(s.scheduled_before(kSecond), static_cast<uint64_t>(c.rate));
    std::set<int> seen;
    uint64_t total = 0;
    for (int t = 0; t < c.threads; ++t) {
      uint64_t thread_share = 0;
      const int owned = connections_of_thread(t, c.threads, c.connections);
      for (int local = 0; local < owned; ++local) {
        const int conn = global_connection(t, c.threads, local);
        EXPECT_TRUE(seen.insert(conn).second);
        thread_share += s.scheduled_before(conn, kSecond);
      }
      // A thread's share is its fraction of the connections, to one request.
      const double expected = c.rate * owned / c.connections;
      EXPECT_LE(thread_share, static_cast<uint64_t>(expected) + 1);
      EXPECT_GE(thread_share + 1, static_cast<uint64_t>(expected));
      total += thread_share;
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(c.connections));
    EXPECT_EQ(total, static_cast<uint64_t>(c.rate)) << c.rate << " " << c.connections;
  }
}

TEST(load_pacing, ScheduledBeforeAgreesWithOffsets) {
  Schedule s(7, 3);
  for (int64_t end : {int64_t{0}, int64_t{1}, int64_t{142857142}, int64_t{142857143}, kSecond,
                      10 * kSecond + 5}) {
    uint64_t brute = 0;
    while (s.offset_of(brute) < end) ++brute;
    EXPECT_EQ(s.scheduled_before(end), brute) << end;
    uint64_t per_conn = 0;
    for (int conn = 0; conn < 3; ++conn) per_conn += s.scheduled_before(conn, end);
    EXPECT_EQ(per_conn, brute) << end;
  }
}

TEST(load_pacing, ThreadsOwnEveryConnectionOnce) {
  EXPECT_EQ(connections_of_thread(0, 3, 10), 4);
  EXPECT_EQ(connections_of_thread(1, 3, 10), 3);
  EXPECT_EQ(connections_of_thread(2, 3, 10), 3);
  EXPECT_EQ(connections_of_thread(3, 4, 3), 0);
  EXPECT_EQ(global_connection(1, 3, 2), 7);
}

TEST(load_pacing, PacerTakesTimesInOrder) {
  Schedule s(100, 2);  // each connection every 20 ms
  const int64_t start = 5 * kSecond;
  Pacer p(&s, 1, start);
  EXPECT_EQ(p.next_intended(), start + 10 * kMs);
  EXPECT_EQ(p.take(), start + 10 * kMs);
  EXPECT_EQ(p.take(), start + 30 * kMs);
  EXPECT_EQ(p.taken(), 2u);
  EXPECT_EQ(p.next_intended(), start + 50 * kMs);
}

// The coordinated-omission correction: a connection held up by a slow server
// keeps the intended times of its backlog, so each waiting request's latency
// includes its time in the queue.
TEST(load_pacing, LateConnectionKeepsIntendedTimes) {
  Schedule s(100, 1);  // one request every 10 ms
  const int64_t start = kSecond;
  Pacer p(&s, 0, start);
  // Simulated clock: the server needs 25 ms per request, one at a time.
  const int64_t service = 25 * kMs;
  int64_t clock = start;
  std::vector<int64_t> latencies;
  for (int k = 0; k < 20; ++k) {
    const int64_t intended = p.take();
    EXPECT_EQ(intended, start + k * 10 * kMs);  // never moved by the delay
    clock = std::max(clock, intended);          // wait for its time, or send late
    clock += service;                           // response's last byte
    latencies.push_back(clock - intended);
  }
  // Queueing grows by 15 ms per request; an uncorrected tool would say 25 ms.
  for (int k = 0; k < 20; ++k) EXPECT_EQ(latencies[k], service + k * 15 * kMs);
  // At the end the backlog is what the schedule wanted minus what was taken.
  EXPECT_EQ(p.backlog(clock), s.scheduled_before(0, clock - start + 1) - 20);
  EXPECT_GT(p.backlog(clock), 0u);
}

TEST(load_pacing, BacklogCountsDueRequests) {
  Schedule s(100, 1);
  const int64_t start = kSecond;
  Pacer p(&s, 0, start);
  EXPECT_EQ(p.backlog(start - 1), 0u);
  EXPECT_EQ(p.backlog(start), 1u);             // the first is due at the start
  EXPECT_EQ(p.backlog(start + 55 * kMs), 6u);  // 0, 10, ..., 50 ms
  p.take();
  p.take();
  EXPECT_EQ(p.backlog(start + 55 * kMs), 4u);
}

}  // namespace
}  // namespace ringway::load
