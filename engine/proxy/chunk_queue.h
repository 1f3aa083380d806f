#pragma once
// Byte ranges waiting on a connection, by reference: a range points into a
// provided receive buffer (and holds a reference on it) or into memory the
// exchange owns (a rebuilt head). Bodies travel as these references from the
// receive buffer of one side to the send of the other; nothing is copied.

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstring>

#include "absl/container/inlined_vector.h"

namespace ringway::proxy {

constexpr int32_t kNoBuffer = -1;

// A reference to a provided buffer: its ring (client or upstream side) in the
// high half, the buffer id in the low half; kNoBuffer for memory the exchange
// owns; below kNoBuffer, a block of the worker's own (block_ref()) holding
// bytes a filter made, released like a buffer once sent.
inline int32_t buffer_ref(uint16_t group, uint16_t bid) {
  return static_cast<int32_t>(uint32_t{group} << 16 | bid);
}

inline int32_t block_ref(uint32_t index) { return -2 - static_cast<int32_t>(index); }
inline uint32_t block_index(int32_t ref) { return static_cast<uint32_t>(-2 - ref); }

struct Chunk {
  const char* data;
  uint32_t len;
  int32_t bid;  // buffer_ref(), or kNoBuffer
};

// Received bytes not yet parsed or forwarded. Grows past its inline capacity
// only while a peer outpaces us; the owner pauses receiving above a threshold.
class InputQueue {
 public:
  bool empty() const { return chunks_.empty(); }
  uint64_t bytes() const { return bytes_; }
  size_t chunks() const { return chunks_.size(); }
  Chunk& front() { return chunks_.front(); }
  void push(Chunk c) {
    chunks_.push_back(c);
    bytes_ += c.len;
  }
  // Drops n bytes from the front chunk. When that uses the chunk up, returns
  // its buffer id for the caller to release; otherwise kNoBuffer.
  int32_t consume(uint32_t n) {
    Chunk& c = chunks_.front();
    c.data += n;
    c.len -= n;
    bytes_ -= n;
    if (c.len != 0) return kNoBuffer;
    int32_t bid = c.bid;
    chunks_.erase(chunks_.begin());
    return bid;
  }
  template <typename F>
  void clear(F&& drop) {
    for (auto& c : chunks_)
      if (c.bid != kNoBuffer) drop(c.bid);
    chunks_.clear();
    bytes_ = 0;
  }
  bool holds_buffers() const {
    for (const auto& c : chunks_)
      if (c.bid >= 0) return true;
    return false;
  }
  // move(data, len, bid) for each chunk in a receive buffer, which may point
  // the chunk at a copy of its bytes elsewhere (Proxy::move_off_rings).
  template <typename F>
  void rehome(F&& move) {
    for (auto& c : chunks_)
      if (c.bid >= 0) move(c.data, c.len, c.bid);
  }

 private:
  absl::InlinedVector<Chunk, 2> chunks_;
  uint64_t bytes_ = 0;
};

// Bytes queued for one socket, sent with one sendmsg at a time (several sends
// in flight on one socket could be reordered). Fixed capacity: the iovec array
// must not move while the kernel may read it, so a full queue pushes back on
// the producer instead of growing.
class OutputQueue {
 public:
  static constexpr int kCapacity = 8;

  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == kCapacity; }
  bool sending() const { return sending_; }
  uint64_t bytes() const { return bytes_; }

  void push(const char* data, uint32_t len, int32_t bid) {
    iov_[size_] = {const_cast<char*>(data), len};
    bid_[size_] = bid;
    ++size_;
    bytes_ += len;
  }

  // The message to send now (everything queued).
  msghdr* begin_send() {
    sending_ = true;
    std::memset(&msg_, 0, sizeof msg_);
    msg_.msg_iov = iov_;
    msg_.msg_iovlen = size_;
    return &msg_;
  }
  int count() const { return size_; }
  const iovec& first() const { return iov_[0]; }

  // A send of n bytes completed; drop(bid) for each provided buffer released.
  template <typename F>
  void sent(uint64_t n, F&& drop) {
    sending_ = false;
    bytes_ -= n;
    int done = 0;
    while (done < size_ && n >= iov_[done].iov_len) {
      n -= iov_[done].iov_len;
      if (bid_[done] != kNoBuffer) drop(bid_[done]);
      ++done;
    }
    if (done < size_ && n > 0) {
      iov_[done].iov_base = static_cast<char*>(iov_[done].iov_base) + n;
      iov_[done].iov_len -= n;
    }
    size_ -= done;
    std::memmove(iov_, iov_ + done, sizeof(iovec) * size_);
    std::memmove(bid_, bid_ + done, sizeof(int32_t) * size_);
  }

  template <typename F>
  void clear(F&& drop) {
    for (int i = 0; i < size_; ++i)
      if (bid_[i] != kNoBuffer) drop(bid_[i]);
    size_ = 0;
    bytes_ = 0;
    sending_ = false;
  }
  bool holds_buffers() const { return buffer_among_first(size_); }
  // Entries a send in flight may be reading: those queued when it began.
  int in_flight() const { return sending_ ? static_cast<int>(msg_.msg_iovlen) : 0; }
  bool in_flight_holds_buffers() const { return buffer_among_first(in_flight()); }
  // As InputQueue::rehome, for the entries no send in flight reads.
  template <typename F>
  void rehome(F&& move) {
    for (int i = in_flight(); i < size_; ++i) {
      if (bid_[i] < 0) continue;
      const char* data = static_cast<const char*>(iov_[i].iov_base);
      auto len = static_cast<uint32_t>(iov_[i].iov_len);
      move(data, len, bid_[i]);
      iov_[i].iov_base = const_cast<char*>(data);
    }
  }

 private:
  bool buffer_among_first(int n) const {
    for (int i = 0; i < n; ++i)
      if (bid_[i] >= 0) return true;
    return false;
  }

  iovec iov_[kCapacity];
  int32_t bid_[kCapacity];
  msghdr msg_;
  uint8_t size_ = 0;
  bool sending_ = false;
  uint64_t bytes_ = 0;
};

}  // namespace ringway::proxy
