#pragma once
// What one client thread counts during a run, and the merged total. Plain
// counters owned by one thread; merged only after the threads are joined.

#include <array>
#include <cstdint>
#include <string>

#include "tools/load/histogram.h"

namespace ringway::load {

struct Counters {
  uint64_t requests = 0;        // responses recorded (any status)
  uint64_t connect_errors = 0;  // connect attempts that failed
  uint64_t read_errors = 0;     // requests lost to a reset or an early close
  uint64_t write_errors = 0;    // requests lost to a failed send
  uint64_t parse_errors = 0;    // requests lost to a malformed response
  uint64_t timeouts = 0;        // requests not answered within --timeout
  uint64_t scheduled = 0;       // open loop: intended sends in the measured window
  uint64_t unsent = 0;          // open loop: due before the end but never sent
  uint64_t connects = 0;        // successful connects, reconnects included
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  // Indexed by status code; llhttp only accepts three-digit codes.
  std::array<uint64_t, 1000> status{};

  uint64_t errors() const { return connect_errors + read_errors + write_errors + parse_errors; }

  void merge(const Counters& o) {
    requests += o.requests;
    connect_errors += o.connect_errors;
    read_errors += o.read_errors;
    write_errors += o.write_errors;
    parse_errors += o.parse_errors;
    timeouts += o.timeouts;
    scheduled += o.scheduled;
    unsent += o.unsent;
    connects += o.connects;
    bytes_read += o.bytes_read;
    bytes_written += o.bytes_written;
    for (size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
  }
};

// Everything the report needs about a finished run.
struct Summary {
  std::string url;
  bool closed = false;
  double target_rate = 0;
  int threads = 1;
  int connections = 1;
  int pipeline = 1;
  double warmup_s = 0;
  double duration_s = 0;  // measured: end of warm-up to the last response
  Counters counters;
  Histogram latency;  // microseconds from intended send to last response byte
  // Requests that got no answer (timeouts, and unsent in open loop), each at
  // how long it had waited when the run gave up on it: a lower bound of the
  // latency it would have had. Kept apart so `latency` stays comparable with
  // wrk2, which leaves them out.
  Histogram unanswered;

  double rate() const { return duration_s > 0 ? counters.requests / duration_s : 0.0; }
};

}  // namespace ringway::load
