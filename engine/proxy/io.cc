// Socket plumbing shared by the client and upstream sides: receives into
// provided buffers, one send in flight per socket, cancellation and freeing.

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "engine/proxy/proxy.h"

namespace ringway::proxy {

void Proxy::arm_recv(Socket* s, core::Op op) {
  s->recv_paused = false;
  if (s->recv_armed || s->closed || s->peer_eof) return;
  core::BufferRing& buffers = ring_for(op);
  if (buffers.available() == 0) {
    starve(s, op);
    return;
  }
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_recv_multishot(sqe, s->fd, nullptr, 0, 0);
  target(sqe, s);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffers.group();
  io_uring_sqe_set_data64(sqe, core::tag(s, op));
  ++s->pending;
  s->recv_armed = true;
}

void Proxy::pause_recv(Socket* s, core::Op op) {
  if (s->recv_paused) return;
  s->recv_paused = true;
  if (!s->recv_armed) return;
  // The multishot receive ends with -ECANCELED; data that raced the cancel is
  // still delivered and queued.
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_cancel64(sqe, core::tag(s, op), 0);
  io_uring_sqe_set_data64(sqe, 0);
}

void Proxy::regulate_recv(Socket* s, core::Op op) {
  // Hysteresis: stop above the limit, start again once a quarter is left, so
  // a connection near the limit does not cancel and re-arm on every chunk.
  if (s->in.bytes() > kMaxQueuedInput || s->in.chunks() > kMaxQueuedChunks)
    pause_recv(s, op);
  else if (s->recv_paused && s->in.bytes() < kMaxQueuedInput / 4 &&
           s->in.chunks() <= kMaxQueuedChunks / 4)
    arm_recv(s, op);
}

void Proxy::starve(Socket* s, core::Op op) {
  if (s->starved || s->closed) return;
  s->starved = true;
  starved_.emplace_back(s, op);
}

void Proxy::rearm_starved() {
  // Wait until a useful share of a ring's buffers is back, so the re-armed
  // receives do not run straight into ENOBUFS again.
  if (starved_.empty()) return;
  auto ready = [this](core::Op op) {
    core::BufferRing& b = ring_for(op);
    return b.available() >= b.count() / 8 + 1;
  };
  auto list = std::move(starved_);
  starved_.clear();
  for (auto [s, op] : list) {
    if (!ready(op)) {
      starved_.emplace_back(s, op);
      continue;
    }
    s->starved = false;
    if (!s->closed && !s->recv_paused) arm_recv(s, op);
  }
}

void Proxy::flush(Socket* s, core::Op op) {
  if (s->out.sending() || s->out.empty() || s->closed) return;
  s->send_since = now_ms_;
  msghdr* msg = s->out.begin_send();
  io_uring_sqe* sqe = ring_.sqe();
  // MSG_WAITALL: the kernel keeps sending until all is out (or an error), so a
  // completion is rarely partial. MSG_NOSIGNAL: a closed peer is an error
  // code, never SIGPIPE.
  if (s->out.count() == 1)
    io_uring_prep_send(sqe, s->fd, s->out.first().iov_base, s->out.first().iov_len,
                       MSG_NOSIGNAL | MSG_WAITALL);
  else
    io_uring_prep_sendmsg(sqe, s->fd, msg, MSG_NOSIGNAL | MSG_WAITALL);
  target(sqe, s);
  io_uring_sqe_set_data64(sqe, core::tag(s, op));
  ++s->pending;
}

int Proxy::sent(Socket* s, int res) {
  --s->pending;
  const bool recalled = s->send_recalled;
  s->send_recalled = false;
  // A recalled send ends with what it sent before the cancel (MSG_WAITALL
  // reports its partial progress), or -ECANCELED when that was nothing
  // (-EINTR if an io-wq thread was running it).
  if (recalled && (res == -ECANCELED || res == -EINTR)) res = 0;
  if (res >= 0) {
    s->out.sent(static_cast<uint64_t>(res), [this](int32_t bid) { drop(bid); });
    if (recalled && !s->closed) move_off_rings(s->out);  // nothing in flight now
  } else {
    s->out.clear([this](int32_t bid) { drop(bid); });
  }
  return res;
}

int32_t Proxy::new_block(std::string** bytes) {
  uint32_t index;
  if (!free_blocks_.empty()) {
    index = free_blocks_.back();
    free_blocks_.pop_back();
  } else {
    index = static_cast<uint32_t>(blocks_.size());
    blocks_.emplace_back();
  }
  blocks_[index].refs = 1;
  *bytes = &blocks_[index].bytes;
  return block_ref(index);
}

void Proxy::free_block(uint32_t index) {
  Block& block = blocks_[index];
  moved_bytes_ -= block.moved;
  block.moved = 0;
  // Small blocks keep their memory for the next body piece; a large one (a
  // stalled peer's bytes) gives it back.
  if (block.bytes.capacity() > 4096)
    std::string().swap(block.bytes);
  else
    block.bytes.clear();
  free_blocks_.push_back(index);
}

void Proxy::take_buffer(Socket* s, const io_uring_cqe* cqe, core::BufferRing& buffers) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    s->recv_armed = false;
    --s->pending;
  }
  if (cqe->res <= 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) return;
  auto bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
  buffers.taken(bid);
  if (s->closed) {
    buffers.unref(bid);
    return;
  }
  s->in.push({buffers.data(bid), static_cast<uint32_t>(cqe->res), buffer_ref(buffers.group(), bid)});
}

// A plain syscall on purpose: IORING_OP_SHUTDOWN cannot complete inline, so
// the ring hands it to an io-wq thread, where it may run after this socket's
// fd (or fixed slot) was closed and reused by a new connection: it would then
// shut down a stranger's socket (seen as clients losing responses under
// connection churn).
void Proxy::shutdown_write(Socket* s) {
  s->write_shut = true;
  ::shutdown(s->fd, SHUT_WR);
}

// SO_LINGER 0: the close that follows sends a reset, not a FIN, so the peer
// cannot take what it got for the whole of a cut stream.
void Proxy::reset_on_close(Socket* s) {
  const linger abort{1, 0};
  if (s->fd >= 0) setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

// Registered files: an operation on a socket in the ring's fixed-file table
// skips the per-operation file lookup and reference count. The update rides
// in the same submission batch as the socket's first operation, ahead of it.
void Proxy::register_file(Socket* s) {
  if (free_slots_.empty()) return;  // table full (or disabled): plain fd
  s->slot = free_slots_.back();
  free_slots_.pop_back();
  slot_fds_[s->slot] = s->fd;
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_files_update(sqe, &slot_fds_[s->slot], 1, s->slot);
  io_uring_sqe_set_data64(sqe, 0);
}

void Proxy::retire(Socket* s, SocketKind kind) {
  s->closed = true;
  s->timer.disarm();
  s->in.clear([this](int32_t bid) { drop(bid); });
  if (s->pending > 0) {
    // Every operation on the socket completes (most with -ECANCELED) before the
    // object is freed: completions name it.
    io_uring_sqe* sqe = ring_.sqe();
    if (s->slot >= 0)
      io_uring_prep_cancel_fd(sqe, s->slot, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD_FIXED);
    else
      io_uring_prep_cancel_fd(sqe, s->fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, 0);
  }
  graveyard_.emplace_back(s, kind);
}

void Proxy::collect_garbage() {
  if (graveyard_.empty()) return;
  size_t kept = 0;
  for (auto& [s, kind] : graveyard_) {
    if (s->pending > 0) {
      graveyard_[kept++] = {s, kind};
      continue;
    }
    // Buffers still referenced by a send that never completed are released
    // here, once nothing in the kernel can read them.
    s->out.clear([this](int32_t bid) { drop(bid); });
    s->in.clear([this](int32_t bid) { drop(bid); });
    if (s->starved) {
      std::erase_if(starved_, [s = s](const auto& e) { return e.first == s; });
      s->starved = false;
    }
    if (s->slot >= 0) {
      // Drop the table's reference too, or the socket would stay open.
      static int no_file = -1;
      io_uring_sqe* sqe = ring_.sqe();
      io_uring_prep_files_update(sqe, &no_file, 1, s->slot);
      io_uring_sqe_set_data64(sqe, 0);
      free_slots_.push_back(s->slot);
      s->slot = -1;
    }
    // The close rides in the next submission batch instead of costing a
    // syscall of its own; nothing refers to the fd any more.
    io_uring_sqe* sqe = ring_.sqe();
    io_uring_prep_close(sqe, s->fd);
    io_uring_sqe_set_data64(sqe, 0);
    s->fd = -1;
    switch (kind) {
      case SocketKind::kClient:
        free_client(static_cast<ClientConn*>(s));
        break;
      case SocketKind::kUpstream:
        free_upstream(static_cast<UpstreamConn*>(s));
        break;
      case SocketKind::kFetch:
        free_fetch(static_cast<FetchConn*>(s));
        break;
    }
  }
  graveyard_.resize(kept);
}

}  // namespace ringway::proxy
