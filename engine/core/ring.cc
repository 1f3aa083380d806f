#include "engine/core/ring.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringway::core {

namespace {

struct SetupLevel {
  unsigned flags;
  const char* name;
};

// Tried in order; the first the kernel accepts wins.
//  SINGLE_ISSUER:  only this thread submits, so the kernel skips submit locking.
//  DEFER_TASKRUN:  completion work runs when we enter the kernel to wait, in
//                  batches, not as interrupts in the middle of our own work.
//  COOP_TASKRUN:   (fallback) no IPI to interrupt us for task work.
//  SUBMIT_ALL:     one bad SQE does not stop the rest of the batch.
//  CQSIZE:         an explicit completion queue larger than the SQ, sized for
//                  multishot receives that post many completions per SQE.
constexpr SetupLevel kLevels[] = {
    {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
         IORING_SETUP_CQSIZE,
     "single_issuer+defer_taskrun"},
    {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE, "coop_taskrun"},
    {IORING_SETUP_CQSIZE, "basic"},
};

// IORING_FEAT_MIN_TIMEOUT (Linux 6.12), newer than Debian 12's headers.
constexpr unsigned kFeatMinTimeout = 1U << 15;

__kernel_timespec to_timespec(std::chrono::milliseconds d) {
  __kernel_timespec ts{};
  ts.tv_sec = d.count() / 1000;
  ts.tv_nsec = (d.count() % 1000) * 1'000'000;
  return ts;
}

}  // namespace

Ring::~Ring() {
  if (ready_) io_uring_queue_exit(&ring_);
}

bool Ring::init(unsigned sq_entries, unsigned cq_entries, WaitBatch batch, std::string* error) {
  int rc = -EINVAL;
  for (const auto& level : kLevels) {
    io_uring_params p{};
    p.flags = level.flags;
    p.cq_entries = cq_entries;
    rc = io_uring_queue_init_params(sq_entries, &ring_, &p);
    if (rc == 0) {
      mode_ = level.name;
      break;
    }
    if (rc != -EINVAL) break;
  }
  if (rc != 0) {
    *error = std::string("io_uring setup failed: ") + strerror(-rc);
    return false;
  }
  ready_ = true;
  // A registered ring fd saves an fget/fput on every io_uring_enter.
  registered_fd_ = io_uring_register_ring_fd(&ring_) == 1;
  if (registered_fd_) mode_ += "+registered_ring";
  if (batch.max_wait.count() > 0) {
    if (ring_.features & kFeatMinTimeout) {
      batch_ = batch;
      mode_ += "+batch(" + std::to_string(batch.completions) + " completions, " +
               std::to_string(batch.max_wait.count()) + "us)";
    } else {
      mode_ += " (batch_wait needs Linux >= 6.12: off)";
    }
  }
  return true;
}

void Ring::queue_spilled() {
  while (!spill_.empty()) {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    if (s == nullptr) {
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
      if (s == nullptr) return;
    }
    *s = spill_.front();
    spill_.pop_front();
  }
}

bool Ring::submit_and_wait(std::chrono::milliseconds timeout, bool batch) {
  if (!spill_.empty()) [[unlikely]] queue_spilled();
  if (batch && batching()) return submit_and_wait_batch(timeout);
  __kernel_timespec ts = to_timespec(timeout);
  io_uring_cqe* cqe = nullptr;
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  return false;
}

// liburing 2.3 (Debian 12) predates min-wait, so this is its
// submit_and_wait_timeout with the getevents argument's min_wait_usec filled
// in (that field was `pad` before Linux 6.12).
bool Ring::submit_and_wait_batch(std::chrono::milliseconds timeout) {
  io_uring_sq& sq = ring_.sq;
  if (sq.sqe_head != sq.sqe_tail) {
    sq.sqe_head = sq.sqe_tail;
    io_uring_smp_store_release(sq.ktail, sq.sqe_tail);
  }
  unsigned to_submit = sq.sqe_tail - io_uring_smp_load_acquire(sq.khead);
  __kernel_timespec ts = to_timespec(timeout);
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  arg.ts = reinterpret_cast<uint64_t>(&ts);
  auto max_wait = std::min<int64_t>(batch_.max_wait.count(), timeout.count() * 1000);
  arg.pad = static_cast<uint32_t>(max_wait);  // min_wait_usec
  unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
  int fd = ring_.ring_fd;
  if (registered_fd_) {
    flags |= IORING_ENTER_REGISTERED_RING;
    fd = ring_.enter_ring_fd;
  }
  long rc = syscall(__NR_io_uring_enter, fd, to_submit, max_wait > 0 ? batch_.completions : 1,
                    flags, &arg, sizeof arg);
  // EINTR, ETIME, EAGAIN, EBUSY need nothing: the loop reaps what is there.
  // Anything else means this kernel refuses the call itself, and retrying it
  // would spin: batching goes off for good, the plain wait takes over.
  if (rc < 0 && errno != EINTR && errno != ETIME && errno != EAGAIN && errno != EBUSY) {
    fprintf(stderr, "ringway: completion batching refused by the kernel (%s): off\n",
            strerror(errno));
    batch_ = WaitBatch{};
    return false;
  }
  return max_wait > 0;
}

BufferRing::~BufferRing() {
  if (br_ != nullptr) {
    io_uring_unregister_buf_ring(ring_, group_);
    munmap(br_, br_bytes_);
  }
  if (base_ != nullptr) munmap(base_, base_bytes_);
}

void BufferRing::flush() {
  constexpr uint32_t kMinPublished = 64;
  uint32_t target = std::clamp(2 * consumed_, kMinPublished, count_);
  consumed_ = 0;
  int added = 0;
  while (published_ < target && !free_.empty()) {
    uint16_t bid = free_.back();
    free_.pop_back();
    io_uring_buf_ring_add(br_, data(bid), size_, bid, io_uring_buf_ring_mask(count_), added);
    ++added;
    ++published_;
  }
  if (added != 0) io_uring_buf_ring_advance(br_, added);
}

void BufferRing::trim() {
  if (held_ == 0) madvise(base_, base_bytes_, MADV_DONTNEED);
}

bool BufferRing::init(io_uring* ring, uint16_t group, uint32_t count, uint32_t size,
                      std::string* error) {
  ring_ = ring;
  group_ = group;
  count_ = count;
  size_ = size;
  br_bytes_ = sizeof(io_uring_buf) * count;
  void* mem = mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *error = "buffer ring: mmap failed";
    return false;
  }
  br_ = static_cast<io_uring_buf_ring*>(mem);
  // Buffer memory is reserved, not touched: pages are faulted in only as
  // traffic actually uses buffers.
  base_bytes_ = size_t{count} * size;
  mem = mmap(nullptr, base_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *error = "receive buffers: mmap failed";
    return false;
  }
  base_ = static_cast<char*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc != 0) {
    munmap(br_, br_bytes_);
    br_ = nullptr;
    *error = std::string("provided buffer ring: ") + strerror(-rc) + " (needs Linux >= 5.19)";
    return false;
  }
  io_uring_buf_ring_init(br_);
  refs_.assign(count, 0);
  free_.reserve(count);
  for (uint32_t i = count; i > 0; --i) free_.push_back(static_cast<uint16_t>(i - 1));
  flush();
  return true;
}

}  // namespace ringway::core
