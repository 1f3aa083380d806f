#include "tools/load/histogram.h"

#include <algorithm>
#include <cmath>

namespace ringway::load {

Histogram::Histogram() : counts_(new uint64_t[bucket_slots()]()) {}

Histogram::Histogram(const Histogram& other) : counts_(new uint64_t[bucket_slots()]) {
  *this = other;
}

Histogram& Histogram::operator=(const Histogram& other) {
  if (this == &other) return *this;
  std::copy(other.counts_.get(), other.counts_.get() + bucket_slots(), counts_.get());
  total_ = other.total_;
  sum_ = other.sum_;
  out_of_range_ = other.out_of_range_;
  max_ = other.max_;
  min_ = other.min_;
  return *this;
}

void Histogram::merge(const Histogram& other) {
  const int slots = bucket_slots();
  for (int i = 0; i < slots; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ += other.sum_;
  out_of_range_ += other.out_of_range_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void Histogram::reset() {
  std::fill(counts_.get(), counts_.get() + bucket_slots(), 0);
  total_ = sum_ = out_of_range_ = 0;
  max_ = 0;
  min_ = kHighest;
}

int64_t Histogram::highest_equivalent(int index) {
  if (index < 256) return index;
  const int bucket = (index >> 7) - 1;
  const int64_t sub = (index & 127) + 128;
  return ((sub + 1) << bucket) - 1;
}

int64_t Histogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // Rank of the value asked for, 1-based; at least the first value. The small
  // slack keeps 99.9% of 1000 at rank 999 despite binary rounding.
  const double exact = percentile / 100.0 * static_cast<double>(total_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact - 1e-9 * exact));
  rank = std::clamp<uint64_t>(rank, 1, total_);
  uint64_t seen = 0;
  const int slots = bucket_slots();
  for (int i = 0; i < slots; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

}  // namespace ringway::load
