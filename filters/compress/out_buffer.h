#pragma once
// A growable byte buffer that keeps its memory between uses, so a stream of
// pieces compresses into the same allocation. Unlike std::string it does not
// zero what it grows into: the compressor overwrites it anyway.

#include <cstddef>
#include <cstring>
#include <memory>

namespace ringway::filters::compress {

class OutBuffer {
 public:
  char* data() { return data_.get(); }
  size_t capacity() const { return capacity_; }

  // At least `n` bytes of room, keeping the first `keep` bytes.
  void reserve(size_t n, size_t keep = 0) {
    if (n <= capacity_) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    if (keep > 0) std::memcpy(bigger.get(), data_.get(), keep);
    data_ = std::move(bigger);
    capacity_ = n;
  }

  void release() {
    data_.reset();
    capacity_ = 0;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

}  // namespace ringway::filters::compress
