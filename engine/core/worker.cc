#include "engine/core/worker.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "engine/core/io_tag.h"

namespace ringway::core {

namespace {
int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no syscall; ~4 ms resolution is plenty
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}
}  // namespace

Worker::Worker(int index, int cpu, Snapshot snapshot, std::vector<int> listen_fds)
    : index_(index), cpu_(cpu), snapshot_(std::move(snapshot)) {
  listeners_.resize(listen_fds.size());
  for (size_t i = 0; i < listen_fds.size(); ++i) listeners_[i].fd = listen_fds[i];
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
}

Worker::~Worker() {
  join();
  for (auto& l : listeners_)
    if (l.fd >= 0) close(l.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool Worker::start(std::string* error) {
  thread_ = std::thread([this] { run(); });
  started_.wait(0);
  if (started_.load() < 0) {
    *error = start_error_;
    return false;
  }
  return true;
}

void Worker::request_drain() {
  command_.store(1);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Worker::start_accepting() {
  accept_go_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Worker::wait_accepts_released(std::chrono::milliseconds max) const {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (!accepts_released_.load(std::memory_order_acquire) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

void Worker::request_stop() {
  command_.store(2);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Worker::hand_over(std::vector<proxy::LeftState> left) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    for (auto& l : left) inbox_.push_back(std::move(l));
  }
  inbox_ready_.store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Worker::adopt_handed_over() {
  std::vector<proxy::LeftState> inbox;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox.swap(inbox_);
    inbox_ready_.store(false, std::memory_order_relaxed);
  }
  proxy_->adopt_filter_states(inbox);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<int> Worker::listen_fds() const {
  std::vector<int> fds;
  for (const auto& l : listeners_) fds.push_back(l.fd);
  return fds;
}

void Worker::arm_accept(ListenSocket& l) {
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_multishot_accept(sqe, l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag(&l, Op::kAccept));
  l.accepting = true;
}

void Worker::arm_wake() {
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  io_uring_sqe_set_data64(sqe, tag(this, Op::kWake));
}

// An accept still armed must see its cancellation through before the ring
// goes: a listening socket a next generation shares would otherwise keep this
// ring's wait entry, which can swallow the wake-up for a connection.
bool Worker::accepting() const {
  return std::any_of(listeners_.begin(), listeners_.end(),
                     [](const ListenSocket& l) { return l.accepting; });
}

// Draining, and the last accept's cancellation has come back: no wake-up for
// a connection can reach this ring any more (Server::reload waits for this).
void Worker::release_accepts_if_done() {
  if (draining_ && !accepting()) accepts_released_.store(true, std::memory_order_release);
}

// Cancels the accepts and closes this worker's descriptor of each listening
// socket. Where nothing else holds the socket (a shutdown), it closes: queued
// and new connections are refused at once instead of waiting for the exit.
// After a reload the next generation's worker holds a duplicate and takes
// over accepting from the same socket once this worker's accept is cancelled
// (Server::reload), so nothing queued in it is lost.
void Worker::stop_listening() {
  for (auto& l : listeners_) {
    if (l.fd < 0) continue;
    io_uring_sqe* sqe = ring_.sqe();
    io_uring_prep_cancel64(sqe, tag(&l, Op::kAccept), 0);
    io_uring_sqe_set_data64(sqe, 0);
    close(l.fd);  // an armed accept holds its own reference until cancelled
    l.fd = -1;
  }
}

void Worker::handle(const io_uring_cqe* cqe) {
  uint64_t ud = cqe->user_data;
  switch (op_of(ud)) {
    case Op::kIgnore:
      return;
    case Op::kAccept: {
      ListenSocket* l = object_of<ListenSocket>(ud);
      if (cqe->res >= 0) proxy_->on_accept(cqe->res);
      if (!(cqe->flags & IORING_CQE_F_MORE)) {
        l->accepting = false;
        if (!draining_ && l->fd >= 0) arm_accept(*l);
        release_accepts_if_done();
      }
      // At capacity the listener keeps accepting and the proxy closes the
      // newcomers at once: a refusal the client sees, instead of a queue.
      return;
    }
    case Op::kClientRecv:
      proxy_->on_client_recv(object_of<proxy::ClientConn>(ud), cqe);
      return;
    case Op::kClientSend:
      proxy_->on_client_send(object_of<proxy::ClientConn>(ud), cqe->res);
      return;
    case Op::kUpstreamRecv:
      proxy_->on_upstream_recv(object_of<proxy::UpstreamConn>(ud), cqe);
      return;
    case Op::kUpstreamSend:
      proxy_->on_upstream_send(object_of<proxy::UpstreamConn>(ud), cqe->res);
      return;
    case Op::kUpstreamConnect:
      proxy_->on_upstream_connect(object_of<proxy::UpstreamConn>(ud), cqe->res);
      return;
    case Op::kFetchConnect:
      proxy_->on_fetch_connect(object_of<proxy::FetchConn>(ud), cqe->res);
      return;
    case Op::kFetchRecv:
      proxy_->on_fetch_recv(object_of<proxy::FetchConn>(ud), cqe);
      return;
    case Op::kFetchSend:
      proxy_->on_fetch_send(object_of<proxy::FetchConn>(ud), cqe->res);
      return;
    case Op::kWake: {
      if (accept_go_.exchange(false) && !draining_) {
        for (auto& l : listeners_)
          if (l.fd >= 0 && !l.accepting) arm_accept(l);
      }
      int cmd = command_.load();
      if (cmd >= 1 && !draining_) {
        draining_ = true;
        drain_deadline_ = monotonic_ms() + snapshot_.config->engine.drain_timeout.count();
        stop_listening();
        proxy_->begin_drain();
        release_accepts_if_done();
      }
      if (cmd == 2) drain_deadline_ = 0;
      arm_wake();
      return;
    }
  }
}

// Batching saves the sleeps and wake-ups of a worker that has many requests
// to serve; at low rates it would only add latency, and long streams pay for
// it on every step (docs/benchmarks.md). So it follows this worker's request
// rate, measured over 100 ms windows, which batching itself does not change.
void Worker::update_batching(int64_t now) {
  if (!ring_.batching()) return;
  constexpr int64_t kWindowMs = 100;
  if (now - rate_window_start_ms_ < kWindowMs) return;
  uint64_t requests = proxy_->request_count();
  uint64_t per_second =
      (requests - rate_window_requests_) * 1000 / static_cast<uint64_t>(now - rate_window_start_ms_);
  batch_now_ = per_second >= snapshot_.config->engine.batch_min_rps;
  rate_window_start_ms_ = now;
  rate_window_requests_ = requests;
}

// The buffer ring hands buffers out in FIFO order, so under load every buffer
// gets touched and the pool's pages stay resident. When the worker has been
// quiet for a second, the pages go back to the kernel and are faulted in again
// as traffic returns. Safe only with DEFER_TASKRUN: then the kernel writes
// receive buffers only inside our io_uring_enter, and every buffer it wrote
// has a completion we have already reaped (no buffer held means none in use).
void Worker::maybe_trim_buffers(unsigned completions, int64_t now) {
  if (completions > 0) {
    last_busy_ms_ = now;
    buffers_trimmed_ = false;
    return;
  }
  if (buffers_trimmed_ || now - last_busy_ms_ < 1000) return;
  if (client_buffers_.available() != client_buffers_.count() ||
      upstream_buffers_.available() != upstream_buffers_.count())
    return;
  proxy_->trim_memory();
  if (!deferred_taskrun_) {
    buffers_trimmed_ = true;
    return;
  }
  if (IO_URING_READ_ONCE(*ring_.raw()->sq.kflags) & IORING_SQ_CQ_OVERFLOW) return;
  client_buffers_.trim();
  upstream_buffers_.trim();
  buffers_trimmed_ = true;
}

void Worker::run() {
  if (cpu_ >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu_, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  std::string error;
  const auto& e = snapshot_.config->engine;
  if (!ring_.init(e.ring_entries, e.cq_entries, {e.batch_completions, e.batch_wait}, &error) ||
      !client_buffers_.init(ring_.raw(), 0, e.buffer_count, e.buffer_size, &error) ||
      !upstream_buffers_.init(ring_.raw(), 1, e.buffer_count, e.buffer_size, &error)) {
    start_error_ = "worker " + std::to_string(index_) + ": " + error;
    accepts_released_.store(true, std::memory_order_release);
    finished_.store(true);
    started_.store(-1);
    started_.notify_all();
    return;
  }
  ring_mode_ = ring_.mode();
  deferred_taskrun_ = ring_mode_.find("defer_taskrun") != std::string::npos;
  proxy_ = std::make_unique<proxy::Proxy>(ring_, client_buffers_, upstream_buffers_,
                                          snapshot_.config, snapshot_.router, snapshot_.filters,
                                          static_cast<uint32_t>(index_));
  if (proxy_->fixed_file_slots() > 0)
    ring_mode_ += ", " + std::to_string(proxy_->fixed_file_slots()) + " registered file slots";
  arm_wake();
  batch_now_ = ring_.batching() && e.batch_min_rps == 0;
  started_.store(1);
  started_.notify_all();

  for (;;) {
    int64_t now = monotonic_ms();
    int64_t deadline = proxy_->next_deadline();
    if (draining_) deadline = std::min(deadline, drain_deadline_);
    int64_t wait = std::clamp<int64_t>(deadline - now, 0, 1000);
    ++loop_turns_;
    if (ring_.submit_and_wait(std::chrono::milliseconds(wait), batch_now_)) ++batched_turns_;
    proxy_->set_now(monotonic_ms());
    proxy_->run_deferred_bodies();
    // Before this turn's completions: a request that arrived after the
    // hand-over was posted already sees what it brought.
    if (inbox_ready_.load(std::memory_order_acquire)) adopt_handed_over();
    unsigned completions = ring_.reap([this](const io_uring_cqe* cqe) { handle(cqe); });
    proxy_->run_resumed();
    proxy_->expire_timers();
    proxy_->collect_garbage();
    proxy_->relieve_buffers();  // before the flushes: what it frees is published now
    client_buffers_.flush();
    upstream_buffers_.flush();
    proxy_->rearm_starved();
    maybe_trim_buffers(completions, monotonic_ms());
    update_batching(now);
    if (draining_ && !accepting() &&
        (proxy_->client_count() == 0 || monotonic_ms() >= drain_deadline_))
      break;
  }
  // The closes the last turn queued go out now: the process may run on for
  // long after this worker (a reload), and its clients must see them.
  ring_.submit();
  stats_ = proxy_->stats();
  stats_.loop_turns = loop_turns_;
  stats_.batched_turns = batched_turns_;
  left_ = proxy_->leave_filter_states();
  proxy_.reset();
  accepts_released_.store(true, std::memory_order_release);
  finished_.store(true);
}

}  // namespace ringway::core
