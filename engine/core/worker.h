#pragma once
// A worker: one thread pinned to one CPU, owning one io_uring, its receive
// buffers, its own SO_REUSEPORT listening sockets and everything the proxy
// keeps per connection. Other threads reach it only through its eventfd.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/snapshot.h"
#include "engine/proxy/proxy.h"

namespace ringway::core {

class Worker {
 public:
  // Takes ownership of listen_fds (one per listener of the config).
  Worker(int index, int cpu, Snapshot snapshot, std::vector<int> listen_fds);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once the ring is set up (false + error if not).
  // The worker does not accept connections until start_accepting().
  bool start(std::string* error);
  // Arms the accepts on this worker's listening sockets (any thread).
  void start_accepting();
  // Asks the worker to drain and exit (any thread).
  void request_drain();
  // Asks the worker to stop at once (any thread).
  void request_stop();
  // After request_drain(): returns once this worker's accepts are cancelled
  // and seen through (or it finished), or after `max`.
  void wait_accepts_released(std::chrono::milliseconds max) const;
  void join();
  // The thread has finished (drained or stopped); join() will not block.
  bool finished() const { return finished_.load(); }
  // This worker's listening sockets, in config order (-1 once closed).
  std::vector<int> listen_fds() const;

  const proxy::ProxyStats& stats() const { return stats_; }
  const std::string& ring_mode() const { return ring_mode_; }
  int index() const { return index_; }
  const Snapshot& snapshot() const { return snapshot_; }

  // Reload hand-over: what this worker's filters left behind when it
  // finished (see Proxy::leave_filter_states); call after join().
  std::vector<proxy::LeftState> take_left() { return std::move(left_); }
  // Gives this (running) worker what a finished worker of a previous
  // generation left, for its filters to adopt on its own thread (any thread).
  void hand_over(std::vector<proxy::LeftState> left);

 private:
  struct alignas(16) ListenSocket {
    int fd = -1;
    bool accepting = false;
  };

  void run();
  void arm_accept(ListenSocket& l);
  void arm_wake();
  void handle(const io_uring_cqe* cqe);
  void stop_listening();
  bool accepting() const;  // an accept is armed (or its cancellation unseen)
  void release_accepts_if_done();
  void maybe_trim_buffers(unsigned completions, int64_t now);
  void update_batching(int64_t now);
  void adopt_handed_over();

  int index_;
  int cpu_;
  Snapshot snapshot_;
  std::vector<ListenSocket> listeners_;
  int wake_fd_ = -1;
  alignas(16) uint64_t wake_value_ = 0;
  std::atomic<int> command_{0};  // 1 = drain, 2 = stop
  std::atomic<bool> accept_go_{false};          // start_accepting() was called
  std::atomic<bool> accepts_released_{false};  // draining, no accept armed any more

  Ring ring_;
  BufferRing client_buffers_;    // receives from clients
  BufferRing upstream_buffers_;  // receives from upstreams
  std::unique_ptr<proxy::Proxy> proxy_;
  bool draining_ = false;
  bool deferred_taskrun_ = false;
  bool buffers_trimmed_ = true;
  int64_t last_busy_ms_ = 0;
  int64_t drain_deadline_ = 0;
  // Completion batching engages while this worker serves enough requests.
  bool batch_now_ = false;
  int64_t rate_window_start_ms_ = 0;
  uint64_t rate_window_requests_ = 0;
  uint64_t loop_turns_ = 0;
  uint64_t batched_turns_ = 0;
  proxy::ProxyStats stats_;
  std::string ring_mode_;
  std::vector<proxy::LeftState> left_;

  // Hand-overs from the main thread (rare: one per reload): a locked inbox,
  // and a flag the loop reads once per turn.
  std::mutex inbox_mutex_;
  std::vector<proxy::LeftState> inbox_;
  std::atomic<bool> inbox_ready_{false};

  std::thread thread_;
  std::atomic<int> started_{0};  // 1 ok, -1 failed
  std::atomic<bool> finished_{false};
  std::string start_error_;
};

}  // namespace ringway::core
