#pragma once
// One client thread: its own io_uring (plain submit_and_wait with a timeout,
// no SQPOLL, so an idle generator sleeps), its share of the connections and,
// in open loop, its share of the schedule. Nothing is shared with other
// threads during the run except the relaxed live counters for the progress
// line.

#include <liburing.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tools/load/connection.h"
#include "tools/load/histogram.h"
#include "tools/load/options.h"
#include "tools/load/pacing.h"
#include "tools/load/stats.h"

namespace ringway::load {

inline int64_t mono_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Timeouts and due reconnects are checked this often; a finer check would
// only cost wake-ups, a timeout is not a latency sample.
inline constexpr int64_t kSweepNs = 10'000'000;

// Read-only inputs shared by all client threads.
struct RunPlan {
  const Options* options = nullptr;
  std::vector<std::string> requests;        // rendered wire bytes, used round robin
  std::vector<bool> head_only;              // per request: HEAD (no response body)
  const Schedule* schedule = nullptr;       // null in closed loop
  const std::atomic<bool>* stop = nullptr;  // set on SIGINT/SIGTERM
};

// When the run starts, when recording starts (after warm-up), when sending
// stops. Absolute CLOCK_MONOTONIC nanoseconds, the same for every thread.
struct Timing {
  int64_t start_ns = 0;
  int64_t record_from_ns = 0;
  int64_t end_ns = 0;
};

// Written by one client thread, read by the progress line.
struct alignas(64) LiveCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> timeouts{0};
};

class Client {
 public:
  Client(const RunPlan& plan, int thread_index);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Creates the ring and allocates every connection's buffers.
  bool setup(std::string& error);
  // Connects every connection before the clock starts, until all answered or
  // `deadline_ns`; failed ones are retried during the run.
  void preconnect(int64_t deadline_ns);
  // The run: sends until t.end_ns, then waits up to --timeout for responses
  // still in flight, then closes everything.
  void run(const Timing& t);

  const Counters& counters() const { return counters_; }
  const Histogram& latency() const { return latency_; }
  const Histogram& unanswered() const { return unanswered_; }
  // When the measurement ended: the end of sending or the last response
  // after it, whichever is later (a drain that times out adds nothing).
  int64_t finished_ns() const { return finished_ns_; }
  LiveCounters& live() { return live_; }

 private:
  enum Op : uint8_t { kConnect = 1, kRecv, kSend, kCancel };
  enum class Failure : uint8_t { kQuiet, kConnect, kRead, kWrite, kParse, kTimeout };

  static uint64_t user_data(const Connection& c, Op op) {
    return (static_cast<uint64_t>(c.index) << 8) | op;
  }
  io_uring_sqe* get_sqe();

  void start_connect(Connection& c, int64_t now);
  void arm_recv(Connection& c);
  void flush(Connection& c);
  void try_send(Connection& c);
  void fail(Connection& c, Failure why, int64_t retry_delay_ns);
  void finish_close(Connection& c);
  void wake_at(Connection& c, int64_t due_ns);
  void pop_due(int64_t now);
  void sweep(int64_t now);
  void wait_until(int64_t now, int64_t deadline_ns);
  void process_completions();
  void handle(uint64_t data, int res);
  void on_connect(Connection& c, int res);
  void on_recv(Connection& c, int res);
  void on_send(Connection& c, int res);
  void complete(Connection& c, int status);
  uint64_t measured_in_flight(const Connection& c) const;
  void give_up_on_in_flight(const Connection& c, int64_t now);
  void account_schedule(int64_t stop_ns, int64_t gave_up_ns);
  void close_all();
  void publish();
  bool recording(int64_t now) const { return running_ && now >= timing_.record_from_ns; }

  static int on_headers_complete(llhttp_t* parser);
  static int on_message_complete(llhttp_t* parser);

  const RunPlan& plan_;
  const Options& options_;
  const int thread_index_;
  io_uring ring_{};
  bool ring_ready_ = false;
  llhttp_settings_t settings_{};
  std::vector<Connection> conns_;
  // Min-heap of (due time, connection index): connections with a free slot
  // whose next request is not yet due. Each connection is in it at most once,
  // so the reserved capacity is never exceeded.
  std::vector<std::pair<int64_t, int>> heap_;
  size_t mix_next_ = 0;
  size_t max_request_ = 0;
  uint64_t in_flight_ = 0;  // requests in flight over all connections

  Timing timing_;
  bool running_ = false;   // requests may be sent
  bool stopping_ = false;  // past the end: only collecting answers
  int64_t stop_ns_ = 0;
  int64_t finished_ns_ = 0;
  int64_t last_response_ns_ = 0;

  Counters counters_;
  Histogram latency_;
  Histogram unanswered_;
  LiveCounters live_;
};

}  // namespace ringway::load
