#pragma once
// The phase driver of one worker: it turns completions into HTTP progress.
//
//   accept -> read head -> normalise path -> match route -> pick endpoint ->
//   take pooled upstream connection -> stream request -> response head ->
//   stream body -> keep-alive or close
//
// Every handler runs on the worker's thread; nothing here is shared.

#include <liburing.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/core/io_tag.h"
#include "engine/core/ring.h"
#include "engine/core/timer_list.h"
#include "engine/filter/chain.h"
#include "engine/proxy/connection.h"
#include "engine/routing/router.h"
#include "engine/upstream/balancer.h"
#include "engine/upstream/health.h"
#include "engine/upstream/pool.h"

namespace ringway::proxy {

// Counters of one worker, read after it stops (and later by the admin API).
struct ProxyStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections_per_worker
  uint64_t requests = 0;
  uint64_t local_responses = 0;      // 4xx/5xx answered by the gateway itself
  uint64_t filter_responses = 0;     // answered by a filter (401, 429, cache hit...)
  uint64_t upstream_connects = 0;
  uint64_t upstream_reuses = 0;
  uint64_t upstream_retries = 0;
  uint64_t upstream_failures = 0;
  uint64_t upstream_failovers = 0;     // a failed connect retried on another endpoint
  uint64_t endpoints_marked_down = 0;  // by max_fails within fail_timeout
  uint64_t tunnels = 0;                // WebSocket upgrades the upstream accepted
  uint64_t buffers_moved = 0;          // receive buffers whose bytes relief copied out
  uint64_t stalled_clients_cut = 0;    // ... and clients it cut at limits.stalled_peer_memory
  // The worker's loop: turns taken, and those that waited for a batch of
  // completions (engine.batch_wait, while the rate is over batch_min_rps).
  uint64_t loop_turns = 0;
  uint64_t batched_turns = 0;
  // "<filter name>.<counter>" -> value, from the filters' worker states.
  std::vector<std::pair<std::string, uint64_t>> filters;
};

// What a filter of a finished worker left for its successor: the filter
// (kept alive for Filter::adopt to look at) and the state, with the name and
// type its successor is found by.
struct LeftState {
  std::string name;
  std::string type;
  std::shared_ptr<const filter::Filter> filter;
  std::unique_ptr<filter::WorkerState> state;
};

// The worker-owned state for one configured upstream.
struct UpstreamPool {
  const config::Upstream* config = nullptr;
  upstream::Balancer balancer;
  upstream::Pool<UpstreamConn, Exchange> conns;
  upstream::EndpointHealth health;
  core::TimerList queue_timer;  // client timers, one connect_timeout long
  core::TimerList connect_timer;
  core::TimerList response_timer;
  core::TimerList idle_timer;

  explicit UpstreamPool(const config::Upstream& u);
};

class Proxy final : public filter::Resumer, public filter::WorkerServices {
 public:
  // Receives from clients and from upstreams draw on separate buffer rings, so
  // a flood of client data can never take the buffers an upstream response
  // needs to arrive: the exchanges holding client buffers can always finish.
  Proxy(core::Ring& ring, core::BufferRing& client_buffers, core::BufferRing& upstream_buffers,
        config::ConfigPtr config, std::shared_ptr<const routing::Router> router,
        filter::FilterSetPtr filters, uint32_t worker_index);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  void set_now(int64_t now_ms);

  // Requests whose filter called ResumeHandle::resume() run again here, once
  // per loop turn (never from inside the filter that resumed them).
  void resume(void* request, uint32_t generation) override;
  void run_resumed();
  // Response bodies whose rewriting waited for this turn's budget; run
  // first in a turn, before its completions.
  void run_deferred_bodies();

  // fetch.cc: the engine's own requests, for filters (WorkerServices).
  using filter::WorkerServices::fetch;
  bool fetch(const FetchRequest& request, FetchCallback done) override;
  void wake_at(filter::WorkerState& state, int64_t at_ms) override;
  void on_fetch_connect(FetchConn* f, int res);
  void on_fetch_recv(FetchConn* f, const io_uring_cqe* cqe);
  void on_fetch_send(FetchConn* f, int res);

  // Completion handlers.
  void on_accept(int fd);
  void on_client_recv(ClientConn* c, const io_uring_cqe* cqe);
  void on_client_send(ClientConn* c, int res);
  void on_upstream_connect(UpstreamConn* u, int res);
  void on_upstream_recv(UpstreamConn* u, const io_uring_cqe* cqe);
  void on_upstream_send(UpstreamConn* u, int res);

  // Timers: earliest deadline, and expiry of everything due.
  int64_t next_deadline() const;  // now, when resumed requests are waiting
  void expire_timers();

  // Re-arms receives that stopped for lack of buffers, once some are free.
  void rearm_starved();
  // relief.cc: when a receive ring runs low, the bytes that wait on peers
  // that stopped reading move into memory of their own; once the worker is
  // idle again, that memory goes back to the system.
  void relieve_buffers();
  void trim_memory();
  // Frees closed connections whose last operation has completed.
  void collect_garbage();

  // Graceful shutdown: idle connections close now, busy ones after their
  // current response.
  void begin_drain();
  size_t client_count() const { return clients_; }
  uint64_t request_count() const { return stats_.requests; }
  bool at_capacity() const { return clients_ >= config_->limits.max_connections_per_worker; }
  ProxyStats stats() const;
  size_t fixed_file_slots() const { return slot_fds_.size(); }

  // Reload hand-over (filter::WorkerState::leave / Filter::adopt). What this
  // worker's filters leave behind (only those that leave something).
  std::vector<LeftState> leave_filter_states();
  // Gives each filter of this worker what its namesake (same name and type)
  // of a previous generation left.
  void adopt_filter_states(std::vector<LeftState>& left);

 private:
  // client_side.cc
  void process_client(ClientConn* c);
  bool read_head(ClientConn* c);
  void start_request(ClientConn* c);
  void forward_request(Exchange* ex);
  bool check_request(ClientConn* c);
  void pump_request_body(ClientConn* c);
  // Now as an IMF-fixdate, formatted once a second (the Date of responses).
  std::string_view http_date();
  void respond_local(ClientConn* c, int status, const char* reason, bool close);
  void respond_options(ClientConn* c, std::string_view allow, bool close);
  void send_local(ClientConn* c, bool close);
  bool pass_max_forwards(Exchange* ex);
  bool peer_took_bytes(Socket* s) { return acked_since(s, s->acked_seen); }
  // Whether the peer acknowledged bytes we sent since `seen` was taken (and
  // takes it anew).
  bool acked_since(Socket* s, uint32_t& seen);
  void finish_exchange(ClientConn* c);
  void client_input_closed(ClientConn* c);
  void close_client(ClientConn* c, bool graceful);
  void client_failed(ClientConn* c);
  void update_client_timer(ClientConn* c);
  void on_client_timeout(ClientConn* c, core::TimerKind kind);

  // upstream_side.cc
  void acquire_upstream(Exchange* ex);
  void use_idle(UpstreamConn* u, Exchange* ex);
  void serve_waiting(UpstreamPool& pool);
  void dequeue(Exchange* ex);
  void start_upstream_request(UpstreamConn* u);
  void process_upstream(UpstreamConn* u);
  bool read_response_head(UpstreamConn* u);
  void fill_response_fields(Exchange* ex);
  void relay_interim(Exchange* ex, int code);
  void switch_protocols(UpstreamConn* u, size_t head_bytes);
  void pump_response_body(UpstreamConn* u);
  void finish_response(UpstreamConn* u);
  void upstream_failed(UpstreamConn* u, int status, const char* reason, bool may_retry);
  void connect_failed(UpstreamConn* u, int status, const char* reason);
  void release_upstream(UpstreamConn* u);
  void close_upstream(UpstreamConn* u);
  void upstream_input_closed(UpstreamConn* u);
  void on_upstream_timeout(UpstreamConn* u, core::TimerKind kind);

  // tunnel.cc: a WebSocket upgrade, from the handshake to the last byte
  bool asks_websocket(const Exchange* ex, const http::ConnectionTokens& connection) const;
  const char* check_switch(const Exchange* ex);  // why a 101 is refused, or null
  void open_tunnel(UpstreamConn* u);
  void pump_tunnel(Exchange* ex);
  bool tunnel_moving(Exchange* ex);  // send_timeout: each side with bytes queued took some
  void abort_tunnel(Exchange* ex);   // an error or reset: both sides reset
  void relay(Socket* from, core::Op recv_op, Socket* to, core::Op send_op);

  // filters.cc: running a request's filter chain
  void begin_filters(Exchange* ex);
  bool run_request_filters(Exchange* ex);  // true: go on to the upstream
  // The upstream's response head through the response-head phase; false when a
  // filter replaced it with its own response (already sent).
  bool run_response_filters(Exchange* ex, http::HeaderList& headers, int status);
  int run_response_head(Exchange* ex);  // position of a filter that answered, or -1
  void respond_from_filter(Exchange* ex, size_t position);
  // The gateway's own 5xx through the response-head phase; true when a filter
  // answered instead (already sent).
  bool filters_replace_error(Exchange* ex, int status);
  // Body pieces of one received chunk through the watching filters; queues
  // the rewritten bytes when the body is rewritten.
  void filter_response_body(Exchange* ex, const http::HeadReader::PayloadPieces& pieces, bool last);
  // Request body pieces to the filters that observe them; false when one
  // answered instead (the request is then over).
  bool filter_request_body(Exchange* ex, const http::HeadReader::PayloadPieces& pieces, bool last);
  void run_log_filters(Exchange* ex);
  void run_filter_timers();  // WorkerState::on_timer of the states that are due

  // fetch.cc
  void process_fetch(FetchConn* f);
  void finish_fetch(FetchConn* f, int status);
  void free_fetch(FetchConn* f);

  // io.cc: socket plumbing shared by both sides
  void arm_recv(Socket* s, core::Op op);
  void pause_recv(Socket* s, core::Op op);
  void regulate_recv(Socket* s, core::Op op);  // backpressure on queued input
  void flush(Socket* s, core::Op op);
  int sent(Socket* s, int res);  // the result as the send's handler should see it
  int32_t new_block(std::string** bytes);  // one reference, the caller's
  void free_block(uint32_t index);
  void take_buffer(Socket* s, const io_uring_cqe* cqe, core::BufferRing& ring);
  core::BufferRing& ring_for(core::Op recv_op) {
    return recv_op == core::Op::kClientRecv ? client_buffers_ : upstream_buffers_;
  }
  core::BufferRing& ring_of(int32_t ref) {
    return (ref >> 16) == client_buffers_.group() ? client_buffers_ : upstream_buffers_;
  }
  void drop(int32_t ref) {
    if (ref >= 0)
      ring_of(ref).unref(static_cast<uint16_t>(ref & 0xffff));
    else if (ref < kNoBuffer && --blocks_[block_index(ref)].refs == 0)
      free_block(block_index(ref));
  }
  void hold(int32_t ref) {
    if (ref >= 0)
      ring_of(ref).ref(static_cast<uint16_t>(ref & 0xffff));
    else if (ref < kNoBuffer)
      ++blocks_[block_index(ref)].refs;
  }
  void starve(Socket* s, core::Op op);
  // relief.cc
  bool relief_wanted() const;  // on (stalled_peer_memory), and a ring is low
  // Copies what the queue holds in ring buffers (not what a send in flight
  // may be reading) into blocks.
  template <typename Queue>
  void move_off_rings(Queue& queue);
  // How long the peer of s has acknowledged none of the bytes of the send in
  // flight (0 for a send younger than relief looks at).
  int64_t stuck_for(Socket* s);
  void move_waiting_input(Socket* s, Socket* peer);
  void recall_stuck_send(Socket* s, core::Op send_op);
  void cut_stalled_clients();
  void retire(Socket* s, SocketKind kind);
  void shutdown_write(Socket* s);  // FIN after everything queued is sent
  void reset_on_close(Socket* s);  // its close will send a reset
  void register_file(Socket* s);
  // Points an SQE prepared with s->fd at the fixed-file slot when s has one.
  static void target(io_uring_sqe* sqe, const Socket* s) {
    if (s->slot >= 0) {
      sqe->fd = s->slot;
      sqe->flags |= IOSQE_FIXED_FILE;
    }
  }  // closed: cancel its I/O, free when idle

  Exchange* new_exchange(ClientConn* c);
  void free_exchange(Exchange* ex);
  ClientConn* new_client();
  void free_client(ClientConn* c);
  UpstreamConn* new_upstream();
  void free_upstream(UpstreamConn* u);

  core::Ring& ring_;
  core::BufferRing& client_buffers_;
  core::BufferRing& upstream_buffers_;
  config::ConfigPtr config_;
  std::shared_ptr<const routing::Router> router_;
  http::HeadLimits head_limits_;
  int64_t now_ms_ = 0;
  int64_t unix_ms_ = 0;
  std::string date_;  // IMF-fixdate of date_second_ (http_date())
  int64_t date_second_ = -1;
  bool draining_ = false;
  uint32_t worker_index_ = 0;

  // Filters: the compiled chains, this worker's state of each filter, and per
  // route the states in chain order (what Context::worker<T>() reads).
  filter::FilterSetPtr filters_;
  std::vector<std::unique_ptr<filter::WorkerState>> filter_states_;
  std::vector<std::vector<filter::WorkerState*>> route_states_;
  std::vector<std::pair<Exchange*, uint32_t>> resumed_;
  // Body bytes a rewriting filter (gzip) may still take this turn (the piece
  // that crosses it is finished), and the exchanges that found none left: a
  // loop turn does a bounded amount of such work, so one large compressed
  // download cannot stall every other connection of the worker for the
  // whole of a turn's completions.
  static constexpr uint64_t kRewriteBytesPerTurn = 32 * 1024;  // ~1-2 ms of gzip -6
  uint64_t rewrite_budget_ = kRewriteBytesPerTurn;
  std::vector<std::pair<Exchange*, uint32_t>> deferred_bodies_;
  std::vector<int64_t> filter_wake_;  // per filter state: when on_timer wants to run
  std::vector<std::unique_ptr<FetchConn>> fetches_;
  core::TimerList fetch_timer_;
  http::HeadReader::PayloadPieces pieces_;
  // Blocks of bytes filters made, or moved off the receive rings
  // (block_ref()); a deque so they never move. Counted references, as
  // receive buffers have.
  struct Block {
    std::string bytes;
    uint32_t refs = 0;
    uint32_t moved = 0;  // bytes relief moved here (counted in moved_bytes_)
  };
  std::deque<Block> blocks_;
  std::vector<uint32_t> free_blocks_;
  // relief.cc
  uint64_t moved_bytes_ = 0;    // held in blocks by relief, against limits.stalled_peer_memory
  int64_t next_relief_ms_ = 0;  // the earliest next relief scan
  int64_t next_cut_ms_ = 0;     // ... and check for stalled clients to cut
  bool relieved_ = false;       // since the last trim_memory()

  std::vector<std::unique_ptr<UpstreamPool>> pools_;
  core::TimerList header_timer_;
  core::TimerList body_timer_;
  core::TimerList idle_timer_;
  core::TimerList send_timer_;
  core::TimerList linger_timer_;
  core::TimerList tunnel_timer_;

  ClientConn* live_ = nullptr;  // list of live clients
  size_t clients_ = 0;
  std::vector<std::pair<Socket*, core::Op>> starved_;  // receives waiting for free buffers
  std::vector<std::pair<Socket*, SocketKind>> graveyard_;  // closed, freed when idle
  http::HeaderList scratch_headers_;
  std::string scratch_path_;

  // Fixed-file slots: free ones, and the fd each slot is registered with
  // (stable memory for the asynchronous files-update to read).
  std::vector<int32_t> free_slots_;
  std::vector<int> slot_fds_;

  std::vector<ClientConn*> free_clients_;
  std::vector<UpstreamConn*> free_upstreams_;
  Exchange* free_exchanges_ = nullptr;
  std::vector<std::unique_ptr<ClientConn>> all_clients_;
  std::vector<std::unique_ptr<UpstreamConn>> all_upstreams_;
  std::vector<std::unique_ptr<Exchange>> all_exchanges_;

  ProxyStats stats_;
};

}  // namespace ringway::proxy
