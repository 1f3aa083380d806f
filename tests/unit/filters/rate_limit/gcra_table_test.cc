// The shared GCRA table on its own: exact counts, probing, eviction of idle
// keys, the full window, and many threads on the same cells.

#include "filters/rate_limit/gcra_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

namespace ringway::filters::rate_limit {
namespace {

using Verdict = GcraTable::Verdict;

Gcra gcra(const char* rate, int64_t burst) { return Gcra::make(*parse_rate(rate), burst); }

constexpr int64_t ms(int64_t n) { return n * kNsPerMs; }

// Requests of `key` at every ms from `from` to `to` (inclusive); returns how many passed.
int64_t flood(const GcraTable& t, uint64_t key, const Gcra& g, int64_t from, int64_t to) {
  int64_t passed = 0;
  for (int64_t at = from; at <= to; ++at)
    while (t.acquire(key, ms(at), g).verdict == Verdict::kAllowed) ++passed;
  return passed;
}

TEST(GcraTable, SizeIsAPowerOfTwoAtLeastTheWindow) {
  EXPECT_EQ(GcraTable(1).size(), GcraTable::kWindow);
  EXPECT_EQ(GcraTable(100).size(), 128u);
  EXPECT_EQ(GcraTable(65536).size(), 65536u);
}

TEST(GcraTable, BurstThenExactlyTheRate) {
  GcraTable t(1024);
  Gcra g = gcra("10/s", 5);
  // 10 s of a client that never stops asking: burst + rate * time, exactly.
  EXPECT_EQ(flood(t, 42, g, 1000, 11'000), 5 + 100);
}

TEST(GcraTable, ExactForIntervalsThatAreNotWholeMs) {
  GcraTable t(1024);
  Gcra g = gcra("3/s", 2);
  EXPECT_EQ(flood(t, 42, g, 0, 9000), 2 + 27);
  GcraTable u(1024);
  Gcra h = gcra("7/m", 2);  // T = 8571.43 ms
  EXPECT_EQ(flood(u, 42, h, 0, 600'000), 2 + 70);
}

TEST(GcraTable, RefusedRequestsCostNothing) {
  GcraTable t(64);
  Gcra g = gcra("1/s", 1);
  EXPECT_EQ(t.acquire(1, ms(0), g).verdict, Verdict::kAllowed);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(t.acquire(1, ms(999), g).verdict, Verdict::kLimited);
  EXPECT_EQ(t.acquire(1, ms(1000), g).verdict, Verdict::kAllowed);
}

TEST(GcraTable, PeekChangesNothing) {
  GcraTable t(64);
  Gcra g = gcra("1/s", 1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.peek(7, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.live(0), 0u);
  EXPECT_EQ(t.acquire(7, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.peek(7, 0, g).verdict, Verdict::kLimited);
  EXPECT_EQ(t.acquire(7, 0, g).verdict, Verdict::kLimited);
}

TEST(GcraTable, KeysAreIndependent) {
  GcraTable t(64);
  Gcra g = gcra("1/m", 1);
  EXPECT_EQ(t.acquire(1, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(2, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(1, 0, g).verdict, Verdict::kLimited);
  EXPECT_EQ(t.acquire(2, 0, g).verdict, Verdict::kLimited);
  // Hash 0 marks never-used cells, so it counts as hash 1 (a 2^-64 collision).
  EXPECT_EQ(t.acquire(3, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(0, 0, g).verdict, Verdict::kLimited);
}

// Keys with the same home cell: `size` apart in their low bits.
std::vector<uint64_t> colliding(const GcraTable& t, size_t n) {
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(5 + i * t.size());
  for (uint64_t k : keys) EXPECT_EQ(t.home(k), t.home(keys[0]));
  return keys;
}

TEST(GcraTable, FullWhenTheWholeWindowIsLive) {
  GcraTable t(64);
  Gcra g = gcra("1/m", 1);
  auto keys = colliding(t, GcraTable::kWindow + 1);
  for (size_t i = 0; i < GcraTable::kWindow; ++i)
    EXPECT_EQ(t.acquire(keys[i], 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(keys.back(), ms(1000), g).verdict, Verdict::kFull);
  EXPECT_EQ(t.peek(keys.back(), ms(1000), g).verdict, Verdict::kFull);
  // Keys already in keep working.
  EXPECT_EQ(t.acquire(keys[3], ms(1000), g).verdict, Verdict::kLimited);
  EXPECT_EQ(t.live(ms(1000)), GcraTable::kWindow);
}

TEST(GcraTable, IdleKeysAreEvictedOnceTheirBucketIsFull) {
  GcraTable t(64);
  Gcra g = gcra("1/m", 1);
  auto keys = colliding(t, GcraTable::kWindow + 1);
  for (size_t i = 0; i < GcraTable::kWindow; ++i) t.acquire(keys[i], ms(i * 1000), g);
  // keys[0]'s TAT is 60 s: at 59.999 s the window is still full, at 60 s its
  // cell is free (bucket full again) and the new key takes it.
  EXPECT_EQ(t.acquire(keys.back(), ms(59'999), g).verdict, Verdict::kFull);
  EXPECT_EQ(t.acquire(keys.back(), ms(60'000), g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(keys.back(), ms(60'000), g).verdict, Verdict::kLimited);  // it has a cell now
  // The evicted key comes back with a full bucket, which is what it had; it
  // takes keys[1]'s cell, free since 61 s.
  EXPECT_EQ(t.acquire(keys[0], ms(61'000), g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.acquire(keys[0], ms(61'000), g).verdict, Verdict::kLimited);
  EXPECT_EQ(t.live(ms(61'000)), GcraTable::kWindow);
}

TEST(GcraTable, ProbingWrapsAroundTheEnd) {
  GcraTable t(8);  // one window is the whole table
  Gcra g = gcra("1/m", 1);
  for (uint64_t k = 1; k <= 8; ++k)
    EXPECT_EQ(t.acquire(k * 8 + 7, 0, g).verdict, Verdict::kAllowed);
  EXPECT_EQ(t.live(0), 8u);
  EXPECT_EQ(t.acquire(1000 * 8 + 7, 0, g).verdict, Verdict::kFull);
}

// Four threads on one key, in lock-step rounds of a simulated clock: within a
// round all threads race for the same cell; the total is exact whatever the
// interleaving.
TEST(GcraTable, ExactUnderContention) {
  GcraTable t(1024);
  Gcra g = gcra("2500/s", 50);  // T = 0.4 ms: 2 or 3 new tokens per 1 ms round
  constexpr int kThreads = 4;
  constexpr int64_t kRounds = 2000;
  std::atomic<int64_t> clock{0};
  std::atomic<int64_t> passed{0};
  std::barrier sync(kThreads, [&]() noexcept { clock.fetch_add(1); });
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      for (int64_t round = 0; round < kRounds; ++round) {
        int64_t now = ms(clock.load());
        int64_t mine = 0;
        for (int k = 0; k < 20; ++k) mine += t.acquire(99, now, g).verdict == Verdict::kAllowed;
        passed += mine;
        sync.arrive_and_wait();
      }
    });
  for (auto& th : threads) th.join();
  // Rounds at 0 .. 1999 ms: 50 + floor(1999 / 0.4).
  EXPECT_EQ(passed.load(), 50 + 4997);
}

// Many new keys inserted by several threads at once: each key still gets
// exactly its burst (no key ends up with two cells).
TEST(GcraTable, ConcurrentInsertsOfTheSameKeys) {
  GcraTable t(4096);
  Gcra g = gcra("1/m", 3);
  constexpr int kThreads = 4;
  constexpr uint64_t kKeys = 1000;
  std::vector<std::atomic<int>> passed(kKeys);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      for (uint64_t n = 0; n < kKeys; ++n) {
        uint64_t k = (n * 0x9E3779B97F4A7C15ull) | 1;
        for (int r = 0; r < 2; ++r)
          if (t.acquire(k, 0, g).verdict == Verdict::kAllowed) ++passed[n];
      }
    });
  for (auto& th : threads) th.join();
  for (uint64_t n = 0; n < kKeys; ++n) EXPECT_EQ(passed[n].load(), 3) << n;
}

}  // namespace
}  // namespace ringway::filters::rate_limit
