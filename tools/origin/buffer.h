#pragma once
// Growable byte queue for a connection's pending output. Bytes are appended at
// the back and consumed from the front; storage is kept between requests so a
// reused connection does not allocate on the request path.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace ringway::origin {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t capacity = 16 * 1024)
      : data_(new char[capacity]), capacity_(capacity) {}

  const char* data() const { return data_.get() + start_; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }
  size_t capacity() const { return capacity_; }

  void consume(size_t n) {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;  // cheap reset keeps appends at the front
  }
  void clear() { start_ = end_ = 0; }

  // Makes room for at least n more bytes; the returned pointer is valid until
  // the next call that may grow the buffer.
  char* prepare(size_t n) {
    reserve(n);
    return data_.get() + end_;
  }
  void commit(size_t n) { end_ += n; }

  void append(std::string_view s) {
    if (s.empty()) return;  // data() may be null, which memcpy must not see
    reserve(s.size());
    std::memcpy(data_.get() + end_, s.data(), s.size());
    end_ += s.size();
  }
  void append(char c) {
    reserve(1);
    data_[end_++] = c;
  }
  void append_decimal(uint64_t v) {
    char tmp[24];
    char* p = tmp + sizeof(tmp);
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    append(std::string_view(p, static_cast<size_t>(tmp + sizeof(tmp) - p)));
  }
  void append_hex(uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    char tmp[20];
    char* p = tmp + sizeof(tmp);
    do {
      *--p = kDigits[v & 15];
      v >>= 4;
    } while (v != 0);
    append(std::string_view(p, static_cast<size_t>(tmp + sizeof(tmp) - p)));
  }

  // Returns memory to the allocator after a connection used an unusually large
  // buffer (echo of a big upload), so idle pooled connections stay small.
  void shrink(size_t capacity) {
    if (capacity_ <= capacity || size() > capacity) return;
    std::unique_ptr<char[]> fresh(new char[capacity]);
    std::memcpy(fresh.get(), data(), size());
    end_ = size();
    start_ = 0;
    data_ = std::move(fresh);
    capacity_ = capacity;
  }

 private:
  void reserve(size_t n) {
    if (capacity_ - end_ >= n) return;
    const size_t used = size();
    if (capacity_ - used >= n && start_ >= used) {
      // Plenty of room once the consumed prefix is dropped; sliding is cheaper
      // than growing and the regions do not overlap.
      std::memcpy(data_.get(), data(), used);
    } else if (capacity_ - used >= n) {
      std::memmove(data_.get(), data(), used);
    } else {
      size_t next = std::max(capacity_ * 2, used + n);
      std::unique_ptr<char[]> fresh(new char[next]);
      std::memcpy(fresh.get(), data(), used);
      data_ = std::move(fresh);
      capacity_ = next;
    }
    start_ = 0;
    end_ = used;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t start_ = 0;
  size_t end_ = 0;
};

}  // namespace ringway::origin
