#pragma once
// Timeouts without a heap: every timer in a TimerList has the same duration,
// so appending at the tail keeps the list sorted by deadline. Arming, re-arming
// and cancelling are O(1) list splices; expiry pops from the head. A worker
// keeps one list per kind of timeout (and per upstream for upstream timeouts).

#include <cstdint>

namespace ringway::core {

enum class TimerKind : uint8_t {
  kClientHeader,
  kClientBody,
  kClientIdle,
  kClientSend,
  kClientLinger,
  kTunnelIdle,  // a WebSocket tunnel that moved no bytes either way
  kUpstreamConnect,
  kUpstreamResponse,
  kUpstreamIdle,
  kUpstreamQueue,  // a client waiting for a connection slot to an upstream
  kFetch,          // a fetch of the engine's own, from connect to the last byte
};

class TimerList;

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  TimerList* list = nullptr;
  int64_t deadline_ms = 0;
  void* owner = nullptr;

  bool armed() const { return list != nullptr; }
  void disarm() {
    if (list == nullptr) return;
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
    list = nullptr;
  }
};

class TimerList {
 public:
  TimerList(TimerKind kind, int64_t duration_ms) : kind_(kind), duration_ms_(duration_ms) {
    head_.prev = head_.next = &head_;
  }
  TimerList(const TimerList&) = delete;
  TimerList& operator=(const TimerList&) = delete;

  TimerKind kind() const { return kind_; }

  // (Re)arms `node` to fire duration_ms after `now_ms`.
  void arm(TimerNode& node, int64_t now_ms) {
    node.disarm();
    node.deadline_ms = now_ms + duration_ms_;
    node.list = this;
    node.prev = head_.prev;
    node.next = &head_;
    head_.prev->next = &node;
    head_.prev = &node;
  }

  // Arms `node` unless it already runs on this list, whose deadline then
  // stays: for a timeout that progress must not push back.
  void arm_once(TimerNode& node, int64_t now_ms) {
    if (node.list != this) arm(node, now_ms);
  }

  // The earliest expired node, unlinked; nullptr when none is due.
  TimerNode* pop_expired(int64_t now_ms) {
    TimerNode* first = head_.next;
    if (first == &head_ || first->deadline_ms > now_ms) return nullptr;
    first->disarm();
    return first;
  }

  // Deadline of the head, or INT64_MAX when empty.
  int64_t next_deadline() const {
    return head_.next == &head_ ? INT64_MAX : head_.next->deadline_ms;
  }

 private:
  TimerKind kind_;
  int64_t duration_ms_;
  TimerNode head_;
};

}  // namespace ringway::core
