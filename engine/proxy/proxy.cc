// Proxy lifecycle: per-worker pools of connection and exchange objects,
// timer lists, draining.

#include "engine/proxy/proxy.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "engine/http/http_date.h"

namespace ringway::proxy {

UpstreamPool::UpstreamPool(const config::Upstream& u)
    : config(&u),
      balancer(u),
      conns(u.endpoints.size(), u.max_connections_per_worker, u.max_idle_per_worker),
      health(u.endpoints.size(), u.max_fails, u.fail_timeout.count()),
      queue_timer(core::TimerKind::kUpstreamQueue, u.connect_timeout.count()),
      connect_timer(core::TimerKind::kUpstreamConnect, u.connect_timeout.count()),
      response_timer(core::TimerKind::kUpstreamResponse, u.response_header_timeout.count()),
      idle_timer(core::TimerKind::kUpstreamIdle, u.idle_timeout.count()) {}

Proxy::Proxy(core::Ring& ring, core::BufferRing& client_buffers,
             core::BufferRing& upstream_buffers, config::ConfigPtr config,
             std::shared_ptr<const routing::Router> router, filter::FilterSetPtr filters,
             uint32_t worker_index)
    : ring_(ring),
      client_buffers_(client_buffers),
      upstream_buffers_(upstream_buffers),
      config_(std::move(config)),
      router_(std::move(router)),
      worker_index_(worker_index),
      filters_(std::move(filters)),
      // The engine's own fetches (jwks_url) get this long from connect to
      // their last byte.
      fetch_timer_(core::TimerKind::kFetch, 10'000),
      header_timer_(core::TimerKind::kClientHeader, config_->limits.client_header_timeout.count()),
      body_timer_(core::TimerKind::kClientBody, config_->limits.client_body_timeout.count()),
      idle_timer_(core::TimerKind::kClientIdle, config_->limits.idle_timeout.count()),
      send_timer_(core::TimerKind::kClientSend, config_->limits.send_timeout.count()),
      // A closing connection reads and discards for this long at most.
      linger_timer_(core::TimerKind::kClientLinger, 2000),
      tunnel_timer_(core::TimerKind::kTunnelIdle, config_->limits.tunnel_idle_timeout.count()) {
  head_limits_.max_start_line = config_->limits.max_request_line;
  head_limits_.max_header_bytes = config_->limits.max_header_bytes;
  for (const auto& u : config_->upstreams) pools_.push_back(std::make_unique<UpstreamPool>(u));
  if (filters_) {
    for (const auto& f : filters_->filters) filter_states_.push_back(f->make_worker_state(worker_index_));
    for (const auto& chain : filters_->routes) {
      route_states_.emplace_back();
      for (uint32_t id : chain.ids) route_states_.back().push_back(filter_states_[id].get());
    }
    // Every state's on_timer runs at the first loop turn.
    filter_wake_.assign(filter_states_.size(), 0);
  }
  if (config_->engine.registered_files) {
    // One slot per connection the limits allow, within the fd limit (the
    // kernel caps the table there). Connections beyond it use plain fds.
    uint64_t want = config_->limits.max_connections_per_worker;
    for (const auto& u : config_->upstreams) want += u.max_connections_per_worker;
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    uint32_t slots = static_cast<uint32_t>(std::min<uint64_t>(want, nofile.rlim_cur));
    if (slots > 0 && io_uring_register_files_sparse(ring_.raw(), slots) == 0) {
      slot_fds_.assign(slots, -1);
      for (uint32_t i = slots; i > 0; --i) free_slots_.push_back(static_cast<int32_t>(i - 1));
    }
  }
}

Proxy::~Proxy() {
  // The worker is stopping and its ring goes with it: close what is left.
  for (auto& c : all_clients_)
    if (c->fd >= 0) ::close(c->fd);
  for (auto& u : all_upstreams_)
    if (u->fd >= 0) ::close(u->fd);
  // Fetches still under way are dropped: their callbacks never run.
  for (auto& f : fetches_)
    if (f->fd >= 0) ::close(f->fd);
}

ClientConn* Proxy::new_client() {
  ClientConn* c;
  if (!free_clients_.empty()) {
    c = free_clients_.back();
    free_clients_.pop_back();
  } else {
    all_clients_.push_back(std::make_unique<ClientConn>());
    c = all_clients_.back().get();
  }
  c->timer.owner = c;
  return c;
}

void Proxy::free_client(ClientConn* c) {
  c->~ClientConn();
  new (c) ClientConn();
  free_clients_.push_back(c);
}

UpstreamConn* Proxy::new_upstream() {
  UpstreamConn* u;
  if (!free_upstreams_.empty()) {
    u = free_upstreams_.back();
    free_upstreams_.pop_back();
  } else {
    all_upstreams_.push_back(std::make_unique<UpstreamConn>());
    u = all_upstreams_.back().get();
  }
  u->timer.owner = u;
  return u;
}

void Proxy::free_upstream(UpstreamConn* u) {
  u->~UpstreamConn();
  new (u) UpstreamConn();
  free_upstreams_.push_back(u);
}

Exchange* Proxy::new_exchange(ClientConn* c) {
  Exchange* ex = free_exchanges_;
  if (ex != nullptr) {
    free_exchanges_ = ex->next_free;
  } else {
    all_exchanges_.push_back(std::make_unique<Exchange>());
    ex = all_exchanges_.back().get();
  }
  ex->client = c;
  ex->config = config_;
  ex->request.reset(head_limits_);
  ex->response.reset(head_limits_);
  return ex;
}

std::vector<LeftState> Proxy::leave_filter_states() {
  std::vector<LeftState> left;
  for (size_t i = 0; i < filter_states_.size(); ++i) {
    if (!filter_states_[i]) continue;
    if (auto state = filter_states_[i]->leave())
      left.push_back({config_->filters[i].name, config_->filters[i].type, filters_->filters[i], std::move(state)});
  }
  return left;
}

void Proxy::adopt_filter_states(std::vector<LeftState>& left) {
  for (LeftState& l : left) {
    size_t i = config_->find_filter(l.name, l.type);
    if (i >= filter_states_.size() || !filter_states_[i]) continue;
    filters_->filters[i]->adopt(*filter_states_[i], *l.filter, *l.state);
    filter_wake_[i] = 0;  // its on_timer runs next turn (adopt's longer work)
  }
}

ProxyStats Proxy::stats() const {
  ProxyStats s = stats_;
  std::vector<std::pair<std::string_view, uint64_t>> counters;
  for (size_t i = 0; i < filter_states_.size(); ++i) {
    if (!filter_states_[i]) continue;
    counters.clear();
    filter_states_[i]->report(counters);
    for (const auto& [name, value] : counters)
      s.filters.emplace_back(config_->filters[i].name + "." + std::string(name), value);
  }
  return s;
}

std::string_view Proxy::http_date() {
  const int64_t second = unix_ms_ / 1000;
  if (second != date_second_) {
    date_ = http::format_http_date(second);
    date_second_ = second;
  }
  return date_;
}

void Proxy::set_now(int64_t now_ms) {
  now_ms_ = now_ms;
  rewrite_budget_ = kRewriteBytesPerTurn;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  unix_ms_ = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

void Proxy::free_exchange(Exchange* ex) {
  if (ex->chain != nullptr) {
    run_log_filters(ex);
    ex->ctx.reset();
    ex->chain = nullptr;
    ex->filter_pos = 0;
    ex->suspended = ex->body_rewritten = ex->chunked_out = ex->body_deferred = false;
    ex->body_watchers = 0;
    ex->local_body.clear();
  }
  ++ex->generation;
  // Reset field by field: the head readers and strings keep their capacity.
  ex->client = nullptr;
  ex->upstream = nullptr;
  ex->config.reset();
  ex->route = nullptr;
  ex->head.headers.clear();
  ex->head.path.clear();
  ex->head.query = {};
  ex->head.host = {};
  ex->request_framing = http::BodyFraming::kNone;
  ex->request_left = 0;
  ex->request_done = false;
  ex->framing_known = false;
  ex->head_request = false;
  ex->http10 = false;
  ex->keep_alive = true;
  ex->expect_continue = false;
  ex->attempts = 0;
  ex->failed_connects = 0;
  ex->failed_endpoints = 0;
  ex->queued = false;
  ex->response_framing = http::BodyFraming::kNone;
  ex->response_left = 0;
  ex->response_started = false;
  ex->response_done = false;
  ex->response_bytes = false;
  ex->interim_queued = false;
  ex->tunnel = false;
  ex->head.upgrade = false;
  ex->next_free = free_exchanges_;
  free_exchanges_ = ex;
}

int64_t Proxy::next_deadline() const {
  if (!resumed_.empty() || !deferred_bodies_.empty()) return now_ms_;
  int64_t d = fetch_timer_.next_deadline();
  for (size_t i = 0; i < filter_wake_.size(); ++i)
    if (filter_states_[i]) d = std::min(d, filter_wake_[i]);
  for (const core::TimerList* l :
       {&header_timer_, &body_timer_, &idle_timer_, &send_timer_, &linger_timer_, &tunnel_timer_})
    d = std::min(d, l->next_deadline());
  // A low ring is looked at again soon even when no completion comes: its
  // starved receives wait on what relief frees.
  if (relief_wanted()) d = std::min(d, next_relief_ms_);
  for (const auto& p : pools_) {
    d = std::min(d, p->queue_timer.next_deadline());
    d = std::min(d, p->connect_timer.next_deadline());
    d = std::min(d, p->response_timer.next_deadline());
    d = std::min(d, p->idle_timer.next_deadline());
  }
  return d;
}

void Proxy::expire_timers() {
  for (core::TimerList* l :
       {&header_timer_, &body_timer_, &idle_timer_, &send_timer_, &linger_timer_, &tunnel_timer_}) {
    while (core::TimerNode* n = l->pop_expired(now_ms_))
      on_client_timeout(static_cast<ClientConn*>(n->owner), l->kind());
  }
  while (core::TimerNode* n = fetch_timer_.pop_expired(now_ms_))
    finish_fetch(static_cast<FetchConn*>(n->owner), 0);
  run_filter_timers();
  for (auto& p : pools_) {
    while (core::TimerNode* n = p->queue_timer.pop_expired(now_ms_))
      on_client_timeout(static_cast<ClientConn*>(n->owner), core::TimerKind::kUpstreamQueue);
    for (core::TimerList* l : {&p->connect_timer, &p->response_timer, &p->idle_timer}) {
      while (core::TimerNode* n = l->pop_expired(now_ms_))
        on_upstream_timeout(static_cast<UpstreamConn*>(n->owner), l->kind());
    }
  }
}

void Proxy::begin_drain() {
  draining_ = true;
  // Idle keep-alive connections close now: their clients retry a request
  // that crosses the close (RFC 9112 9.3.1). A connection that has not had
  // its first request yet gets a short grace (the linger time, 2 s): its
  // request is likely on the way, and a client does not retry on a fresh
  // connection. It gets one response and closes; a silent one (a preconnect,
  // a health check) does not hold the drain for the whole header timeout.
  for (ClientConn* c = live_; c != nullptr;) {
    ClientConn* next = c->next;
    if (c->ex == nullptr && c->state == ClientState::kIdle) {
      if (c->served)
        close_client(c, false);
      else
        linger_timer_.arm(c->timer, now_ms_);
    }
    c = next;
  }
  for (auto& p : pools_) {
    for (UpstreamConn* u : p->conns.idle_connections()) close_upstream(u);
  }
}

}  // namespace ringway::proxy
