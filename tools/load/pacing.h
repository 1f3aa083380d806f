#pragma once
// The open-loop schedule: when each request is *meant* to be sent. Pure
// arithmetic on nanosecond offsets, no clock, so it is unit-tested directly.
//
// The run as a whole sends request j (j = 0, 1, 2, ...) at start + j / rate.
// Connection c of C (numbered across all threads) owns j = c, c + C, c + 2C,
// ..., so every connection is evenly spaced at C / rate and the connections
// interleave into one even stream. A thread owning connections
// {t, t + T, t + 2T, ...} therefore paces its own share of the rate without
// talking to other threads, and the shares add up to the rate exactly.
//
// Intended times never move: a connection that falls behind (its server is
// slow) keeps the original times of its backlog, and latency is measured from
// them. That is the coordinated-omission correction: a stall shows up as the
// queueing it would cause real users, not as one slow sample.

#include <cstdint>

namespace ringway::load {

class Schedule {
 public:
  // rate > 0 requests per second over `total_connections` connections.
  Schedule(double rate, int total_connections);

  double rate() const { return rate_; }
  int total_connections() const { return connections_; }

  // Offset from the start of the run of the overall j-th request.
  int64_t offset_of(uint64_t j) const;
  // Offset of connection `conn`'s k-th request (k = 0, 1, ...).
  int64_t offset_of(int conn, uint64_t k) const {
    return offset_of(static_cast<uint64_t>(conn) + k * static_cast<uint64_t>(connections_));
  }

  // How many requests of the whole run have an offset < end_ns.
  uint64_t scheduled_before(int64_t end_ns) const;
  // The same for connection `conn` alone.
  uint64_t scheduled_before(int conn, int64_t end_ns) const;

 private:
  double rate_;
  double ns_per_request_;
  uint64_t integer_rate_ = 0;  // the rate when it is a whole number, else 0
  int connections_;
};

// One connection's place in the schedule: the intended time of its next
// request, and how far behind it is.
class Pacer {
 public:
  Pacer() = default;
  Pacer(const Schedule* schedule, int conn, int64_t start_ns)
      : schedule_(schedule), conn_(conn), start_ns_(start_ns) {}

  // Absolute intended send time of the next request not yet taken.
  int64_t next_intended() const { return start_ns_ + schedule_->offset_of(conn_, taken_); }
  // Takes the next request (it is being sent now, however late); returns its
  // intended time.
  int64_t take() {
    const int64_t t = next_intended();
    ++taken_;
    return t;
  }
  uint64_t taken() const { return taken_; }
  // Requests whose intended time is <= now but that are not taken yet: the
  // queue a slow connection builds up.
  uint64_t backlog(int64_t now_ns) const;

 private:
  const Schedule* schedule_ = nullptr;
  int conn_ = 0;
  int64_t start_ns_ = 0;
  uint64_t taken_ = 0;
};

// Connections numbered across threads: thread t of T owns global connections
// t, t + T, t + 2T, ... below `total`. Returns how many thread t owns.
int connections_of_thread(int thread, int threads, int total);
inline int global_connection(int thread, int threads, int local) {
  return thread + local * threads;
}

}  // namespace ringway::load
