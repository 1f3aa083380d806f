#include "engine/core/ring.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ringway::core {
namespace {

// Ring::sqe() never returns null: when the kernel will not take a full
// submission queue, entries wait in user memory, in order. A kernel refusing
// is made real here by pointing the ring's fd at /dev/null for a while
// (io_uring_enter then fails), with the registered ring fd given up first so
// that liburing enters through the plain fd.
TEST(Ring, EntriesTheKernelRefusesWaitInOrder) {
  Ring ring;
  std::string error;
  ASSERT_TRUE(ring.init(4, 64, WaitBatch{}, &error)) << error;
  io_uring* raw = ring.raw();
  io_uring_unregister_ring_fd(raw);  // 0 when none was registered: fine either way
  const int saved = dup(raw->ring_fd);
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(saved, 0);
  ASSERT_GE(null_fd, 0);
  ASSERT_EQ(dup2(null_fd, raw->ring_fd), raw->ring_fd);

  for (uint64_t i = 0; i < 10; ++i) {
    io_uring_sqe* s = ring.sqe();
    ASSERT_NE(s, nullptr) << i;
    io_uring_prep_nop(s);
    io_uring_sqe_set_data64(s, i);
  }
  // The first four are in the queue; the rest could not be.
  EXPECT_EQ(io_uring_sq_space_left(raw), 0U);
  ring.submit();  // still refused: nothing is lost, nothing moves
  EXPECT_EQ(io_uring_cq_ready(raw), 0U);

  ASSERT_EQ(dup2(saved, raw->ring_fd), raw->ring_fd);
  close(saved);
  close(null_fd);
  ring.submit();
  std::vector<uint64_t> seen;
  while (seen.size() < 10) {
    ring.submit_and_wait(std::chrono::milliseconds(1000));
    const unsigned n = ring.reap([&](io_uring_cqe* cqe) {
      EXPECT_EQ(cqe->res, 0);
      seen.push_back(io_uring_cqe_get_data64(cqe));
    });
    ASSERT_GT(n, 0U) << "no completion within a second";
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // With the spill empty, entries go straight to the queue again.
  io_uring_prep_nop(ring.sqe());
  EXPECT_EQ(io_uring_sq_ready(raw), 1U);
}

}  // namespace
}  // namespace ringway::core
