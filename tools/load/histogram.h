#pragma once
// Latency histogram in the style of HdrHistogram: log-linear buckets with two
// significant decimal digits (128 sub-buckets per power of two, values below
// 256 exact, so every recorded value is off by less than 1/128 of itself), microseconds from 1 us
// to 1 hour. The counts array is allocated once in the constructor; record()
// is a few shifts and an increment, so it is safe on the hot path.
// Not thread-safe: each client thread owns one and they are merged at the end.

#include <cstdint>
#include <memory>

namespace ringway::load {

class Histogram {
 public:
  static constexpr int64_t kLowest = 1;                      // 1 us
  static constexpr int64_t kHighest = 3600LL * 1000 * 1000;  // 1 hour in us

  Histogram();
  Histogram(const Histogram& other);
  Histogram& operator=(const Histogram& other);

  // Records one value in microseconds. Values outside [kLowest, kHighest] are
  // clamped to the nearest bound and counted in out_of_range().
  void record(int64_t value_us) {
    if (value_us < kLowest || value_us > kHighest) {
      value_us = value_us < kLowest ? kLowest : kHighest;
      ++out_of_range_;
    }
    ++counts_[index_of(value_us)];
    ++total_;
    sum_ += static_cast<uint64_t>(value_us);
    if (value_us > max_) max_ = value_us;
    if (value_us < min_) min_ = value_us;
  }

  // Adds every value recorded in `other`.
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t out_of_range() const { return out_of_range_; }
  // Exact, not bucketed. 0 when empty.
  int64_t max() const { return total_ ? max_ : 0; }
  int64_t min() const { return total_ ? min_ : 0; }
  double mean() const { return total_ ? static_cast<double>(sum_) / total_ : 0.0; }

  // The smallest bucketed value v such that at least `percentile` percent of
  // the recorded values are <= v (HdrHistogram's definition: the top of the
  // bucket holding that rank, capped at the exact max). 0 when empty.
  int64_t value_at_percentile(double percentile) const;

  // Bucket geometry, public for tests: values that share a slot are reported
  // as the slot's highest value.
  // Bucket b >= 1 covers [128 << b, 256 << b) in 128 slots of width 2^b;
  // bucket 0 covers [0, 256) exactly.
  static int index_of(int64_t value) {
    const uint64_t v = static_cast<uint64_t>(value);
    const int bucket = (64 - __builtin_clzll(v | 255)) - 8;
    return ((bucket + 1) << 7) + static_cast<int>(v >> bucket) - 128;
  }
  static int64_t highest_equivalent(int index);
  static int bucket_slots() { return index_of(kHighest) + 1; }

 private:
  std::unique_ptr<uint64_t[]> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t out_of_range_ = 0;
  int64_t max_ = 0;
  int64_t min_ = kHighest;
};

}  // namespace ringway::load
