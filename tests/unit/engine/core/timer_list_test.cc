#include "engine/core/timer_list.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ringway::core {
namespace {

std::vector<TimerNode*> pop_all(TimerList& l, int64_t now) {
  std::vector<TimerNode*> out;
  while (TimerNode* n = l.pop_expired(now)) out.push_back(n);
  return out;
}

TEST(TimerList, EmptyList) {
  TimerList l(TimerKind::kClientIdle, 100);
  EXPECT_EQ(l.kind(), TimerKind::kClientIdle);
  EXPECT_EQ(l.next_deadline(), INT64_MAX);
  EXPECT_EQ(l.pop_expired(INT64_MAX), nullptr);
}

TEST(TimerList, ArmSetsDeadlineAndOwner) {
  TimerList l(TimerKind::kClientHeader, 250);
  TimerNode n;
  int owner = 0;
  n.owner = &owner;
  EXPECT_FALSE(n.armed());
  l.arm(n, 1000);
  EXPECT_TRUE(n.armed());
  EXPECT_EQ(n.list, &l);
  EXPECT_EQ(n.deadline_ms, 1250);
  EXPECT_EQ(l.next_deadline(), 1250);
  EXPECT_EQ(n.owner, &owner);
}

TEST(TimerList, PopExpiredInArmOrder) {
  TimerList l(TimerKind::kClientBody, 100);
  TimerNode a, b, c;
  l.arm(a, 0);   // 100
  l.arm(b, 10);  // 110
  l.arm(c, 20);  // 120
  EXPECT_EQ(l.pop_expired(99), nullptr);
  EXPECT_EQ(l.next_deadline(), 100);
  // Deadline == now is expired.
  EXPECT_EQ(l.pop_expired(100), &a);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(a.prev, nullptr);
  EXPECT_EQ(a.next, nullptr);
  EXPECT_EQ(l.pop_expired(100), nullptr);
  EXPECT_EQ(l.next_deadline(), 110);
  EXPECT_EQ(pop_all(l, 1000), (std::vector<TimerNode*>{&b, &c}));
  EXPECT_EQ(l.next_deadline(), INT64_MAX);
}

TEST(TimerList, RearmMovesToTailWithNewDeadline) {
  TimerList l(TimerKind::kUpstreamResponse, 50);
  TimerNode a, b, c;
  l.arm(a, 0);
  l.arm(b, 5);
  l.arm(c, 10);
  l.arm(a, 20);  // a: 70, now last
  EXPECT_EQ(a.deadline_ms, 70);
  EXPECT_EQ(l.next_deadline(), 55);
  EXPECT_EQ(pop_all(l, 1000), (std::vector<TimerNode*>{&b, &c, &a}));
}

TEST(TimerList, RearmTheTailAndTheOnlyNode) {
  TimerList l(TimerKind::kClientIdle, 10);
  TimerNode a;
  l.arm(a, 0);
  l.arm(a, 5);
  l.arm(a, 7);
  EXPECT_EQ(l.next_deadline(), 17);
  EXPECT_EQ(pop_all(l, 100), (std::vector<TimerNode*>{&a}));
  TimerNode b, c;
  l.arm(b, 0);
  l.arm(c, 1);
  l.arm(c, 2);  // already the tail
  EXPECT_EQ(pop_all(l, 100), (std::vector<TimerNode*>{&b, &c}));
}

TEST(TimerList, Disarm) {
  TimerList l(TimerKind::kClientSend, 10);
  TimerNode a, b, c;
  l.arm(a, 0);
  l.arm(b, 1);
  l.arm(c, 2);
  b.disarm();  // middle
  EXPECT_FALSE(b.armed());
  a.disarm();  // head
  EXPECT_EQ(l.next_deadline(), 12);
  c.disarm();  // last
  EXPECT_EQ(l.next_deadline(), INT64_MAX);
  EXPECT_EQ(l.pop_expired(1000), nullptr);
  // Re-arm after disarm.
  l.arm(b, 100);
  EXPECT_EQ(pop_all(l, 1000), (std::vector<TimerNode*>{&b}));
}

TEST(TimerList, DisarmUnarmedIsNoOp) {
  TimerNode n;
  n.disarm();
  EXPECT_FALSE(n.armed());
  TimerList l(TimerKind::kClientLinger, 5);
  TimerNode a;
  l.arm(a, 0);
  EXPECT_EQ(l.pop_expired(5), &a);
  a.disarm();  // popped nodes are unarmed
  a.disarm();
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(l.next_deadline(), INT64_MAX);
}

TEST(TimerList, NodeMovedBetweenLists) {
  TimerList fast(TimerKind::kUpstreamConnect, 10);
  TimerList slow(TimerKind::kUpstreamIdle, 1000);
  TimerNode a, b;
  fast.arm(a, 0);
  fast.arm(b, 0);
  slow.arm(a, 5);  // leaves `fast`
  EXPECT_EQ(a.list, &slow);
  EXPECT_EQ(a.deadline_ms, 1005);
  EXPECT_EQ(pop_all(fast, 100), (std::vector<TimerNode*>{&b}));
  EXPECT_EQ(fast.next_deadline(), INT64_MAX);
  EXPECT_EQ(slow.next_deadline(), 1005);
  fast.arm(a, 200);  // and back
  EXPECT_EQ(slow.next_deadline(), INT64_MAX);
  EXPECT_EQ(slow.pop_expired(INT64_MAX), nullptr);
  EXPECT_EQ(pop_all(fast, 210), (std::vector<TimerNode*>{&a}));
}

TEST(TimerList, ArmOnceKeepsTheDeadlineOnItsOwnList) {
  TimerList send(TimerKind::kClientSend, 100);
  TimerList body(TimerKind::kClientBody, 1000);
  TimerNode a;
  send.arm_once(a, 0);  // unarmed: armed
  EXPECT_EQ(a.deadline_ms, 100);
  send.arm_once(a, 50);  // already on this list: the deadline stays
  EXPECT_EQ(a.list, &send);
  EXPECT_EQ(a.deadline_ms, 100);
  body.arm(a, 60);
  send.arm_once(a, 70);  // on another list: moved here, counted from now
  EXPECT_EQ(a.list, &send);
  EXPECT_EQ(a.deadline_ms, 170);
  EXPECT_EQ(body.next_deadline(), INT64_MAX);
}

TEST(TimerList, ManyNodesStayOrdered) {
  TimerList l(TimerKind::kClientIdle, 100);
  std::vector<TimerNode> nodes(200);
  for (size_t i = 0; i < nodes.size(); ++i) l.arm(nodes[i], static_cast<int64_t>(i));
  // Re-arm every even node later: they move behind all odd ones.
  for (size_t i = 0; i < nodes.size(); i += 2) l.arm(nodes[i], 1000 + static_cast<int64_t>(i));
  int64_t last = INT64_MIN;
  size_t popped = 0;
  while (TimerNode* n = l.pop_expired(INT64_MAX - 1000)) {
    EXPECT_GE(n->deadline_ms, last);
    last = n->deadline_ms;
    size_t idx = static_cast<size_t>(n - nodes.data());
    if (popped < 100) {
      EXPECT_EQ(idx % 2, 1u);
    } else {
      EXPECT_EQ(idx % 2, 0u);
    }
    ++popped;
  }
  EXPECT_EQ(popped, nodes.size());
}

}  // namespace
}  // namespace ringway::core
