// Relief for the receive rings. Both rings are shared by all of a worker's
// connections, and a connection holds buffers for as long as its bytes
// wait: a client that stops reading a download holds the upstream-ring
// buffers its response came in (a few dozen: what its send and its paused
// upstream receive hold), one that pipelines behind such a response holds
// client-ring buffers. Some tens of them would take a whole ring and stall
// every other connection of the worker until send_timeout cut them.
//
// So when a ring runs low, the bytes that wait (queued input not on its way
// out, and a send whose peer acknowledged nothing for 100 ms, recalled
// first) move into blocks of their exact size: the ring serves everyone
// again, and a stalled peer costs memory for what is queued for it, as in
// nginx or HAProxy, whose connections have buffers of their own. That
// memory has a ceiling per worker (limits.stalled_peer_memory): nothing
// moves past it, and near it the clients that took no byte for a second
// are cut.

#include <malloc.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>

#include "engine/proxy/proxy.h"

namespace ringway::proxy {
namespace {

// A ring is low below a quarter of its buffers free; then its holders are
// looked at no more often than this.
constexpr int64_t kReliefIntervalMs = 50;
// A send whose peer acknowledged nothing for this long waits on a peer that
// stopped reading (or pauses): recalling it frees the buffers it holds.
constexpr int64_t kStalledSendMs = 100;
// At the memory ceiling: a client that acknowledged nothing for this long
// is cut, looked for at most this often.
constexpr int64_t kCutAfterMs = 1000;
constexpr int64_t kCutIntervalMs = 250;

bool low(const core::BufferRing& b) { return b.available() < b.count() / 4; }

// A cancelled send reports the bytes it sent before the cancel (rather than
// -ECANCELED) since Linux 6.0's "io_uring/net: don't lose partial send/recv
// on fail"; before that a recall would send those bytes twice. Asked of the
// running kernel once (6.1, Debian 12's, and later).
bool cancel_reports_progress() {
  static const bool ok = [] {
    utsname u{};
    int major = 0, minor = 0;
    if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 6 || (major == 6 && minor >= 1);
  }();
  return ok;
}

}  // namespace

bool Proxy::relief_wanted() const {
  return config_->limits.stalled_peer_memory != 0 &&
         (low(client_buffers_) || low(upstream_buffers_));
}

void Proxy::relieve_buffers() {
  if (!relief_wanted() || now_ms_ < next_relief_ms_) return;
  next_relief_ms_ = now_ms_ + kReliefIntervalMs;
  relieved_ = true;
  for (ClientConn* c = live_; c != nullptr; c = c->next) {
    UpstreamConn* u = c->ex != nullptr ? c->ex->upstream : nullptr;
    move_waiting_input(c, u);
    // A deferred body's input waits for its share of the turn, not on a peer.
    if (u != nullptr && !c->ex->body_deferred) move_waiting_input(u, c);
    recall_stuck_send(c, core::Op::kClientSend);
    if (u != nullptr) recall_stuck_send(u, core::Op::kUpstreamSend);
  }
  if (moved_bytes_ + upstream_buffers_.buffer_size() > config_->limits.stalled_peer_memory)
    cut_stalled_clients();
}

int64_t Proxy::stuck_for(Socket* s) {
  // A young send is not asked about: that costs a syscall.
  if (!s->out.sending() || now_ms_ - s->send_since < kStalledSendMs) return 0;
  // A look may ask about a socket twice (as one side's peer, then for its
  // own send): the kernel is asked once.
  if (s->acks_asked_at != now_ms_) {
    s->acks_asked_at = now_ms_;
    if (acked_since(s, s->relief_acked)) s->acks_moved_at = now_ms_;
  }
  return now_ms_ - std::max(s->acks_moved_at, s->send_since);
}

// `s` receives what goes to `peer`. Its input waits (on a peer that does not
// read, on the exchange before it, on a filter) unless the peer is taking
// bytes: then its buffers come back soon anyway.
void Proxy::move_waiting_input(Socket* s, Socket* peer) {
  if (s->closed || !s->in.holds_buffers()) return;
  if (peer != nullptr && peer->out.sending() && stuck_for(peer) < kStalledSendMs) return;
  move_off_rings(s->in);
}

void Proxy::recall_stuck_send(Socket* s, core::Op send_op) {
  if (s->closed || !s->out.holds_buffers() || stuck_for(s) < kStalledSendMs) return;
  move_off_rings(s->out);  // what waits behind the send in flight
  if (!s->out.in_flight_holds_buffers() || s->send_recalled || !cancel_reports_progress()) return;
  // Near the ceiling its bytes could not be copied: the send would only go
  // out again as it was.
  if (moved_bytes_ + s->out.bytes() > config_->limits.stalled_peer_memory) return;
  // The kernel may be reading those buffers: recall the send, and its
  // completion moves what it did not send (sent()).
  s->send_recalled = true;
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_cancel64(sqe, core::tag(s, send_op), 0);
  io_uring_sqe_set_data64(sqe, 0);
}

template <typename Queue>
void Proxy::move_off_rings(Queue& queue) {
  const uint64_t ceiling = config_->limits.stalled_peer_memory;
  queue.rehome([this, ceiling](const char*& data, uint32_t len, int32_t& ref) {
    if (moved_bytes_ + len > ceiling) return;  // stays where it is
    std::string* bytes = nullptr;
    const int32_t moved = new_block(&bytes);
    bytes->assign(data, len);
    blocks_[block_index(moved)].moved = len;
    moved_bytes_ += len;
    ++stats_.buffers_moved;
    drop(ref);
    data = bytes->data();
    ref = moved;
  });
}
template void Proxy::move_off_rings(OutputQueue&);

// At the ceiling, clients that took no byte for a second while a send
// waited are reset, copies or not: the copies' memory is for peers that
// pause, not for those that stopped.
void Proxy::cut_stalled_clients() {
  if (now_ms_ < next_cut_ms_) return;
  next_cut_ms_ = now_ms_ + kCutIntervalMs;
  for (ClientConn* c = live_; c != nullptr;) {
    ClientConn* next = c->next;  // a cut unlinks c
    if (!c->closed && stuck_for(c) >= kCutAfterMs) {
      ++stats_.stalled_clients_cut;
      reset_on_close(c);  // the kernel drops what it still holds for it, too
      client_failed(c);
    }
    c = next;
  }
}

void Proxy::trim_memory() {
  if (!relieved_ || free_blocks_.size() != blocks_.size()) return;
  relieved_ = false;
  blocks_ = {};
  free_blocks_ = {};
  // The copies were small heap blocks: without this, their pages stay with
  // the process (the allocator keeps freed memory below its heap's top).
  malloc_trim(0);
}

}  // namespace ringway::proxy
