#include "tools/load/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

namespace ringway::load {

namespace {

constexpr size_t kRecvBuffer = 16 * 1024;
// A refused connect is retried after this long rather than in a tight loop.
constexpr int64_t kConnectRetryNs = 50'000'000;
// Waits shorter than this are not worth a sleep: the kernel would oversleep.
constexpr int64_t kMinWaitNs = 20'000;

using HeapEntry = std::pair<int64_t, int>;
constexpr auto kHeapOrder = std::greater<HeapEntry>();

}  // namespace

Client::Client(const RunPlan& plan, int thread_index)
    : plan_(plan), options_(*plan.options), thread_index_(thread_index) {}

Client::~Client() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  for (Connection& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

bool Client::setup(std::string& error) {
  const int n = connections_of_thread(thread_index_, options_.threads, options_.connections);
  // Each connection has at most three operations in flight (recv, send,
  // cancel, or connect and cancel); the completion queue is twice this.
  unsigned entries = 64;
  while (entries < 4u * static_cast<unsigned>(n) && entries < 32768) entries <<= 1;
  const int rc = io_uring_queue_init(entries, &ring_, 0);
  if (rc < 0) {
    error = std::string("io_uring_queue_init: ") + std::strerror(-rc);
    return false;
  }
  ring_ready_ = true;
  llhttp_settings_init(&settings_);
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_message_complete = on_message_complete;
  for (const std::string& r : plan_.requests) max_request_ = std::max(max_request_, r.size());
  conns_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Connection& c = conns_[static_cast<size_t>(i)];
    c.client = this;
    c.index = i;
    c.global = global_connection(thread_index_, options_.threads, i);
    c.in.reset(new char[kRecvBuffer]);
    c.ring_cap = static_cast<uint32_t>(options_.pipeline);
    c.ring.reset(new InFlight[c.ring_cap]);
    // Twice the pipeline: a response can free a slot before the completion
    // of the send that carried its request has been seen. At most 4 MiB
    // (try_send waits for room), but always room for the largest request.
    constexpr size_t kMaxOut = 4 << 20;
    c.out.reserve(std::max(max_request_ + 64, std::min(2 * c.ring_cap * max_request_ + 64, kMaxOut)));
  }
  heap_.reserve(static_cast<size_t>(n));
  return true;
}

io_uring_sqe* Client::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Client::start_connect(Connection& c, int64_t now) {
  const Target& target = options_.target;
  // A blocking socket: io_uring drives it asynchronously on its own, and a
  // blocking connect completes with the real result instead of EINPROGRESS.
  const int fd = ::socket(target.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (recording(now)) ++counters_.connect_errors;
    c.state = ConnState::kIdle;
    c.retry_at_ns = now + kConnectRetryNs;
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.fd = fd;
  c.state = ConnState::kConnecting;
  c.connect_started_ns = now;
  c.close_after = false;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&target.addr), target.addr_len);
  io_uring_sqe_set_data64(sqe, user_data(c, kConnect));
  ++c.pending_ops;
}

void Client::arm_recv(Connection& c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv(sqe, c.fd, c.in.get(), kRecvBuffer, 0);
  io_uring_sqe_set_data64(sqe, user_data(c, kRecv));
  c.recv_armed = true;
  ++c.pending_ops;
}

void Client::flush(Connection& c) {
  if (c.send_armed || c.out_sent >= c.out.size()) return;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, user_data(c, kSend));
  c.send_armed = true;
  ++c.pending_ops;
}

void Client::try_send(Connection& c) {
  if (!running_ || stopping_ || c.state != ConnState::kOpen || c.close_after) return;
  const int64_t now = mono_now_ns();
  const bool open_loop = plan_.schedule != nullptr;
  if (!open_loop && now >= timing_.end_ns) return;
  bool queued = false;
  while (!c.ring_full()) {
    // Open loop: the request's time comes from the schedule, however late we
    // are; closed loop: it is simply now.
    int64_t intended = now;
    if (open_loop) {
      intended = c.pacer.next_intended();
      if (intended >= timing_.end_ns) break;  // this connection's share is done
      if (intended > now) {
        wake_at(c, intended);
        break;
      }
    }
    const std::string& request = plan_.requests[mix_next_];
    if (c.out.size() + request.size() > c.out.capacity()) break;  // on_send comes back
    c.out.append(request);
    if (open_loop) c.pacer.take();
    c.push(InFlight{intended, now, plan_.head_only[mix_next_]});
    ++in_flight_;
    if (++mix_next_ == plan_.requests.size()) mix_next_ = 0;
    queued = true;
  }
  if (queued) flush(c);
}

void Client::wake_at(Connection& c, int64_t due_ns) {
  if (c.in_heap) return;
  heap_.emplace_back(due_ns, c.index);
  std::push_heap(heap_.begin(), heap_.end(), kHeapOrder);
  c.in_heap = true;
}

void Client::pop_due(int64_t now) {
  while (!heap_.empty() && heap_.front().first <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), kHeapOrder);
    const int index = heap_.back().second;
    heap_.pop_back();
    Connection& c = conns_[static_cast<size_t>(index)];
    c.in_heap = false;
    try_send(c);
  }
}

void Client::fail(Connection& c, Failure why, int64_t retry_delay_ns) {
  const int64_t now = mono_now_ns();
  const uint64_t lost = measured_in_flight(c);
  if (recording(now)) {
    switch (why) {
      case Failure::kQuiet:
        break;
      case Failure::kConnect:
        ++counters_.connect_errors;
        break;
      case Failure::kRead:
        counters_.read_errors += lost;
        break;
      case Failure::kWrite:
        counters_.write_errors += lost;
        break;
      // Garbage nobody asked for still counts once.
      case Failure::kParse:
        counters_.parse_errors += std::max<uint64_t>(lost, 1);
        break;
      case Failure::kTimeout:
        give_up_on_in_flight(c, now);
        break;
    }
    publish();
  }
  in_flight_ -= c.ring_count;
  c.clear_ring();
  c.out.clear();
  c.out_sent = 0;
  c.close_after = false;
  c.retry_at_ns = now + retry_delay_ns;
  c.state = ConnState::kClosing;
  if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);  // ends a pending recv at once
  if (c.pending_ops == 0) {
    finish_close(c);
    return;
  }
  // A pending connect does not notice shutdown(); cancel whatever is left.
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, user_data(c, kCancel));
  ++c.pending_ops;
}

// Requests in flight on c that belong to the measured window (not warm-up):
// those a failure counts, so requests + errors + timeouts + unsent = scheduled.
uint64_t Client::measured_in_flight(const Connection& c) const {
  uint64_t n = 0;
  for (uint32_t i = 0; i < c.ring_count; ++i)
    if (c.ring[(c.ring_head + i) % c.ring_cap].intended_ns >= timing_.record_from_ns) ++n;
  return n;
}

// Requests of the measured window still unanswered: timed out. (Those of the
// warm-up are left out, as their answers would have been.)
void Client::give_up_on_in_flight(const Connection& c, int64_t now) {
  for (uint32_t i = 0; i < c.ring_count; ++i) {
    const InFlight& f = c.ring[(c.ring_head + i) % c.ring_cap];
    if (f.intended_ns < timing_.record_from_ns) continue;
    ++counters_.timeouts;
    unanswered_.record((now - f.intended_ns + 500) / 1000);
  }
}

void Client::finish_close(Connection& c) {
  if (c.fd >= 0) {
    ::close(c.fd);
    c.fd = -1;
  }
  c.state = ConnState::kIdle;
  const int64_t now = mono_now_ns();
  if (running_ && !stopping_ && now >= c.retry_at_ns) start_connect(c, now);
}

void Client::sweep(int64_t now) {
  for (Connection& c : conns_) {
    switch (c.state) {
      case ConnState::kOpen:
        if (c.ring_count > 0 && now - c.front().sent_ns > options_.timeout_ns) {
          fail(c, Failure::kTimeout, 0);
        }
        break;
      case ConnState::kConnecting:
        if (now - c.connect_started_ns > options_.timeout_ns) {
          fail(c, Failure::kConnect, kConnectRetryNs);
        }
        break;
      case ConnState::kIdle:
        if (running_ && !stopping_ && now >= c.retry_at_ns) start_connect(c, now);
        break;
      case ConnState::kClosing:
        break;
    }
  }
}

void Client::wait_until(int64_t now, int64_t deadline_ns) {
  const int64_t wait = deadline_ns - now;
  if (wait < kMinWaitNs || io_uring_cq_ready(&ring_) > 0) {
    io_uring_submit(&ring_);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = wait / 1'000'000'000;
  ts.tv_nsec = wait % 1'000'000'000;
  io_uring_cqe* cqe = nullptr;
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

void Client::process_completions() {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    handle(cqe->user_data, cqe->res);
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);
}

void Client::handle(uint64_t data, int res) {
  if (data == LIBURING_UDATA_TIMEOUT) return;  // a wait timeout on old kernels
  Connection& c = conns_[static_cast<size_t>(data >> 8)];
  const Op op = static_cast<Op>(data & 0xff);
  --c.pending_ops;
  if (op == kRecv) c.recv_armed = false;
  if (op == kSend) c.send_armed = false;
  if (c.state == ConnState::kClosing) {
    if (c.pending_ops == 0) finish_close(c);
    return;
  }
  switch (op) {
    case kConnect:
      on_connect(c, res);
      break;
    case kRecv:
      on_recv(c, res);
      break;
    case kSend:
      on_send(c, res);
      break;
    case kCancel:
      break;
  }
}

void Client::on_connect(Connection& c, int res) {
  if (res < 0) {
    fail(c, Failure::kConnect, kConnectRetryNs);
    return;
  }
  c.state = ConnState::kOpen;
  c.answered = false;
  ++counters_.connects;
  llhttp_init(&c.parser, HTTP_RESPONSE, &settings_);
  c.parser.data = &c;
  c.out.clear();
  c.out_sent = 0;
  c.clear_ring();
  arm_recv(c);
  try_send(c);
}

void Client::on_recv(Connection& c, int res) {
  if (res <= 0) {
    // EOF ends a body delimited by the close; whatever else is in flight is
    // lost (counted only if something was: an idle close is normal).
    if (res == 0 && c.ring_count > 0) llhttp_finish(&c.parser);
    // A server that closes connections it has not answered on (at capacity,
    // refusing) would otherwise be reconnected to in a tight loop.
    fail(c, Failure::kRead, c.answered ? 0 : kConnectRetryNs);
    return;
  }
  if (recording(mono_now_ns())) counters_.bytes_read += static_cast<uint64_t>(res);
  const llhttp_errno_t err = llhttp_execute(&c.parser, c.in.get(), static_cast<size_t>(res));
  if (c.close_after) {
    // The server said Connection: close; anything pipelined behind is lost.
    fail(c, Failure::kRead, 0);
    return;
  }
  if (err != HPE_OK) {
    fail(c, Failure::kParse, 0);
    return;
  }
  arm_recv(c);
  try_send(c);
}

void Client::on_send(Connection& c, int res) {
  if (res < 0) {
    fail(c, Failure::kWrite, 0);
    return;
  }
  if (recording(mono_now_ns())) counters_.bytes_written += static_cast<uint64_t>(res);
  c.out_sent += static_cast<size_t>(res);
  if (c.out_sent == c.out.size()) {
    c.out.clear();
    c.out_sent = 0;
  }
  flush(c);
  try_send(c);
}

void Client::complete(Connection& c, int status) {
  const InFlight f = c.pop();
  --in_flight_;
  c.answered = true;
  const int64_t now = mono_now_ns();
  last_response_ns_ = now;
  if (!running_ || f.intended_ns < timing_.record_from_ns) return;  // warm-up
  ++counters_.requests;
  ++counters_.status[status >= 0 && status < 1000 ? status : 0];
  latency_.record((now - f.intended_ns + 500) / 1000);
  live_.requests.store(counters_.requests, std::memory_order_relaxed);
}

int Client::on_headers_complete(llhttp_t* parser) {
  Connection& c = *static_cast<Connection*>(parser->data);
  // Returning 1 tells llhttp the response has no body: the answer to HEAD,
  // and 1xx, 204 and 304 whatever their Content-Length says (RFC 9110 6.4.1;
  // this llhttp leaves 204 and 304 to us).
  const int status = parser->status_code;
  if (status < 200 || status == 204 || status == 304) return 1;
  return c.ring_count > 0 && c.front().head_only ? 1 : 0;
}

int Client::on_message_complete(llhttp_t* parser) {
  Connection& c = *static_cast<Connection*>(parser->data);
  const int status = parser->status_code;
  if (status >= 100 && status < 200 && status != 101) return 0;  // interim, the answer follows
  if (c.ring_count == 0) return -1;  // a response to nothing: a parse error
  c.client->complete(c, status);
  if (!llhttp_should_keep_alive(parser)) c.close_after = true;
  return 0;
}

void Client::publish() {
  live_.errors.store(counters_.errors(), std::memory_order_relaxed);
  live_.timeouts.store(counters_.timeouts, std::memory_order_relaxed);
}

}  // namespace ringway::load
