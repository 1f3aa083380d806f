// ringway-fwd: the floor.
//
// A blind 1:1 TCP byte forwarder on io_uring, one thread. Every accepted
// client gets its own upstream connection; bytes are relayed both ways with no
// parsing at all: recv into a per-direction buffer, send it to the other side
// with MSG_WAITALL, and re-arm the recv only once the send has completed.
// When either side closes (or errors), both are closed.
//
// No HTTP proxy can do less work per request than this, so its CPU time per
// request is the floor the benchmark suite (bench/run.py) compares against.
//
// Usage: ringway-fwd LISTEN_PORT UPSTREAM_PORT
//        ringway-fwd --respond BODY_BYTES LISTEN_PORT
//   LISTEN_PORT 0 picks a free port. Prints "listening 127.0.0.1:PORT" once
//   ready. Only 127.0.0.1 is used on both sides.
//
// --respond is the floor of a cache hit: no upstream; every receive from a
// client is taken as one whole request (true of wrk and ringway-load without
// pipelining) and answered with one fixed 200 response of BODY_BYTES from
// memory, sent from where it lies. No cache can answer with less work.
//
// Allocation: one Conn (holding both buffers and every op struct it can have
// in flight) per connection, recycled through a free list; nothing is
// allocated per operation.

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <string>

namespace {

constexpr unsigned kRingEntries = 4096;
constexpr size_t kBufSize = 64 * 1024;

struct Conn;

enum class OpKind : uint8_t {
  kAccept,
  kConnect,
  kRecv,    // per direction
  kSend,    // per direction
  kCancel,  // per fd
  kClose,   // per fd
};

// user_data of every SQE points at one of these. They live inside Conn (or
// are the single global accept op), so submitting an op never allocates.
struct Op {
  Conn* conn;
  OpKind kind;
  uint8_t index;  // direction (recv/send) or side (cancel/close)
};

// One relay direction: bytes received from `from` are sent to `to`.
struct Dir {
  int* from;
  int* to;
  uint32_t len = 0;   // bytes in buf from the last recv
  uint32_t sent = 0;  // of which already sent
  const char* out;    // what is sent: buf, or the fixed response (--respond)
  Op recv_op;
  Op send_op;
  alignas(64) char buf[kBufSize];
};

enum class State : uint8_t { kConnecting, kRelaying, kCancelling, kClosing };

struct Conn {
  int fd[2] = {-1, -1};  // 0 = client, 1 = upstream
  State state = State::kConnecting;
  uint32_t pending = 0;  // ops in flight that point into this Conn
  Conn* next_free = nullptr;
  Op connect_op;
  Op cancel_op[2];
  Op close_op[2];
  Dir dir[2];  // 0: client -> upstream, 1: upstream -> client
};

struct Forwarder {
  io_uring ring;
  int listen_fd = -1;
  sockaddr_in upstream{};
  std::string response;  // --respond: the answer to every request; else empty
  Op accept_op{nullptr, OpKind::kAccept, 0};
  Conn* free_list = nullptr;
  uint64_t live = 0;

  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    while (sqe == nullptr) {
      // SQ full: flush it to the kernel and try again.
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    return sqe;
  }

  Conn* NewConn() {
    Conn* c = free_list;
    if (c != nullptr) {
      free_list = c->next_free;
    } else {
      c = new (std::align_val_t{64}) Conn;
      c->connect_op = {c, OpKind::kConnect, 0};
      for (uint8_t i = 0; i < 2; ++i) {
        c->cancel_op[i] = {c, OpKind::kCancel, i};
        c->close_op[i] = {c, OpKind::kClose, i};
        c->dir[i].recv_op = {c, OpKind::kRecv, i};
        c->dir[i].send_op = {c, OpKind::kSend, i};
      }
      c->dir[0].from = &c->fd[0];
      c->dir[0].to = &c->fd[1];
      c->dir[1].from = &c->fd[1];
      c->dir[1].to = &c->fd[0];
    }
    c->dir[0].to = &c->fd[1];  // a --respond connection points it back at the client
    c->fd[0] = c->fd[1] = -1;
    c->state = State::kConnecting;
    c->pending = 0;
    c->next_free = nullptr;
    for (Dir& d : c->dir) {
      d.len = d.sent = 0;
      d.out = d.buf;
    }
    ++live;
    return c;
  }

  void FreeConn(Conn* c) {
    c->next_free = free_list;
    free_list = c;
    --live;
  }

  void ArmAccept() {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, 0);
    io_uring_sqe_set_data(sqe, &accept_op);
  }

  void ArmRecv(Conn* c, Dir& d) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_recv(sqe, *d.from, d.buf, kBufSize, 0);
    io_uring_sqe_set_data(sqe, &d.recv_op);
    ++c->pending;
  }

  void ArmSend(Conn* c, Dir& d) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_send(sqe, *d.to, d.out + d.sent, d.len - d.sent,
                       MSG_WAITALL | MSG_NOSIGNAL);
    io_uring_sqe_set_data(sqe, &d.send_op);
    ++c->pending;
  }

  // Either side closed or failed: cancel whatever is still in flight on both
  // fds, then (once nothing points into the Conn any more) close them.
  void Shutdown(Conn* c) {
    if (c->state == State::kCancelling || c->state == State::kClosing) return;
    c->state = State::kCancelling;
    for (uint8_t i = 0; i < 2; ++i) {
      if (c->fd[i] < 0) continue;
      io_uring_sqe* sqe = Sqe();
      io_uring_prep_cancel_fd(sqe, c->fd[i], IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data(sqe, &c->cancel_op[i]);
      ++c->pending;
    }
    MaybeClose(c);
  }

  void MaybeClose(Conn* c) {
    if (c->pending != 0) return;
    if (c->state == State::kCancelling) {
      c->state = State::kClosing;
      for (uint8_t i = 0; i < 2; ++i) {
        if (c->fd[i] < 0) continue;
        io_uring_sqe* sqe = Sqe();
        io_uring_prep_close(sqe, c->fd[i]);
        io_uring_sqe_set_data(sqe, &c->close_op[i]);
        ++c->pending;
      }
      if (c->pending != 0) return;
    }
    if (c->state == State::kClosing) FreeConn(c);
  }

  void OnAccept(io_uring_cqe* cqe) {
    if (!(cqe->flags & IORING_CQE_F_MORE)) ArmAccept();
    if (cqe->res < 0) {
      if (cqe->res != -EAGAIN && cqe->res != -ECONNABORTED && cqe->res != -EINTR)
        fprintf(stderr, "ringway-fwd: accept: %s\n", strerror(-cqe->res));
      return;
    }
    int cfd = cqe->res;
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!response.empty()) {
      // Answer from memory: dir[0] receives from the client and sends the
      // fixed response back to it.
      Conn* c = NewConn();
      c->fd[0] = cfd;
      c->state = State::kRelaying;
      c->dir[0].to = &c->fd[0];
      c->dir[0].out = response.data();
      ArmRecv(c, c->dir[0]);
      return;
    }
    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ufd < 0) {
      fprintf(stderr, "ringway-fwd: socket: %s\n", strerror(errno));
      close(cfd);
      return;
    }
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Conn* c = NewConn();
    c->fd[0] = cfd;
    c->fd[1] = ufd;
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_connect(sqe, ufd, reinterpret_cast<sockaddr*>(&upstream),
                          sizeof(upstream));
    io_uring_sqe_set_data(sqe, &c->connect_op);
    ++c->pending;
  }

  void OnConnect(Conn* c, int res) {
    if (c->state != State::kConnecting) return MaybeClose(c);
    if (res < 0) {
      fprintf(stderr, "ringway-fwd: connect upstream: %s\n", strerror(-res));
      return Shutdown(c);
    }
    c->state = State::kRelaying;
    ArmRecv(c, c->dir[0]);
    ArmRecv(c, c->dir[1]);
  }

  void OnRecv(Conn* c, Dir& d, int res) {
    if (c->state != State::kRelaying) return MaybeClose(c);
    if (res <= 0) return Shutdown(c);  // EOF or error on this side
    d.len = response.empty() ? static_cast<uint32_t>(res) : static_cast<uint32_t>(response.size());
    d.sent = 0;
    ArmSend(c, d);
  }

  void OnSend(Conn* c, Dir& d, int res) {
    if (c->state != State::kRelaying) return MaybeClose(c);
    if (res <= 0) return Shutdown(c);
    d.sent += static_cast<uint32_t>(res);
    if (d.sent < d.len) return ArmSend(c, d);  // short send despite WAITALL
    ArmRecv(c, d);
  }

  void Handle(io_uring_cqe* cqe) {
    Op* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
    if (op->kind == OpKind::kAccept) return OnAccept(cqe);
    Conn* c = op->conn;
    --c->pending;
    switch (op->kind) {
      case OpKind::kConnect:
        return OnConnect(c, cqe->res);
      case OpKind::kRecv:
        return OnRecv(c, c->dir[op->index], cqe->res);
      case OpKind::kSend:
        return OnSend(c, c->dir[op->index], cqe->res);
      case OpKind::kCancel:
        // Cancel-by-fd needs Linux 5.19; on older kernels shut the socket
        // down instead, which completes its pending recv/send just the same.
        if (cqe->res == -EINVAL && c->fd[op->index] >= 0) shutdown(c->fd[op->index], SHUT_RDWR);
        return MaybeClose(c);
      case OpKind::kClose:
        c->fd[op->index] = -1;
        return MaybeClose(c);
      case OpKind::kAccept:
        break;
    }
  }

  int Run() {
    ArmAccept();
    for (;;) {
      int ret = io_uring_submit_and_wait(&ring, 1);
      if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
        fprintf(stderr, "ringway-fwd: io_uring_submit_and_wait: %s\n", strerror(-ret));
        return 1;
      }
      io_uring_cqe* cqe;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring, head, cqe) {
        Handle(cqe);
        ++seen;
      }
      io_uring_cq_advance(&ring, seen);
    }
  }
};

// A decimal number from 0 to max; -1 if s is anything else.
long ParseNumber(const char* s, long max) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > max) return -1;
  return v;
}

int ParsePort(const char* s) { return static_cast<int>(ParseNumber(s, 65535)); }

}  // namespace

int main(int argc, char** argv) {
  static Forwarder f;
  bool respond = argc >= 2 && strcmp(argv[1], "--respond") == 0;
  if (argc != (respond ? 4 : 3)) {
    fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_PORT\n"
                    "       %s --respond BODY_BYTES LISTEN_PORT\n", argv[0], argv[0]);
    return 2;
  }
  int lport = ParsePort(argv[respond ? 3 : 1]);
  int uport = respond ? 0 : ParsePort(argv[2]);
  long body = respond ? ParseNumber(argv[2], 1 << 20) : 0;  // --respond: up to 1 MiB
  if (lport < 0 || body < 0 || (!respond && uport <= 0)) {
    fprintf(stderr, "ringway-fwd: bad port or size\n");
    return 2;
  }
  if (respond) {
    // The fields a cache hit carries (Date fixed), so the client reads as
    // much head as from a real cache.
    f.response = "HTTP/1.1 200 OK\r\nServer: ringway-fwd\r\n"
                 "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\n"
                 "Content-Type: application/octet-stream\r\nCache-Control: max-age=3600\r\n"
                 "Age: 0\r\nX-Cache: HIT\r\nContent-Length: " + std::to_string(body) +
                 "\r\n\r\n" + std::string(static_cast<size_t>(body), 'x');
  }
  signal(SIGPIPE, SIG_IGN);

  f.upstream.sin_family = AF_INET;
  f.upstream.sin_port = htons(static_cast<uint16_t>(uport));
  f.upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  f.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (f.listen_fd < 0) {
    perror("ringway-fwd: socket");
    return 1;
  }
  int one = 1;
  setsockopt(f.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(f.listen_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(lport));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(f.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    perror("ringway-fwd: bind");
    return 1;
  }
  if (listen(f.listen_fd, 4096) != 0) {
    perror("ringway-fwd: listen");
    return 1;
  }
  socklen_t alen = sizeof(addr);
  getsockname(f.listen_fd, reinterpret_cast<sockaddr*>(&addr), &alen);

  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int ret = io_uring_queue_init_params(kRingEntries, &f.ring, &params);
  if (ret == -EINVAL) {
    params = io_uring_params{};
    ret = io_uring_queue_init_params(kRingEntries, &f.ring, &params);
  }
  if (ret < 0) {
    fprintf(stderr, "ringway-fwd: io_uring_queue_init: %s\n", strerror(-ret));
    return 1;
  }

  printf("listening 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  return f.Run();
}
