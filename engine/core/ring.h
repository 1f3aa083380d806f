#pragma once
// One io_uring per worker thread, and the provided-buffer ring that all of the
// worker's receives draw from. Only the owning thread touches either.

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace ringway::core {

// Completion batching (opt-in): a loop turn that has to wait returns when
// `completions` completions are ready, or when `max_wait` has passed since it
// began and at least one is (io_uring's min-wait, Linux >= 6.12). Fewer,
// fuller turns cost less CPU per request at the price of up to max_wait added
// per turn: interrupt coalescing for the event loop. max_wait 0 is off.
struct WaitBatch {
  unsigned completions = 1;
  std::chrono::microseconds max_wait{0};
};

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring();

  // Sets the ring up with the best flags this kernel has (see docs/architecture.md).
  // A batch the kernel cannot do is left off, and mode() says so.
  bool init(unsigned sq_entries, unsigned cq_entries, WaitBatch batch, std::string* error);

  // A free submission entry, never null. A full queue is submitted first.
  // If the kernel will not take it (old kernels answer EBUSY while the
  // completion queue has overflowed; or no memory), the entry is kept in
  // user memory, and so is every later one until the next submit has queued
  // them in order (sends on one socket must stay in order).
  io_uring_sqe* sqe() {
    if (spill_.empty()) [[likely]] {
      if (io_uring_sqe* s = io_uring_get_sqe(&ring_)) [[likely]] return s;
      io_uring_submit(&ring_);
      if (io_uring_sqe* s = io_uring_get_sqe(&ring_)) return s;
    }
    return &spill_.emplace_back();  // a deque: earlier entries do not move
  }

  // Submits everything queued without waiting.
  void submit() {
    if (!spill_.empty()) [[unlikely]] queue_spilled();
    io_uring_submit(&ring_);
  }

  // Submits everything queued and waits for at least one completion or the
  // timeout: the one io_uring_enter of a loop turn. `batch`: this turn may
  // use the WaitBatch (if the ring has one).
  // Returns whether it waited for a batch (the kernel took the batched wait).
  bool submit_and_wait(std::chrono::milliseconds timeout, bool batch = false);
  bool batching() const { return batch_.max_wait.count() > 0; }

  // Calls f(cqe) for every ready completion, then marks them all seen at once.
  template <typename F>
  unsigned reap(F&& f) {
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      f(cqe);
      ++n;
    }
    io_uring_cq_advance(&ring_, n);
    return n;
  }

  io_uring* raw() { return &ring_; }
  const std::string& mode() const { return mode_; }

 private:
  bool submit_and_wait_batch(std::chrono::milliseconds timeout);
  // Moves spilled entries into the submission queue, submitting when it is
  // full; what the kernel still refuses waits for the next call.
  void queue_spilled();

  io_uring ring_{};
  std::deque<io_uring_sqe> spill_;
  WaitBatch batch_;
  bool registered_fd_ = false;
  bool ready_ = false;
  std::string mode_;
};

// Receive buffers handed to the kernel through a buffer ring: a multishot recv
// picks a free buffer when data arrives, so idle connections hold none. A
// buffer is reference-counted while its bytes wait to be parsed or sent, and
// goes back to the kernel when the count drops to zero.
//
// The kernel takes buffers from the ring in FIFO order, which under any steady
// load would touch every buffer's pages in turn. So only a few buffers are
// published at a time (twice what the last loop turn consumed, at least 64);
// the rest wait on a LIFO stack, and the most recently freed (still hot) go
// back first. Resident memory follows the traffic in flight.
class BufferRing {
 public:

  BufferRing() = default;
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;
  ~BufferRing();

  // `group` is the buffer group id receives name to draw from this ring.
  bool init(io_uring* ring, uint16_t group, uint32_t count, uint32_t size, std::string* error);
  uint16_t group() const { return group_; }

  char* data(uint16_t bid) { return base_ + size_t{bid} * size_; }
  uint32_t buffer_size() const { return size_; }

  // A completion handed us buffer `bid` (reference count 1).
  void taken(uint16_t bid) {
    refs_[bid] = 1;
    ++held_;
    --published_;
    ++consumed_;
  }
  void ref(uint16_t bid) { ++refs_[bid]; }
  void unref(uint16_t bid) {
    if (--refs_[bid] == 0) recycle(bid);
  }
  // Tops the ring up from the free stack: once per loop turn.
  void flush();
  uint32_t available() const { return count_ - held_; }
  // Gives the pages of all buffers back to the kernel. Only when we hold none
  // and the kernel cannot be filling one (see Worker::maybe_trim_buffers).
  void trim();
  uint32_t count() const { return count_; }

 private:
  void recycle(uint16_t bid) {
    free_.push_back(bid);
    --held_;
  }

  io_uring* ring_ = nullptr;
  uint16_t group_ = 0;
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  char* base_ = nullptr;
  size_t base_bytes_ = 0;
  uint32_t count_ = 0;
  uint32_t size_ = 0;
  uint32_t held_ = 0;       // handed to us, not yet recycled
  uint32_t published_ = 0;  // in the ring, not yet taken by the kernel
  uint32_t consumed_ = 0;   // taken since the last flush
  std::vector<uint16_t> refs_;
  std::vector<uint16_t> free_;  // neither held nor published; last freed on top
};

}  // namespace ringway::core
