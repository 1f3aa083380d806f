// The upstream side of the phase driver: pick an endpoint, take a pooled
// keep-alive connection or connect a new one, read the response head, stream
// the body to the client, and put the connection back in the pool.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "engine/proxy/proxy.h"

namespace ringway::proxy {
namespace {

// Only a single "chunked" is passed on (the gateway re-emits that framing):
// any other coding would reach the client as body bytes with nothing to say
// how to decode them (RFC 9112 6.1, 7), and an HTTP/1.0 exchange carries none.
bool transfer_coding_understood(const http::HeaderList& headers, bool http10) {
  int codings = 0;
  bool chunked = false;
  for (const auto& h : headers) {
    if (!http::iequals(h.name, "transfer-encoding")) continue;
    ++codings;
    chunked = http::iequals(h.value, "chunked");
  }
  return codings == 0 || (codings == 1 && chunked && !http10);
}

// Whether endpoint `ep` may take this request: up, and not one that already
// failed to connect for it. Only the first 64 endpoints are remembered per
// request; past them the health marks keep a failover from coming back to
// the one that failed (unless max_fails allows more failures).
bool usable_for(const UpstreamPool& pool, const Exchange* ex, uint32_t ep, int64_t now_ms) {
  return pool.health.up(ep, now_ms) && !(ep < 64 && (ex->failed_endpoints >> ep & 1) != 0);
}

}  // namespace

void Proxy::acquire_upstream(Exchange* ex) {
  UpstreamPool& pool = *pools_[ex->route->upstream_index];
  // Endpoints marked down are skipped while any other is up; when all are
  // down the plain choice goes ahead (it probes whether one came back).
  uint32_t ep = pool.balancer.pick([&](uint32_t i) { return usable_for(pool, ex, i, now_ms_); });
  // A retry takes a fresh connection unless the pool is at its limit: the
  // pooled one just failed us.
  if (ex->attempts == 0) {
    if (UpstreamConn* u = pool.conns.take_idle(ep)) {
      use_idle(u, ex);
      return;
    }
  }
  if (pool.conns.at_limit()) {
    // At the limit: any idle connection beats waiting; else queue for one.
    if (UpstreamConn* u = pool.conns.take_any_idle()) {
      use_idle(u, ex);
      return;
    }
    ex->queued = true;
    pool.conns.wait(ex);
    pool.queue_timer.arm(ex->client->timer, now_ms_);
    return;
  }
  const config::SocketAddress& addr = pool.config->endpoints[ep].address;
  int fd = socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    respond_local(ex->client, 502, "cannot open upstream socket", false);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  UpstreamConn* u = new_upstream();
  u->fd = fd;
  register_file(u);
  u->pool = ex->route->upstream_index;
  u->endpoint = ep;
  u->state = UpstreamState::kConnecting;
  u->ex = ex;
  ex->upstream = u;
  pool.conns.opened();
  ++stats_.upstream_connects;
  io_uring_sqe* sqe = ring_.sqe();
  io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length);
  target(sqe, u);
  io_uring_sqe_set_data64(sqe, core::tag(u, core::Op::kUpstreamConnect));
  ++u->pending;
  pool.connect_timer.arm(u->timer, now_ms_);
}

void Proxy::use_idle(UpstreamConn* u, Exchange* ex) {
  u->timer.disarm();
  u->state = UpstreamState::kBusy;
  u->ex = ex;
  ex->upstream = u;
  ++stats_.upstream_reuses;
  if (u->recv_paused) arm_recv(u, core::Op::kUpstreamRecv);
  start_upstream_request(u);
}

// A connection came back or went away: hand slots to queued exchanges.
void Proxy::serve_waiting(UpstreamPool& pool) {
  while (Exchange* ex = pool.conns.next_servable()) {
    ex->queued = false;
    ex->client->timer.disarm();
    acquire_upstream(ex);
  }
}

void Proxy::dequeue(Exchange* ex) {
  if (!ex->queued) return;
  pools_[ex->route->upstream_index]->conns.cancel_wait(ex);
  ex->queued = false;
}

void Proxy::on_upstream_connect(UpstreamConn* u, int res) {
  --u->pending;
  if (u->closed) return;
  if (res < 0) {
    connect_failed(u, 502, "upstream connection failed");
    return;
  }
  pools_[u->pool]->health.succeeded(u->endpoint);
  u->state = UpstreamState::kBusy;
  arm_recv(u, core::Op::kUpstreamRecv);
  start_upstream_request(u);
}

void Proxy::start_upstream_request(UpstreamConn* u) {
  Exchange* ex = u->ex;
  pools_[u->pool]->response_timer.arm(u->timer, now_ms_);
  u->out.push(ex->upstream_head.data(), static_cast<uint32_t>(ex->upstream_head.size()),
              kNoBuffer);
  pump_request_body(ex->client);
  flush(u, core::Op::kUpstreamSend);
  update_client_timer(ex->client);
}

void Proxy::on_upstream_send(UpstreamConn* u, int res) {
  res = sent(u, res);
  if (u->closed) return;
  if (res < 0 && u->ex != nullptr && u->ex->tunnel) {
    abort_tunnel(u->ex);  // how a tunnel may end, not an upstream failure
    return;
  }
  if (res < 0) {
    upstream_failed(u, 502, "upstream connection failed", true);
    return;
  }
  flush(u, core::Op::kUpstreamSend);
  if (u->ex != nullptr && u->ex->tunnel) {
    pump_tunnel(u->ex);
    return;
  }
  if (u->ex != nullptr) {
    // The response timeout counts from the last progress of the request: a
    // long upload that keeps moving is not an upstream that does not answer.
    if (!u->ex->response_started && res > 0)
      pools_[u->pool]->response_timer.arm(u->timer, now_ms_);
    ClientConn* c = u->ex->client;
    pump_request_body(c);  // it may have waited for room in our queue
    if (!c->closed) {
      regulate_recv(c, core::Op::kClientRecv);
      update_client_timer(c);
    }
  }
}

void Proxy::on_upstream_recv(UpstreamConn* u, const io_uring_cqe* cqe) {
  take_buffer(u, cqe, upstream_buffers_);
  if (u->closed) return;
  int res = cqe->res;
  if (res > 0) {
    if (u->state != UpstreamState::kBusy || u->ex == nullptr) {
      close_upstream(u);  // bytes nobody asked for: the connection is unusable
      return;
    }
    process_upstream(u);
  } else if (res == -ENOBUFS) {
    starve(u, core::Op::kUpstreamRecv);
  } else if (res != -ECANCELED) {
    u->peer_eof = true;
    u->peer_reset = res < 0;
    upstream_input_closed(u);
  }
  if (!u->closed && !u->recv_armed && !u->recv_paused) arm_recv(u, core::Op::kUpstreamRecv);
}

void Proxy::process_upstream(UpstreamConn* u) {
  if (u->ex != nullptr && u->ex->tunnel) {
    pump_tunnel(u->ex);
    return;
  }
  while (!u->closed && u->ex != nullptr && !u->in.empty()) {
    if (!u->ex->response_started) {
      // A relayed 1xx may still be waiting to be sent from interim_head,
      // which the next head could overwrite: go on when the client's send
      // completes (on_client_send).
      if (u->ex->interim_queued && !u->ex->client->out.empty()) break;
      if (!read_response_head(u)) return;
    } else {
      pump_response_body(u);
      break;
    }
  }
  if (u->closed) return;
  // The upstream closed while a head waited behind a relayed 1xx: now that
  // it is read, the close counts (a head it cut short is a 502; an empty
  // body that the close ends is complete).
  if (u->peer_eof && u->in.empty() && u->ex != nullptr && !u->ex->response_done) {
    upstream_input_closed(u);
    return;
  }
  if (u->ex != nullptr && u->ex->body_deferred) return;  // stays paused until its turn
  regulate_recv(u, core::Op::kUpstreamRecv);
}

bool Proxy::read_response_head(UpstreamConn* u) {
  Exchange* ex = u->ex;
  ex->response_bytes = true;
  Chunk& chunk = u->in.front();
  size_t used = 0;
  http::HeadStatus status = ex->response.feed(chunk.data, chunk.len, &used);
  if (status == http::HeadStatus::kError) {
    upstream_failed(u, 502, "invalid response from upstream", false);
    return false;
  }
  int code = status == http::HeadStatus::kComplete ? ex->response.status_code() : 0;
  if (code == 101) {
    switch_protocols(u, used);
    return false;
  }
  // Relayed before the receive buffer its fields point into goes back.
  if (code >= 100 && code < 200) relay_interim(ex, code);
  // Filters may keep views of the head beyond this call: copy it out of the
  // receive buffer before the buffer goes back.
  if (code >= 200 && ex->chain != nullptr) ex->response.own_head();
  drop(u->in.consume(static_cast<uint32_t>(used)));
  if (code < 200) {
    if (code != 0) ex->response.reset(head_limits_);  // an interim head: the final one follows
    return true;
  }
  ClientConn* c = ex->client;
  ex->response_framing = ex->response.response_framing(ex->head_request);
  ex->response_left = ex->response.content_length();
  fill_response_fields(ex);
  // An HTTP/1.1 response to HEAD has no body whatever its Transfer-Encoding
  // says (the coding a GET would get, RFC 9110 9.3.2): nothing to misread.
  // An HTTP/1.0 one with any is faulty (RFC 9112 6.1) and still refused.
  const bool response10 = ex->response.version_minor() == 0;
  if (!(ex->head_request && !response10) &&
      !transfer_coding_understood(scratch_headers_, ex->http10 || response10)) {
    upstream_failed(u, 502, "unsupported Transfer-Encoding from upstream", false);
    return false;
  }
  if (ex->chain != nullptr && (ex->chain->phases & (filter::kResponseHead | filter::kResponseBody))) {
    if (!run_response_filters(ex, scratch_headers_, code)) return false;
    code = ex->ctx.response.status;
  }

  http::ClientResponse resp;
  resp.status = code;
  resp.framing = ex->response_framing;
  resp.content_length = ex->response_left;
  if (ex->body_rewritten)
    resp.framing = ex->chunked_out ? http::BodyFraming::kChunked : http::BodyFraming::kUntilClose;
  resp.head_request = ex->head_request;
  resp.received_http10 = response10;
  resp.date = http_date();
  // Close when the client asked, when draining, when only closing can end the
  // body, or when an early response leaves the request body unread.
  resp.close = !ex->keep_alive || draining_ || c->close_after ||
               ex->response_framing == http::BodyFraming::kUntilClose || !ex->request_done ||
               resp.framing == http::BodyFraming::kUntilClose;
  resp.keep_alive = !resp.close && ex->http10;
  c->close_after = c->close_after || resp.close;
  ex->client_head.clear();
  http::write_client_response(scratch_headers_, resp, ex->client_head);
  c->out.push(ex->client_head.data(), static_cast<uint32_t>(ex->client_head.size()), kNoBuffer);
  ex->response_started = true;
  if (ex->response_framing == http::BodyFraming::kNone) {
    if (ex->body_watchers != 0) filter_response_body(ex, {}, true);
    flush(c, core::Op::kClientSend);
    finish_response(u);
    return false;
  }
  return true;
}

// The response head's fields into scratch_headers_, less those its
// Connection names (they were the upstream's hop; Transfer-Encoding is
// never among the removed, so framing checks may follow).
void Proxy::fill_response_fields(Exchange* ex) {
  ex->response.fill(scratch_headers_);
  http::ConnectionTokens tokens;
  tokens.parse(scratch_headers_);
  tokens.remove_named(scratch_headers_);
}

// A 101 to a WebSocket handshake opens a tunnel, once it proves it answers
// this one (check_switch); the bytes after its head are the upstream's first
// frames. Response filters do not see it: there is no response to them,
// only a connection that stops being HTTP (the log phase runs at its end).
void Proxy::switch_protocols(UpstreamConn* u, size_t head_bytes) {
  Exchange* ex = u->ex;
  ex->response.fill(scratch_headers_);
  if (const char* reason = check_switch(ex)) {
    upstream_failed(u, 502, reason, false);
    return;
  }
  // RFC 6455 4.1: a client waits for the 101 before it sends anything more.
  // Bytes that came before it would reach the upstream unrouted and
  // unfiltered (a request pipelined behind the handshake, say).
  if (!ex->client->in.empty()) {
    respond_local(ex->client, 400, "data sent before the protocol switch", true);
    return;
  }
  fill_response_fields(ex);
  http::ClientResponse resp;
  resp.status = 101;
  resp.upgrade = true;
  resp.received_http10 = ex->response.version_minor() == 0;
  resp.date = http_date();
  ex->client_head.clear();
  http::write_client_response(scratch_headers_, resp, ex->client_head);
  drop(u->in.consume(static_cast<uint32_t>(head_bytes)));
  ClientConn* c = ex->client;
  c->out.push(ex->client_head.data(), static_cast<uint32_t>(ex->client_head.size()), kNoBuffer);
  flush(c, core::Op::kClientSend);
  open_tunnel(u);
}

// A 1xx response (103 Early Hints, 102) goes on to the client, as RFC 9110
// 15.2 asks of a proxy, without its hop-by-hop fields. Not a 100: the gateway
// answers Expect itself and does not forward it. Not to an HTTP/1.0 client,
// which must never see a 1xx.
void Proxy::relay_interim(Exchange* ex, int code) {
  if (code == 100 || ex->http10) return;
  fill_response_fields(ex);
  http::ClientResponse resp;
  resp.status = code;
  resp.received_http10 = ex->response.version_minor() == 0;
  ex->interim_head.clear();
  http::write_client_response(scratch_headers_, resp, ex->interim_head);
  ex->interim_queued = true;
  ClientConn* c = ex->client;
  c->out.push(ex->interim_head.data(), static_cast<uint32_t>(ex->interim_head.size()), kNoBuffer);
  flush(c, core::Op::kClientSend);
}

void Proxy::run_deferred_bodies() {
  auto list = std::move(deferred_bodies_);
  deferred_bodies_.clear();
  for (auto [ex, generation] : list) {
    if (ex->generation != generation || !ex->body_deferred) continue;  // gone meanwhile
    ex->body_deferred = false;
    if (ex->upstream != nullptr && !ex->upstream->closed) process_upstream(ex->upstream);
  }
}

void Proxy::pump_response_body(UpstreamConn* u) {
  Exchange* ex = u->ex;
  ClientConn* c = ex->client;
  bool moved = false;
  // Filters reading the body get the decoded pieces of each chunk.
  http::HeadReader::PayloadPieces* pieces = ex->body_watchers != 0 ? &pieces_ : nullptr;
  while (!ex->response_done && !u->in.empty() && !c->out.full()) {
    if (ex->body_rewritten && rewrite_budget_ == 0) {
      // Its receive stops until its turn comes (process_upstream re-arms
      // it): queued chunks hold receive buffers the worker's other
      // connections need.
      if (!ex->body_deferred) {
        ex->body_deferred = true;
        deferred_bodies_.emplace_back(ex, ex->generation);
      }
      if (u->recv_armed) pause_recv(u, core::Op::kUpstreamRecv);
      break;
    }
    Chunk& chunk = u->in.front();
    uint32_t n = chunk.len;
    if (pieces != nullptr) pieces->clear();
    switch (ex->response_framing) {
      case http::BodyFraming::kContentLength:
        n = static_cast<uint32_t>(std::min<uint64_t>(n, ex->response_left));
        ex->response_left -= n;
        ex->response_done = ex->response_left == 0;
        if (pieces != nullptr) pieces->emplace_back(chunk.data, n);
        break;
      case http::BodyFraming::kChunked: {
        long r = ex->response.feed_chunked(chunk.data, chunk.len, pieces);
        if (r < 0) {
          upstream_failed(u, 502, "invalid chunked body from upstream", false);
          return;
        }
        n = static_cast<uint32_t>(r);
        ex->response_done = ex->response.message_complete();
        break;
      }
      default:
        if (pieces != nullptr) pieces->emplace_back(chunk.data, n);
        break;  // until close: everything
    }
    if (pieces != nullptr) {
      filter_response_body(ex, *pieces, ex->response_done);
      if (ex->body_rewritten) rewrite_budget_ -= std::min<uint64_t>(rewrite_budget_, n);
      moved = true;
    }
    if (n > 0 && !ex->body_rewritten) {
      hold(chunk.bid);
      c->out.push(chunk.data, n, chunk.bid);
      ex->ctx.response_body_bytes += n;
      moved = true;
    }
    drop(u->in.consume(n));
  }
  if (u->peer_eof && u->in.empty() && !ex->response_done) {
    // The upstream closed before the body it announced was complete, or a
    // reset cut a body that only a clean close ends (RFC 9112 8: that one
    // is incomplete, and must not be passed on or cached as whole).
    if (ex->response_framing != http::BodyFraming::kUntilClose || u->peer_reset) {
      upstream_failed(u, 502,
                      u->peer_reset ? "upstream connection failed mid-response"
                                    : "upstream closed the connection mid-response",
                      false);
      return;
    }
    if (!c->out.full()) {
      ex->response_done = true;
      moved = true;  // the head may be all there is to send
      if (pieces != nullptr) filter_response_body(ex, {}, true);
    }
  }
  if (moved) {
    flush(c, core::Op::kClientSend);
    update_client_timer(c);
  }
  if (ex->response_done)
    finish_response(u);
  else
    pools_[u->pool]->response_timer.arm(u->timer, now_ms_);  // read timeout: re-armed on progress
}

void Proxy::finish_response(UpstreamConn* u) {
  Exchange* ex = u->ex;
  ClientConn* c = ex->client;
  ex->response_done = true;
  // A 204 announcing a body (RFC 9110 15.3.5 forbids one) may send it late,
  // where it would be read as the next request's response: not reused.
  const bool contradicts_itself = ex->response.status_code() == 204 && ex->response.content_length() > 0;
  bool reusable = ex->response.keep_alive() && ex->request_done && u->in.empty() &&
                  u->out.empty() && !u->peer_eof && !ex->http10 && !contradicts_itself &&
                  ex->response_framing != http::BodyFraming::kUntilClose && !draining_;
  u->ex = nullptr;
  ex->upstream = nullptr;
  if (reusable)
    release_upstream(u);
  else
    close_upstream(u);
  if (!ex->request_done) c->close_after = true;
  finish_exchange(c);
}

void Proxy::release_upstream(UpstreamConn* u) {
  UpstreamPool& pool = *pools_[u->pool];
  if (!pool.conns.park(u, u->endpoint)) {
    close_upstream(u);
    return;
  }
  u->state = UpstreamState::kIdle;
  u->reused = true;
  pool.idle_timer.arm(u->timer, now_ms_);
  // Keep a receive armed while idle: it is how we learn the upstream closed.
  if (!u->recv_armed) arm_recv(u, core::Op::kUpstreamRecv);
  serve_waiting(pool);
}

void Proxy::close_upstream(UpstreamConn* u) {
  if (u->closed) return;
  UpstreamPool& pool = *pools_[u->pool];
  pool.conns.closed(u, u->endpoint, u->state == UpstreamState::kIdle);
  if (u->ex != nullptr) {
    u->ex->upstream = nullptr;
    u->ex = nullptr;
  }
  retire(u, SocketKind::kUpstream);
  serve_waiting(pool);
}

void Proxy::upstream_failed(UpstreamConn* u, int status, const char* reason, bool may_retry) {
  Exchange* ex = u->ex;
  ++stats_.upstream_failures;
  // A pooled connection the upstream closed just as we reused it: the request
  // most likely never reached it, so one retry on a fresh connection is safe
  // when nothing came back, there is no body we already let go of, and a
  // second copy could do no harm (only idempotent methods: RFC 9112 9.3.1).
  bool retry = may_retry && ex != nullptr && u->reused && !ex->response_bytes &&
               ex->attempts == 0 && ex->request_framing == http::BodyFraming::kNone &&
               http::idempotent_method(ex->head.method);
  close_upstream(u);
  if (ex == nullptr) return;
  if (retry) {
    ++ex->attempts;
    ++stats_.upstream_retries;
    acquire_upstream(ex);
    return;
  }
  respond_local(ex->client, status, reason, !ex->request_done);
}

// A connect that failed or timed out sent nothing, so the request may go to
// another endpoint whatever its method (nginx's proxy_next_upstream error
// timeout): one that is up and has not failed it, up to connect_tries
// endpoints in all.
void Proxy::connect_failed(UpstreamConn* u, int status, const char* reason) {
  UpstreamPool& pool = *pools_[u->pool];
  if (pool.health.failed(u->endpoint, now_ms_)) ++stats_.endpoints_marked_down;
  Exchange* ex = u->ex;
  if (ex == nullptr) return upstream_failed(u, status, reason, false);
  if (u->endpoint < 64) ex->failed_endpoints |= uint64_t{1} << u->endpoint;
  ++ex->failed_connects;
  bool another = false;
  for (uint32_t i = 0; i < pool.config->endpoints.size() && !another; ++i)
    another = i != u->endpoint && usable_for(pool, ex, i, now_ms_);
  if (!another || ex->failed_connects >= pool.config->connect_tries)
    return upstream_failed(u, status, reason, false);
  ++stats_.upstream_failures;
  ++stats_.upstream_failovers;
  close_upstream(u);
  acquire_upstream(ex);
}

void Proxy::upstream_input_closed(UpstreamConn* u) {
  Exchange* ex = u->ex;
  if (u->state != UpstreamState::kBusy || ex == nullptr) {
    close_upstream(u);  // a pooled connection the upstream closed
    return;
  }
  if (ex->tunnel) {
    if (u->peer_reset)
      abort_tunnel(ex);
    else
      pump_tunnel(ex);
    return;
  }
  if (ex->response_started) {
    // An upstream may close right after a complete response (RFC 9112 9.6)
    // while its tail still waits here for room on the client side: the pump
    // goes on from what is queued, ends the response once that is drained,
    // and fails it only if the body turns out short.
    pump_response_body(u);
    return;
  }
  // A head still waits here behind a relayed 1xx being sent (process_upstream
  // reads it once that is out, then comes back here).
  if (!u->in.empty()) return;
  upstream_failed(u, 502, "upstream closed the connection", true);
}

void Proxy::on_upstream_timeout(UpstreamConn* u, core::TimerKind kind) {
  switch (kind) {
    case core::TimerKind::kUpstreamConnect:
      connect_failed(u, 504, "upstream connect timed out");
      return;
    case core::TimerKind::kUpstreamResponse:
      upstream_failed(u, 504, "upstream timed out", false);
      return;
    default:
      close_upstream(u);  // idle in the pool too long
  }
}

}  // namespace ringway::proxy
