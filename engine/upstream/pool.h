#pragma once
// The bookkeeping of one upstream's connection pool on one worker: which
// connections sit idle on which endpoint, how many are open against the
// limit, and the requests queued for a connection while the pool is at that
// limit (HAProxy's server queue). No I/O and no clock: the proxy opens,
// closes and times connections; this decides which to use. Owned by one
// worker, so nothing in it is shared.
//
// Idle connections are reused most recently parked first: the warmest
// socket serves the next request, and the ones left at the bottom age out
// through the idle timer when traffic drops.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

namespace ringway::upstream {

template <typename Conn, typename Waiter>
class Pool {
 public:
  Pool(size_t endpoints, uint32_t max_open, uint32_t max_idle)
      : idle_(endpoints), max_open_(max_open), max_idle_(max_idle) {}

  // An idle connection to endpoint `ep`, taken out of the pool; null if none.
  Conn* take_idle(uint32_t ep) {
    std::vector<Conn*>& list = idle_[ep];
    if (list.empty()) return nullptr;
    Conn* c = list.back();
    list.pop_back();
    --idle_count_;
    return c;
  }
  // An idle connection to any endpoint (the first endpoint that has one):
  // at the limit, any open connection beats waiting for one.
  Conn* take_any_idle() {
    if (idle_count_ == 0) return nullptr;
    for (uint32_t ep = 0; ep < idle_.size(); ++ep)
      if (!idle_[ep].empty()) return take_idle(ep);
    return nullptr;
  }

  // Parks a connection that can carry another request. False when
  // `max_idle` are parked already: the caller closes it instead.
  bool park(Conn* c, uint32_t ep) {
    if (idle_count_ >= max_idle_) return false;
    idle_[ep].push_back(c);
    ++idle_count_;
    return true;
  }

  bool at_limit() const { return open_ >= max_open_; }
  void opened() { ++open_; }
  // A connection closed; `was_idle`: it was parked (not taken) at the time.
  void closed(Conn* c, uint32_t ep, bool was_idle) {
    if (was_idle && std::erase(idle_[ep], c) > 0) --idle_count_;
    --open_;
  }

  // Queues a request until a connection is idle or one may be opened.
  void wait(Waiter* w) { waiting_.push_back(w); }
  // Takes a request out of the queue (it gave up or was answered otherwise).
  void cancel_wait(Waiter* w) { std::erase(waiting_, w); }
  // The oldest queued request if it can be served now, taken out of the
  // queue; null if none is queued or there is neither an idle connection nor
  // room to open one.
  Waiter* next_servable() {
    if (waiting_.empty() || (idle_count_ == 0 && at_limit())) return nullptr;
    Waiter* w = waiting_.front();
    waiting_.pop_front();
    return w;
  }

  // Every parked connection, for a shutdown that closes them all (the caller
  // reports each back through closed()).
  std::vector<Conn*> idle_connections() const {
    std::vector<Conn*> all;
    for (const auto& list : idle_) all.insert(all.end(), list.begin(), list.end());
    return all;
  }

  uint32_t open() const { return open_; }
  uint32_t idle() const { return idle_count_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  std::vector<std::vector<Conn*>> idle_;  // per endpoint, most recently parked last
  std::deque<Waiter*> waiting_;
  uint32_t max_open_;
  uint32_t max_idle_;
  uint32_t open_ = 0;
  uint32_t idle_count_ = 0;
};

}  // namespace ringway::upstream
