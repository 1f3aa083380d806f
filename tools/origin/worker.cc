#include "tools/origin/worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ringway::origin {
namespace {

constexpr size_t kOutInitial = 16 * 1024;
constexpr size_t kOutShrink = 256 * 1024;
// Bytes one connection may move before yielding to the others in the loop.
constexpr size_t kRunBudget = 4 * 1024 * 1024;
constexpr size_t kMaxWrite = 2 * 1024 * 1024;
constexpr size_t kMinRead = 4096;
constexpr int64_t kLingerMs = 2000;
constexpr uint32_t kListenerTag = 0xffffffffu;
constexpr uint32_t kWakeTag = 0xfffffffeu;
constexpr int kMaxEvents = 256;

uint64_t tag(uint32_t index, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | index;
}

}  // namespace

Worker::Connection::Connection() : in(new char[kInSize]), out(kOutInitial) {}

void Worker::Connection::reset() {
  in_parse = in_end = 0;
  head_start = -1;
  out.clear();
  out.shrink(kOutShrink);
  body = PatternBody();
  route = Route();
  extra_headers.clear();
  raw_head.clear();
  body_bytes = 0;
  head_method = false;
  keep_alive = true;
  http10 = false;
  echo_active = false;
  websocket = ws_partial = false;
  response_started = false;
  readable = write_blocked = rdhup = peer_eof = closing = reset_on_close = false;
  streaming = delay_pending = lingering = scheduled = false;
  timer_deadline = 0;
}

Worker::Worker(int listen_fd, int id, WorkerCounters* counters, int worker_count, bool quiet)
    : listen_fd_(listen_fd), id_(id), counters_(counters), worker_count_(worker_count),
      quiet_(quiet) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = on_message_begin;
  settings_.on_method = on_method;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
}

Worker::~Worker() {
  for (auto& c : connections_) {
    if (c->fd >= 0) ::close(c->fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool Worker::init(std::string& error) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    error = std::string("epoll/eventfd: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: a backlog left after one batch is seen again
  ev.data.u64 = kListenerTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
    error = std::string("epoll_ctl(listener): ") + std::strerror(errno);
    return false;
  }
  ev.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    error = std::string("epoll_ctl(eventfd): ") + std::strerror(errno);
    return false;
  }
  connections_.reserve(1024);
  free_.reserve(1024);
  return true;
}

void Worker::wake() {
  uint64_t one = 1;
  ssize_t r = ::write(wake_fd_, &one, sizeof(one));
  (void)r;
}

int64_t Worker::now_ms() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Worker::refresh_date() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec == date_second_) return;
  date_second_ = ts.tv_sec;
  date_len_ = format_http_date(ts.tv_sec, date_);
}

void Worker::run() {
  epoll_event events[kMaxEvents];
  refresh_date();
  while (!stop_) {
    int timeout = -1;
    if (!ready_.empty()) {
      timeout = 0;
    } else if (!timers_.empty()) {
      int64_t wait = timers_.top().deadline - now_ms();
      timeout = wait <= 0 ? 0 : static_cast<int>(std::min<int64_t>(wait, 60000));
    }
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!quiet_) std::fprintf(stderr, "ringway-origin: epoll_wait: %s\n", std::strerror(errno));
      return;
    }
    refresh_date();
    for (int i = 0; i < n; ++i) {
      uint64_t data = events[i].data.u64;
      uint32_t index = static_cast<uint32_t>(data);
      if (index == kListenerTag) {
        accept_all();
      } else if (index == kWakeTag) {
        stop_ = true;
      } else {
        Connection& c = *connections_[index];
        // Events for a connection closed earlier in this batch are stale.
        if (c.fd < 0 || c.generation != static_cast<uint32_t>(data >> 32)) continue;
        handle(c, events[i].events);
      }
    }
    run_timers();
    run_ready();
  }
}

void Worker::accept_all() {
  for (int i = 0; i < 128; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && reserve_fd_ >= 0) {
        // Out of descriptors: accept and drop one so the level-triggered
        // listener does not spin, then take the spare back.
        ::close(reserve_fd_);
        int victim = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (victim >= 0) ::close(victim);
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && !quiet_) {
        std::fprintf(stderr, "ringway-origin: accept: %s\n", std::strerror(errno));
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    uint32_t index;
    if (free_.empty()) {
      index = static_cast<uint32_t>(connections_.size());
      connections_.push_back(std::make_unique<Connection>());
      connections_.back()->index = index;
      connections_.back()->worker = this;
    } else {
      index = free_.back();
      free_.pop_back();
    }
    Connection& c = *connections_[index];
    c.reset();
    c.fd = fd;
    llhttp_init(&c.parser, HTTP_REQUEST, &settings_);
    c.parser.data = &c;

    // Edge-triggered with both directions registered once: no epoll_ctl per
    // request; readiness is tracked in `readable` / `write_blocked`.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = tag(index, c.generation);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close_now(c);
      continue;
    }
    bump(counters_[id_].accepted);
  }
}

void Worker::handle(Connection& c, uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.rdhup = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c.write_blocked = false;
  drive(c);
}

bool Worker::can_parse(const Connection& c) const {
  return c.in_parse < c.in_end && !c.closing && !c.streaming && !c.delay_pending &&
         !c.ws_partial && c.out.size() < kHighWater;
}

bool Worker::can_read(const Connection& c) const {
  return c.readable && !c.peer_eof && !c.closing && !c.streaming && !c.delay_pending &&
         c.out.size() < kHighWater;
}

void Worker::drive(Connection& c) {
  size_t moved = 0;
  for (;;) {
    if (c.lingering) {
      drain_lingering(c);
      return;
    }
    bool progress = false;
    if (can_parse(c)) {
      process_input(c);
      progress = true;
    }
    // A peer that finished sending still gets answers to everything it sent.
    if (c.peer_eof && !c.closing && (c.in_parse == c.in_end || c.ws_partial)) c.closing = true;
    if (!c.write_blocked && (!c.out.empty() || c.streaming)) {
      ssize_t written = flush(c);
      if (written < 0) {
        close_now(c);
        return;
      }
      moved += static_cast<size_t>(written);
      if (written > 0) progress = true;
    }
    if (c.closing && c.out.empty() && !c.streaming && !c.delay_pending) {
      finish(c);
      return;
    }
    if (moved >= kRunBudget) {
      schedule(c);
      return;
    }
    if (can_read(c)) {
      if (!make_room(c)) {
        if (c.head_start == 0 && c.in_parse == c.in_end) {
          // The head alone fills the input buffer.
          write_error(c.out, 431, std::string_view(date_, date_len_));
          c.closing = true;
          continue;
        }
        if (!progress) return;
        continue;
      }
      const size_t room = kInSize - c.in_end;
      ssize_t n = ::recv(c.fd, c.in.get() + c.in_end, room, 0);
      if (n > 0) {
        // A short read drained the socket: with edge triggering, later data
        // raises a new event, so skip the read that would only say EAGAIN.
        // Not when a FIN is pending, as its edge was already consumed.
        if (static_cast<size_t>(n) < room && !c.rdhup) c.readable = false;
        c.in_end += static_cast<uint32_t>(n);
        c.ws_partial = false;
        moved += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) {
        c.peer_eof = true;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.readable = false;
      } else if (errno == EINTR) {
        continue;
      } else {
        close_now(c);
        return;
      }
    }
    if (!progress) return;
  }
}

bool Worker::make_room(Connection& c) {
  if (c.in_parse == c.in_end && c.head_start < 0) {
    c.in_parse = c.in_end = 0;
    return true;
  }
  if (kInSize - c.in_end >= kMinRead) return true;
  uint32_t keep = c.head_start >= 0 ? static_cast<uint32_t>(c.head_start) : c.in_parse;
  if (keep > 0) {
    // llhttp holds no pointers into the buffer between executes, so sliding is safe.
    std::memmove(c.in.get(), c.in.get() + keep, c.in_end - keep);
    c.in_end -= keep;
    c.in_parse -= keep;
    if (c.head_start >= 0) c.head_start -= static_cast<int32_t>(keep);
  }
  return c.in_end < kInSize;
}

ssize_t Worker::flush(Connection& c) {
  size_t total = 0;
  for (;;) {
    iovec iov[kMaxIov];
    int n = 0;
    if (!c.out.empty()) {
      iov[0].iov_base = const_cast<char*>(c.out.data());
      iov[0].iov_len = c.out.size();
      n = 1;
    }
    if (c.streaming) n += c.body.fill(iov + n, kMaxIov - n, scratch_ + n, kMaxWrite);
    if (n == 0) return static_cast<ssize_t>(total);
    ssize_t w = ::writev(c.fd, iov, n);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.write_blocked = true;
        return static_cast<ssize_t>(total);
      }
      if (errno == EINTR) continue;
      return -1;
    }
    size_t k = static_cast<size_t>(w);
    size_t from_out = std::min(k, c.out.size());
    c.out.consume(from_out);
    k -= from_out;
    if (c.streaming) {
      c.body.consume(k);
      if (c.body.done()) c.streaming = false;
    }
    total += static_cast<size_t>(w);
    if (total >= kRunBudget) return static_cast<ssize_t>(total);
  }
}

void Worker::finish(Connection& c) {
  if (c.reset_on_close) {
    linger lg{1, 0};  // abortive close: the peer sees RST
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close_now(c);
    return;
  }
  if (c.peer_eof) {
    close_now(c);
    return;
  }
  // Closing with unread input would send RST and could destroy the response
  // in flight, so shut the write side and drain until the peer closes.
  ::shutdown(c.fd, SHUT_WR);
  c.lingering = true;
  add_timer(c, now_ms() + kLingerMs);
  drain_lingering(c);
}

void Worker::drain_lingering(Connection& c) {
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(c.fd, c.in.get(), kInSize, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.readable = false;
      return;
    }
    close_now(c);
    return;
  }
  schedule(c);  // a peer still sending; come back after the others
}

void Worker::close_now(Connection& c) {
  ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  ++c.generation;
  c.out.clear();
  c.out.shrink(kOutShrink);
  free_.push_back(c.index);
}

void Worker::schedule(Connection& c) {
  if (c.scheduled) return;
  c.scheduled = true;
  ready_.push_back(tag(c.index, c.generation));
}

void Worker::add_timer(Connection& c, int64_t deadline) {
  c.timer_deadline = deadline;
  timers_.push(Timer{deadline, c.index, c.generation});
}

void Worker::run_timers() {
  if (timers_.empty()) return;
  int64_t now = now_ms();
  while (!timers_.empty() && timers_.top().deadline <= now) {
    Timer t = timers_.top();
    timers_.pop();
    Connection& c = *connections_[t.index];
    if (c.fd < 0 || c.generation != t.generation || c.timer_deadline != t.deadline) continue;
    if (c.lingering) {
      close_now(c);
    } else if (c.delay_pending) {
      c.delay_pending = false;
      Exchange ex = exchange(c);
      ex.delay_elapsed = true;
      Plan plan;
      respond(ex, c.out, plan);
      apply(c, plan);
      drive(c);
    }
  }
}

void Worker::run_ready() {
  if (ready_.empty()) return;
  ready_swap_.clear();
  ready_swap_.swap(ready_);
  for (uint64_t data : ready_swap_) {
    Connection& c = *connections_[static_cast<uint32_t>(data)];
    if (c.fd < 0 || c.generation != static_cast<uint32_t>(data >> 32)) continue;
    c.scheduled = false;
    drive(c);
  }
}

}  // namespace ringway::origin
