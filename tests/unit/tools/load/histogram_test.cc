#include "tools/load/histogram.h"

#include <gtest/gtest.h>

#include <cstdint>

// Suites are named load_* so that `ctest -R load` selects them along with the
// integration test (ctest matches test names case-sensitively).

namespace ringway::load {
namespace {

// Bucketed values are within 1/128 of the exact one (two significant digits).
void expect_close(int64_t got, int64_t want) {
  EXPECT_LE(got, want + want / 128 + 1) << "want ~" << want;
  EXPECT_GE(got, want - want / 128 - 1) << "want ~" << want;
}

TEST(load_histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(load_histogram, UniformDistribution) {
  Histogram h;
  for (int64_t v = 1; v <= 10000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10000u);
  expect_close(h.value_at_percentile(50), 5000);
  expect_close(h.value_at_percentile(90), 9000);
  expect_close(h.value_at_percentile(99), 9900);
  expect_close(h.value_at_percentile(99.9), 9990);
  expect_close(h.value_at_percentile(99.99), 9999);
  EXPECT_EQ(h.value_at_percentile(100), 10000);
  EXPECT_EQ(h.max(), 10000);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 5000.5);
  EXPECT_EQ(h.out_of_range(), 0u);
}

TEST(load_histogram, ConstantIsExact) {
  Histogram h;
  for (int i = 0; i < 1000; ++i) h.record(1234);
  for (double p : {0.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    EXPECT_EQ(h.value_at_percentile(p), 1234) << p;
  }
  EXPECT_EQ(h.max(), 1234);
  EXPECT_DOUBLE_EQ(h.mean(), 1234.0);
}

TEST(load_histogram, Bimodal) {
  Histogram h;
  for (int i = 0; i < 900; ++i) h.record(100);
  for (int i = 0; i < 100; ++i) h.record(50000);
  EXPECT_EQ(h.value_at_percentile(50), 100);
  EXPECT_EQ(h.value_at_percentile(90), 100);  // rank 900 is the last fast one
  expect_close(h.value_at_percentile(90.1), 50000);
  expect_close(h.value_at_percentile(99), 50000);
  EXPECT_EQ(h.max(), 50000);
  EXPECT_DOUBLE_EQ(h.mean(), (900.0 * 100 + 100.0 * 50000) / 1000);
}

TEST(load_histogram, MergeEqualsRecordingEverything) {
  Histogram low, high, all;
  for (int64_t v = 1; v <= 5000; ++v) {
    low.record(v);
    all.record(v);
  }
  for (int64_t v = 5001; v <= 10000; ++v) {
    high.record(v);
    all.record(v);
  }
  low.merge(high);
  EXPECT_EQ(low.count(), all.count());
  EXPECT_EQ(low.max(), 10000);
  EXPECT_EQ(low.min(), 1);
  EXPECT_DOUBLE_EQ(low.mean(), all.mean());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    EXPECT_EQ(low.value_at_percentile(p), all.value_at_percentile(p)) << p;
  }
}

TEST(load_histogram, MergeIntoEmptyKeepsMinAndMax) {
  Histogram a, b;
  b.record(700);
  b.record(9);
  a.merge(b);
  EXPECT_EQ(a.min(), 9);
  EXPECT_EQ(a.max(), 700);
}

TEST(load_histogram, MaxIsExactNotBucketed) {
  Histogram h;
  h.record(10);
  h.record(123457);  // its bucket is 1024 wide
  EXPECT_EQ(h.max(), 123457);
  EXPECT_EQ(h.value_at_percentile(100), 123457);
  EXPECT_GT(Histogram::highest_equivalent(Histogram::index_of(123457)), 123457);
}

TEST(load_histogram, OutOfRangeIsClampedAndCounted) {
  Histogram h;
  h.record(0);
  h.record(-5);
  h.record(Histogram::kHighest + 1);
  h.record(Histogram::kHighest * 10);
  h.record(500);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.out_of_range(), 4u);
  EXPECT_EQ(h.min(), Histogram::kLowest);
  EXPECT_EQ(h.max(), Histogram::kHighest);
  EXPECT_EQ(h.value_at_percentile(100), Histogram::kHighest);
  EXPECT_EQ(h.value_at_percentile(20), 1);
}

TEST(load_histogram, BucketGeometry) {
  // Small values are exact, the rest within 1/128, and slots are ordered.
  for (int64_t v = 0; v < 256; ++v)
    EXPECT_EQ(Histogram::highest_equivalent(Histogram::index_of(v)), v);
  int last = -1;
  for (int64_t v = 1; v <= Histogram::kHighest; v += v / 7 + 1) {
    const int i = Histogram::index_of(v);
    ASSERT_GE(i, last);
    ASSERT_LT(i, Histogram::bucket_slots());
    const int64_t top = Histogram::highest_equivalent(i);
    ASSERT_GE(top, v);
    ASSERT_LE(top - v, v / 128) << v;
    last = i;
  }
  EXPECT_EQ(Histogram::index_of(Histogram::kHighest), Histogram::bucket_slots() - 1);
}

TEST(load_histogram, CopyAndReset) {
  Histogram h;
  h.record(42);
  Histogram copy(h);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(copy.count(), 1u);
  EXPECT_EQ(copy.max(), 42);
}

}  // namespace
}  // namespace ringway::load
