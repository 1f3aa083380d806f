#include "engine/proxy/chunk_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ringway::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Counts drop callbacks per buffer id.
struct Drops {
  std::vector<int32_t> order;
  std::map<int32_t, int> count;
  auto fn() {
    return [this](int32_t bid) {
      order.push_back(bid);
      ++count[bid];
    };
  }
};

// ---------------------------------------------------------------------------
// InputQueue

TEST(InputQueue, PushTracksBytes) {
  InputQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  const char a[] = "hello", b[] = "world!";
  q.push({a, 5, 3});
  q.push({b, 6, 4});
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.bytes(), 11u);
  EXPECT_EQ(q.front().data, a);
  EXPECT_EQ(q.front().bid, 3);
}

TEST(InputQueue, ConsumeReturnsBufferIdOnlyWhenChunkIsUsedUp) {
  InputQueue q;
  const char a[] = "hello", b[] = "world!";
  q.push({a, 5, 3});
  q.push({b, 6, 4});
  EXPECT_EQ(q.consume(2), kNoBuffer);
  EXPECT_EQ(q.front().data, a + 2);
  EXPECT_EQ(q.front().len, 3u);
  EXPECT_EQ(q.bytes(), 9u);
  EXPECT_EQ(q.consume(3), 3);  // used up: its id comes back once
  EXPECT_EQ(q.front().data, b);
  EXPECT_EQ(q.bytes(), 6u);
  EXPECT_EQ(q.consume(0), kNoBuffer);
  EXPECT_EQ(q.consume(6), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(InputQueue, ChunkWithoutBufferReturnsNoBuffer) {
  InputQueue q;
  const char a[] = "abc";
  q.push({a, 3, kNoBuffer});
  EXPECT_EQ(q.consume(3), kNoBuffer);
  EXPECT_TRUE(q.empty());
}

TEST(InputQueue, GrowsPastInlineCapacityInOrder) {
  InputQueue q;
  std::string data(100, 'x');
  for (int i = 0; i < 10; ++i) q.push({data.data() + i * 10, 10, i});
  EXPECT_EQ(q.bytes(), 100u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(q.front().data, data.data() + i * 10);
    EXPECT_EQ(q.consume(4), kNoBuffer);
    EXPECT_EQ(q.consume(6), i);
  }
  EXPECT_TRUE(q.empty());
}

TEST(InputQueue, ClearDropsEveryProvidedBufferOnce) {
  InputQueue q;
  const char d[] = "0123456789";
  q.push({d, 2, 7});
  q.push({d + 2, 2, kNoBuffer});
  q.push({d + 4, 2, 8});
  q.consume(1);  // partially consumed front still holds its buffer
  Drops drops;
  q.clear(drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(7, 8));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  q.clear(drops.fn());  // nothing left
  EXPECT_EQ(drops.order.size(), 2u);
}

// ---------------------------------------------------------------------------
// OutputQueue

TEST(OutputQueue, BeginSendCoversEverything) {
  OutputQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.sending());
  const char a[] = "head", b[] = "body";
  q.push(a, 4, kNoBuffer);
  q.push(b, 4, 9);
  EXPECT_EQ(q.count(), 2);
  EXPECT_EQ(q.bytes(), 8u);
  msghdr* m = q.begin_send();
  EXPECT_TRUE(q.sending());
  ASSERT_EQ(m->msg_iovlen, 2u);
  EXPECT_EQ(m->msg_iov[0].iov_base, a);
  EXPECT_EQ(m->msg_iov[0].iov_len, 4u);
  EXPECT_EQ(m->msg_iov[1].iov_base, b);
  EXPECT_EQ(m->msg_name, nullptr);
  EXPECT_EQ(m->msg_control, nullptr);
  EXPECT_EQ(m->msg_flags, 0);
}

TEST(OutputQueue, FullSendDropsAll) {
  OutputQueue q;
  const char d[] = "abcdefgh";
  q.push(d, 3, 1);
  q.push(d + 3, 2, kNoBuffer);
  q.push(d + 5, 3, 2);
  q.begin_send();
  Drops drops;
  q.sent(8, drops.fn());
  EXPECT_FALSE(q.sending());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_THAT(drops.order, ElementsAre(1, 2));
}

TEST(OutputQueue, PartialSendsAcrossIovecBoundaries) {
  OutputQueue q;
  const std::string d = "0123456789ABCDEFGHIJ";
  q.push(d.data(), 5, 10);       // 01234
  q.push(d.data() + 5, 5, 11);   // 56789
  q.push(d.data() + 10, 10, 12);  // ABCDEFGHIJ
  Drops drops;

  // Inside the first iovec.
  q.begin_send();
  q.sent(3, drops.fn());
  EXPECT_THAT(drops.order, IsEmpty());
  EXPECT_EQ(q.count(), 3);
  EXPECT_EQ(q.bytes(), 17u);
  EXPECT_EQ(q.first().iov_base, d.data() + 3);
  EXPECT_EQ(q.first().iov_len, 2u);

  // Exactly to the end of the first.
  msghdr* m = q.begin_send();
  EXPECT_EQ(m->msg_iovlen, 3u);
  EXPECT_EQ(m->msg_iov[0].iov_base, d.data() + 3);
  q.sent(2, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(10));
  EXPECT_EQ(q.count(), 2);
  EXPECT_EQ(q.first().iov_base, d.data() + 5);
  EXPECT_EQ(q.first().iov_len, 5u);

  // Across the boundary into the last.
  q.begin_send();
  q.sent(8, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(10, 11));
  EXPECT_EQ(q.count(), 1);
  EXPECT_EQ(q.bytes(), 7u);
  EXPECT_EQ(q.first().iov_base, d.data() + 13);
  EXPECT_EQ(q.first().iov_len, 7u);

  // A zero-byte completion changes nothing.
  q.begin_send();
  q.sent(0, drops.fn());
  EXPECT_EQ(q.count(), 1);
  EXPECT_EQ(q.bytes(), 7u);
  EXPECT_FALSE(q.sending());

  q.begin_send();
  q.sent(7, drops.fn());
  EXPECT_TRUE(q.empty());
  EXPECT_THAT(drops.order, ElementsAre(10, 11, 12));
  for (auto [bid, n] : drops.count) EXPECT_EQ(n, 1) << bid;
}

TEST(OutputQueue, PushWhilePartiallySentKeepsOrder) {
  OutputQueue q;
  const std::string d = "abcdefghij";
  q.push(d.data(), 4, 1);
  q.begin_send();
  Drops drops;
  q.sent(1, drops.fn());
  q.push(d.data() + 4, 6, 2);
  msghdr* m = q.begin_send();
  ASSERT_EQ(m->msg_iovlen, 2u);
  EXPECT_EQ(std::string(static_cast<char*>(m->msg_iov[0].iov_base), m->msg_iov[0].iov_len), "bcd");
  EXPECT_EQ(std::string(static_cast<char*>(m->msg_iov[1].iov_base), m->msg_iov[1].iov_len),
            "efghij");
  q.sent(9, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(1, 2));
}

TEST(OutputQueue, FullAtCapacity) {
  OutputQueue q;
  const char d[] = "x";
  for (int i = 0; i < OutputQueue::kCapacity; ++i) {
    EXPECT_FALSE(q.full());
    q.push(d, 1, i);
  }
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.count(), OutputQueue::kCapacity);
  q.begin_send();
  Drops drops;
  q.sent(1, drops.fn());
  EXPECT_FALSE(q.full());
  EXPECT_THAT(drops.order, ElementsAre(0));
  q.push(d, 1, 99);
  EXPECT_TRUE(q.full());
}

TEST(OutputQueue, EmptyEntriesAreReleasedWhenReached) {
  OutputQueue q;
  const char d[] = "ab";
  q.push(d, 0, 5);  // an empty range still holds its buffer
  q.push(d, 2, 6);
  Drops drops;
  q.begin_send();
  q.sent(1, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(5));
  q.begin_send();
  q.sent(1, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(5, 6));
}

TEST(OutputQueue, ClearDropsEachProvidedBufferOnce) {
  OutputQueue q;
  const char d[] = "abcdef";
  q.push(d, 2, 1);
  q.push(d + 2, 2, kNoBuffer);
  q.push(d + 4, 2, 3);
  q.begin_send();
  Drops drops;
  q.sent(1, drops.fn());  // partially sent buffer 1 is still held
  q.begin_send();
  q.clear(drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(1, 3));
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.sending());
  EXPECT_EQ(q.bytes(), 0u);
  q.clear(drops.fn());
  EXPECT_EQ(drops.order.size(), 2u);
}

TEST(OutputQueue, RandomisedPartialSendsDropEachBufferExactlyOnce) {
  // Pseudo-random sizes and send completions; every byte goes out in order and
  // each provided buffer is dropped exactly once, after its last byte.
  uint32_t seed = 12345;
  auto rnd = [&](uint32_t mod) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % mod;
  };
  std::string data(1 << 16, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  OutputQueue q;
  Drops drops;
  size_t pushed = 0, sent = 0;
  int32_t next_bid = 0;
  std::map<int32_t, size_t> bid_end;  // offset just past the buffer's bytes
  std::string out;
  while (sent < 20000) {
    while (!q.full() && pushed < data.size() - 64 && rnd(3) != 0) {
      uint32_t len = rnd(40);
      int32_t bid = rnd(4) == 0 ? kNoBuffer : next_bid++;
      q.push(data.data() + pushed, len, bid);
      pushed += len;
      if (bid >= 0) bid_end[bid] = pushed;
    }
    if (q.empty()) continue;
    msghdr* m = q.begin_send();
    uint64_t avail = 0;
    for (size_t i = 0; i < m->msg_iovlen; ++i) avail += m->msg_iov[i].iov_len;
    uint64_t n = avail == 0 ? 0 : rnd(static_cast<uint32_t>(avail) + 1);
    uint64_t left = n;
    for (size_t i = 0; i < m->msg_iovlen && left > 0; ++i) {
      uint64_t take = std::min<uint64_t>(left, m->msg_iov[i].iov_len);
      out.append(static_cast<char*>(m->msg_iov[i].iov_base), take);
      left -= take;
    }
    size_t before = drops.order.size();
    q.sent(n, drops.fn());
    sent += n;
    for (size_t i = before; i < drops.order.size(); ++i)
      EXPECT_LE(bid_end[drops.order[i]], sent) << "buffer dropped before it was sent";
    EXPECT_EQ(q.bytes(), pushed - sent);
  }
  EXPECT_EQ(out, data.substr(0, sent));
  q.clear(drops.fn());
  for (int32_t b = 0; b < next_bid; ++b) EXPECT_EQ(drops.count[b], 1) << "bid " << b;
}


// ---------------------------------------------------------------------------
// Moving bytes off the receive rings (Proxy::move_off_rings)

// Copies each moved range into `store` and names it with a block reference,
// as the proxy does.
struct Mover {
  std::vector<std::string> store;
  std::vector<int32_t> moved;  // buffer ids given up
  Mover() { store.reserve(16); }
  auto fn() {
    return [this](const char*& data, uint32_t len, int32_t& ref) {
      store.emplace_back(data, len);
      moved.push_back(ref);
      data = store.back().data();
      ref = block_ref(static_cast<uint32_t>(store.size() - 1));
    };
  }
};

TEST(InputQueue, RehomeMovesOnlyBufferChunksAndKeepsTheirBytes) {
  InputQueue q;
  const char a[] = "hello", b[] = "owned", c[] = "world!";
  q.push({a, 5, buffer_ref(1, 3)});
  q.push({b, 5, kNoBuffer});
  q.push({c, 6, buffer_ref(1, 4)});
  q.consume(1);  // a partly consumed chunk moves what is left of it
  Mover m;
  q.rehome(m.fn());
  EXPECT_THAT(m.moved, ElementsAre(buffer_ref(1, 3), buffer_ref(1, 4)));
  EXPECT_THAT(m.store, ElementsAre("ello", "world!"));
  EXPECT_EQ(q.bytes(), 15u);
  EXPECT_EQ(q.chunks(), 3u);  // the count backpressure looks at stays
  EXPECT_EQ(q.front().data, m.store[0].data());
  EXPECT_EQ(q.consume(4), block_ref(0));
  EXPECT_EQ(q.front().data, b);  // memory the exchange owns stays where it is
  EXPECT_EQ(q.consume(5), kNoBuffer);
  Drops drops;
  q.clear(drops.fn());  // a moved chunk is still released: blocks are counted too
  EXPECT_THAT(drops.order, ElementsAre(block_ref(1)));
}

TEST(OutputQueue, RehomeKeepsOrderAndPartialProgress) {
  OutputQueue q;
  const char head[] = "HEAD", body[] = "0123456789";
  q.push(head, 4, kNoBuffer);
  q.push(body, 10, buffer_ref(2, 7));
  q.begin_send();
  EXPECT_TRUE(q.in_flight_holds_buffers());
  q.sent(6, [](int32_t) {});  // the head and 2 body bytes went
  EXPECT_FALSE(q.in_flight_holds_buffers());  // nothing in flight
  Mover m;
  q.rehome(m.fn());
  EXPECT_THAT(m.moved, ElementsAre(buffer_ref(2, 7)));
  EXPECT_THAT(m.store, ElementsAre("23456789"));
  EXPECT_EQ(q.count(), 1);
  EXPECT_EQ(q.first().iov_base, m.store[0].data());
  EXPECT_EQ(q.first().iov_len, 8u);
  EXPECT_EQ(q.bytes(), 8u);
  Drops drops;
  q.begin_send();
  q.sent(8, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(block_ref(0)));
  EXPECT_TRUE(q.empty());
}

TEST(OutputQueue, RehomeLeavesWhatASendInFlightReads) {
  OutputQueue q;
  const char a[] = "in flight", b[] = "queued after";
  q.push(a, 9, buffer_ref(1, 1));
  q.begin_send();
  q.push(b, 12, buffer_ref(1, 2));  // behind the send: not part of it
  EXPECT_EQ(q.in_flight(), 1);
  EXPECT_TRUE(q.in_flight_holds_buffers());
  Mover m;
  q.rehome(m.fn());
  EXPECT_THAT(m.moved, ElementsAre(buffer_ref(1, 2)));
  EXPECT_EQ(q.first().iov_base, a);  // the kernel may be reading it
  Drops drops;
  q.sent(9, drops.fn());
  EXPECT_THAT(drops.order, ElementsAre(buffer_ref(1, 1)));
  EXPECT_EQ(q.first().iov_base, m.store[0].data());
  EXPECT_FALSE(q.in_flight_holds_buffers());
}

}  // namespace
}  // namespace ringway::proxy
