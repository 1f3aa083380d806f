// The phases of a client thread's run: connect before the clock starts, the
// paced loop, the drain after the end, the schedule accounting, the close.
// (client.cc holds the per-connection I/O these phases drive.)

#include <sys/prctl.h>

#include <algorithm>

#include "tools/load/client.h"

namespace ringway::load {

namespace {

constexpr int64_t kCloseGraceNs = 1'000'000'000;

}  // namespace

void Client::preconnect(int64_t deadline_ns) {
  int64_t now = mono_now_ns();
  for (Connection& c : conns_) start_connect(c, now);
  while (true) {
    const bool busy = std::any_of(conns_.begin(), conns_.end(), [](const Connection& c) {
      return c.state == ConnState::kConnecting || c.state == ConnState::kClosing;
    });
    now = mono_now_ns();
    if (!busy || now >= deadline_ns) return;
    wait_until(now, std::min(deadline_ns, now + kSweepNs));
    process_completions();
  }
}

void Client::run(const Timing& t) {
  // Sleeps end on time to the microsecond instead of the default 50 us slack:
  // a late wake-up is a late send, and it would show in the latency.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  timing_ = t;
  // Closed loop sends at once, so nothing may go out before the common start
  // (it would reach the server without being recorded).
  for (int64_t now = mono_now_ns(); now < t.start_ns; now = mono_now_ns()) {
    wait_until(now, t.start_ns);
    process_completions();
  }
  running_ = true;
  stopping_ = false;
  if (plan_.schedule != nullptr) {
    for (Connection& c : conns_) c.pacer = Pacer(plan_.schedule, c.global, t.start_ns);
  }
  int64_t now = mono_now_ns();
  for (Connection& c : conns_) {
    if (c.state == ConnState::kOpen) {
      try_send(c);
    } else if (c.state == ConnState::kIdle) {
      start_connect(c, now);
    }
  }
  int64_t next_sweep = now + kSweepNs;
  int64_t drain_deadline = 0;
  while (true) {
    now = mono_now_ns();
    // Before the end check: a wake-up that lands just past the end still
    // sends what was due before it (late, and measured as late).
    if (!stopping_) pop_due(now);
    if (!stopping_ && (now >= t.end_ns || plan_.stop->load(std::memory_order_relaxed))) {
      // Past the end: nothing more is sent; answers still in flight get up
      // to --timeout to arrive and are recorded like any other.
      stopping_ = true;
      stop_ns_ = std::min(now, t.end_ns);
      drain_deadline = now + options_.timeout_ns;
      for (const auto& entry : heap_) conns_[static_cast<size_t>(entry.second)].in_heap = false;
      heap_.clear();
    }
    if (stopping_ && (in_flight_ == 0 || now >= drain_deadline)) break;
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + kSweepNs;
    }
    int64_t deadline = next_sweep;
    if (!stopping_) {
      deadline = std::min(deadline, t.end_ns);
      if (!heap_.empty()) deadline = std::min(deadline, heap_.front().first);
    } else {
      deadline = std::min(deadline, drain_deadline);
    }
    wait_until(mono_now_ns(), deadline);
    process_completions();
  }
  finished_ns_ = std::max(stop_ns_, last_response_ns_);
  // Still unanswered after the drain: they timed out.
  if (recording(now)) {
    for (const Connection& c : conns_) give_up_on_in_flight(c, now);
  }
  account_schedule(stop_ns_, now);
  close_all();
  publish();
}

void Client::account_schedule(int64_t stop_ns, int64_t gave_up_ns) {
  if (plan_.schedule == nullptr) return;
  const Schedule& s = *plan_.schedule;
  for (const Connection& c : conns_) {
    const uint64_t due = s.scheduled_before(c.global, stop_ns - timing_.start_ns);
    const uint64_t warm = s.scheduled_before(c.global, timing_.record_from_ns - timing_.start_ns);
    counters_.scheduled += due > warm ? due - warm : 0;
    // Due before the end but never sent: the backlog of a server that could
    // not keep up. Reported, never silently dropped; each one had waited at
    // least from its intended time until the run gave up. (One step each:
    // even tens of millions take well under a second, once, at the end.)
    for (uint64_t k = std::max(c.pacer.taken(), warm); k < due; ++k) {
      ++counters_.unsent;
      const int64_t intended = timing_.start_ns + s.offset_of(c.global, k);
      unanswered_.record((gave_up_ns - intended + 500) / 1000);
    }
  }
}

void Client::close_all() {
  stopping_ = true;
  for (Connection& c : conns_) {
    in_flight_ -= c.ring_count;
    c.clear_ring();
    if (c.state == ConnState::kOpen || c.state == ConnState::kConnecting) {
      fail(c, Failure::kQuiet, 0);
    }
  }
  io_uring_submit(&ring_);
  const int64_t deadline = mono_now_ns() + kCloseGraceNs;
  while (true) {
    const bool busy = std::any_of(conns_.begin(), conns_.end(),
                                  [](const Connection& c) { return c.pending_ops > 0; });
    const int64_t now = mono_now_ns();
    if (!busy || now >= deadline) return;
    wait_until(now, std::min(deadline, now + kSweepNs));
    process_completions();
  }
}

}  // namespace ringway::load
