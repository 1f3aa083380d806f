// The client side of the phase driver: accept, read and check the request
// head, route it, stream the request body upstream, answer locally when the
// gateway itself must (errors, no route), keep-alive and pipelining.

#include <arpa/inet.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_acked (glibc's lacks it)
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "engine/routing/path.h"
#include "engine/http/field_value.h"
#include "engine/proxy/proxy.h"

namespace ringway::proxy {

namespace {
constexpr char k100Continue[] = "HTTP/1.1 100 Continue\r\n\r\n";
// Allow for a route that does not restrict methods: it takes any the parser
// knows but CONNECT and TRACE; these are the ones in common use.
constexpr char kAllowAny[] = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";
}  // namespace

void Proxy::on_accept(int fd) {
  // While draining, a connection accepted before the listener's accept was
  // cancelled is still served (one request, then closed): its client has
  // already been told the connection is open.
  if (at_capacity()) {
    ::close(fd);
    ++stats_.connections_refused;
    return;
  }
  ClientConn* c = new_client();
  c->fd = fd;
  register_file(c);
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    const in6_addr& a6 = reinterpret_cast<sockaddr_in6&>(peer).sin6_addr;
    // An IPv4 client of a dual-stack listener is written as IPv4, as on an
    // IPv4 listener: one client, one address (rate-limit keys, logs, XFF).
    if (peer.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6))
      inet_ntop(AF_INET, &a6.s6_addr[12], c->addr, sizeof c->addr);
    else if (peer.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &a6, c->addr, sizeof c->addr);
    else
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in&>(peer).sin_addr, c->addr, sizeof c->addr);
  }
  c->next = live_;
  if (live_ != nullptr) live_->prev = c;
  live_ = c;
  ++clients_;
  ++stats_.connections_accepted;
  // The first request gets the header timeout from the moment of accept: a
  // connection that never sends anything is a slowloris too.
  header_timer_.arm(c->timer, now_ms_);
  arm_recv(c, core::Op::kClientRecv);
}

void Proxy::on_client_recv(ClientConn* c, const io_uring_cqe* cqe) {
  take_buffer(c, cqe, client_buffers_);
  if (c->closed) return;
  int res = cqe->res;
  if (res > 0) {
    if (c->state == ClientState::kLinger)
      c->in.clear([this](int32_t bid) { drop(bid); });
    else
      process_client(c);
  } else if (res == -ENOBUFS) {
    starve(c, core::Op::kClientRecv);
  } else if (res != -ECANCELED) {
    c->peer_eof = (res == 0);
    if (res < 0) {
      client_failed(c);
      return;
    }
    client_input_closed(c);
  }
  if (!c->closed && !c->recv_armed && !c->recv_paused) arm_recv(c, core::Op::kClientRecv);
}

void Proxy::on_client_send(ClientConn* c, int res) {
  res = sent(c, res);
  if (c->closed) return;
  if (res < 0) {
    client_failed(c);
    return;
  }
  flush(c, core::Op::kClientSend);
  Exchange* ex = c->ex;
  if (c->state == ClientState::kTunnel) {
    pump_tunnel(ex);
    return;
  }
  if (ex != nullptr && ex->upstream != nullptr) {
    // It was waiting for room in our queue (an upstream that closed may still
    // owe the last bytes filters made of its body).
    UpstreamConn* u = ex->upstream;
    if (!u->in.empty())
      process_upstream(u);
    else if (u->peer_eof && ex->response_started && !ex->response_done)
      pump_response_body(u);
  }
  if (c->closed) return;
  if (c->out.empty()) {
    if (c->state == ClientState::kForward) {
      finish_exchange(c);
    } else if (c->state == ClientState::kLinger) {
      // Response fully out: half-close so the client sees the end, then read
      // and discard what it still sends (a reset could destroy the response).
      shutdown_write(c);
    }
  }
  if (!c->closed) update_client_timer(c);
}

void Proxy::process_client(ClientConn* c) {
  while (!c->closed && !c->in.empty()) {
    if (c->state == ClientState::kIdle || c->state == ClientState::kHead) {
      if (!read_head(c)) break;
    } else if (c->state == ClientState::kTunnel) {
      pump_tunnel(c->ex);  // regulates the receive and arms the timer itself
      return;
    } else {
      if (c->state == ClientState::kForward) pump_request_body(c);
      break;
    }
  }
  if (c->closed) return;
  regulate_recv(c, core::Op::kClientRecv);
  update_client_timer(c);
}

bool Proxy::read_head(ClientConn* c) {
  if (c->state == ClientState::kIdle) {
    c->ex = new_exchange(c);
    c->state = ClientState::kHead;
    header_timer_.arm(c->timer, now_ms_);
  }
  Exchange* ex = c->ex;
  Chunk& chunk = c->in.front();
  size_t used = 0;
  http::HeadStatus status = ex->request.feed(chunk.data, chunk.len, &used);
  if (status == http::HeadStatus::kError) {
    ex->head_request = ex->request.method() == "HEAD";  // no body to a HEAD, even a bad one
    respond_local(c, ex->request.error_status(), ex->request.error_reason(), true);
    return false;
  }
  // A complete head is copied out of the receive buffer (a few hundred bytes)
  // so the buffer goes back as soon as the bytes after the head are
  // forwarded: receive buffers are held only for data in motion.
  if (status == http::HeadStatus::kComplete) ex->request.own_head();
  drop(c->in.consume(static_cast<uint32_t>(used)));
  if (status == http::HeadStatus::kIncomplete) return true;
  start_request(c);
  return true;
}

// RFC 9112 checks llhttp leaves to us, and target normalisation. Answers and
// returns false when the request must not go on.
bool Proxy::check_request(ClientConn* c) {
  Exchange* ex = c->ex;
  http::RequestHead& head = ex->head;
  if (ex->request.version_major() != 1) {
    respond_local(c, 505, "only HTTP/1.0 and HTTP/1.1 are supported", true);
    return false;
  }
  const http::Header* host = nullptr;
  int hosts = 0, transfer_encodings = 0;
  bool expect_continue = false, expect_other = false;
  bool chunked = false;
  for (const auto& h : head.headers) {
    if (http::iequals(h.name, "host")) {
      host = &h;
      ++hosts;
    } else if (http::iequals(h.name, "transfer-encoding")) {
      ++transfer_encodings;
      chunked = http::iequals(h.value, "chunked");
    } else if (http::iequals(h.name, "expect")) {
      // Field lines of one name are one list (RFC 9110 5.3): every member
      // counts, however they were split.
      std::string_view rest = h.value, member;
      while (http::next_list_element(rest, member))
        (http::iequals(member, "100-continue") ? expect_continue : expect_other) = true;
    }
  }
  if (hosts > 1) {
    respond_local(c, 400, "more than one Host header", true);
    return false;
  }
  if (hosts == 0 && !ex->http10) {
    respond_local(c, 400, "missing Host header", true);
    return false;
  }
  // Smuggling shapes: only a single, final "chunked" is understood, never
  // together with Content-Length (llhttp rejects that pair already), never
  // from an HTTP/1.0 client.
  if (transfer_encodings > 0 && (transfer_encodings > 1 || !chunked || ex->http10)) {
    respond_local(c, 400, "unsupported Transfer-Encoding", true);
    return false;
  }
  // Answered before a body is read, which must then close the connection.
  const bool has_body = transfer_encodings > 0 || ex->request.content_length() > 0;
  // TRACE echoes the request as the upstream got it, headers the gateway
  // adds included, to any script that can send one (cross-site tracing).
  if (head.method == "TRACE") {
    respond_local(c, 501, "TRACE not supported", has_body);
    return false;
  }
  if (head.method == "CONNECT") {
    respond_local(c, 501, "CONNECT is not supported", true);
    return false;
  }
  // A Host field must be valid (RFC 9112 3.2: "MUST respond with 400"), also
  // where an absolute-form target's authority replaces it (3.2.2; that
  // authority is checked with the target).
  if (host != nullptr) {
    if (const char* reason = routing::check_host(host->value)) {
      respond_local(c, 400, reason, true);
      return false;
    }
  }
  if (expect_other) {
    respond_local(c, 417, "unsupported expectation", true);
    return false;
  }
  // OPTIONS * asks about the server, not a resource (RFC 9112 3.2.4): the
  // gateway answers it.
  if (head.method == "OPTIONS" && head.target == "*") {
    respond_options(c, kAllowAny, has_body);
    return false;
  }
  routing::TargetParts parts;
  if (const char* reason = routing::normalize_target(head.target, parts)) {
    respond_local(c, 400, reason, true);
    return false;
  }
  head.path.swap(parts.path);
  head.query = parts.query;
  head.host = !parts.authority.empty() ? parts.authority
                                       : (host != nullptr ? host->value : std::string_view{});
  ex->expect_continue = expect_continue;
  ex->request_framing = ex->request.request_framing();
  if (ex->request_framing == http::BodyFraming::kContentLength &&
      ex->request.content_length() > config_->limits.max_body_bytes) {
    respond_local(c, 413, "request body too large", true);
    return false;
  }
  return true;
}

void Proxy::start_request(ClientConn* c) {
  Exchange* ex = c->ex;
  ++stats_.requests;
  c->state = ClientState::kForward;
  ex->request.fill(ex->head.headers);
  ex->head.method = ex->request.method();
  ex->head.target = ex->request.target();
  ex->head.version_minor = ex->request.version_minor();
  ex->http10 = ex->head.version_minor == 0;
  ex->head_request = ex->head.method == "HEAD";
  ex->keep_alive = ex->request.keep_alive() && !draining_;
  ex->request_done = true;  // until we know there is a body
  if (!check_request(c)) return;
  http::ConnectionTokens connection;
  connection.parse(ex->head.headers);
  const bool websocket = asks_websocket(ex, connection);
  connection.remove_named(ex->head.headers);
  http::drop_client_forwarding(ex->head.headers);

  ex->request_left = ex->request.content_length();
  ex->request_done = ex->request_framing == http::BodyFraming::kNone;
  ex->framing_known = true;
  ex->route = router_->match(ex->head);
  if (ex->route == nullptr) {
    respond_local(c, 404, "no route", !ex->request_done);
    return;
  }
  // Not while draining: the tunnel would be cut at drain_timeout, while a
  // plain answer lets the client retry on a worker that stays.
  ex->head.upgrade = websocket && ex->route->websocket && !draining_;
  if (filters_ != nullptr) {
    begin_filters(ex);
    if (ex->chain != nullptr && !run_request_filters(ex)) return;
  }
  forward_request(ex);
}

// The request passed its filters: rebuild its head for the upstream and find
// a connection for it.
void Proxy::forward_request(Exchange* ex) {
  ClientConn* c = ex->client;
  if (ex->route->upstream_index == config::Route::kNoUpstream) {
    respond_local(c, 502, "route has no upstream", !ex->request_done);
    return;
  }
  if (ex->head.method == "OPTIONS" && !pass_max_forwards(ex)) return;
  const UpstreamPool& pool = *pools_[ex->route->upstream_index];
  routing::rewrite_path(*ex->route, ex->head.path, scratch_path_);
  http::UpstreamRequest req;
  req.path = scratch_path_;
  req.query = ex->head.query;
  // The upstream's configured Host, else the client's; an HTTP/1.0 client
  // may send none, then the upstream's name stands in (as nginx's $proxy_host).
  req.host = !pool.config->host_header.empty() ? std::string_view(pool.config->host_header)
             : !ex->head.host.empty()          ? ex->head.host
                                               : std::string_view(pool.config->name);
  req.client_addr = c->addr;
  req.framing = ex->request_framing;
  req.content_length = ex->request_left;
  req.http10 = ex->http10;
  req.upgrade = ex->head.upgrade;
  ex->upstream_head.clear();
  http::write_upstream_request(ex->head, req, ex->upstream_head);

  if (ex->expect_continue && !ex->request_done && !ex->http10) {
    c->out.push(k100Continue, sizeof k100Continue - 1, kNoBuffer);
    flush(c, core::Op::kClientSend);
  }
  acquire_upstream(ex);
}

void Proxy::pump_request_body(ClientConn* c) {
  Exchange* ex = c->ex;
  UpstreamConn* u = ex->upstream;
  if (ex->request_done || u == nullptr || u->state != UpstreamState::kBusy) return;
  bool moved = false;
  // Filters reading the request body get its decoded pieces.
  http::HeadReader::PayloadPieces* pieces =
      ex->chain != nullptr && (ex->chain->phases & filter::kRequestBody) ? &pieces_ : nullptr;
  // Room for a piece of body and the CRLF that ends a message whose trailers
  // were dropped.
  while (!ex->request_done && !c->in.empty() && u->out.count() + 2 <= OutputQueue::kCapacity) {
    Chunk& chunk = c->in.front();
    uint32_t n = chunk.len;  // bytes consumed
    uint32_t forward = 0;    // of those, bytes sent on
    if (pieces != nullptr) pieces->clear();
    if (ex->request_framing == http::BodyFraming::kContentLength) {
      n = forward = static_cast<uint32_t>(std::min<uint64_t>(n, ex->request_left));
      ex->request_left -= n;
      ex->request_done = ex->request_left == 0;
      if (pieces != nullptr) pieces->emplace_back(chunk.data, n);
    } else {
      long r = ex->request.feed_chunked(chunk.data, chunk.len, pieces);
      if (r < 0) {
        const char* why = ex->request.error_reason();
        respond_local(c, 400, *why != '\0' ? why : "invalid chunked body", true);
        return;
      }
      if (ex->request.chunked_payload_bytes() > config_->limits.max_body_bytes) {
        respond_local(c, 413, "request body too large", true);
        return;
      }
      n = forward = static_cast<uint32_t>(r);
      ex->request_done = ex->request.message_complete();
      // Request trailers are dropped (as nginx does): an upstream that
      // merges them into its header section would take a client's
      // X-User-Id there for the one a filter set.
      if (ex->request.has_trailers())
        forward = static_cast<uint32_t>(ex->request.trailers_start() - chunk.data);
    }
    if (pieces != nullptr && !filter_request_body(ex, *pieces, ex->request_done)) return;
    if (forward > 0) {
      hold(chunk.bid);
      u->out.push(chunk.data, forward, chunk.bid);
      moved = true;
    }
    if (ex->request_done && ex->request_framing == http::BodyFraming::kChunked &&
        ex->request.has_trailers()) {
      u->out.push("\r\n", 2, kNoBuffer);
      moved = true;
    }
    drop(c->in.consume(n));
  }
  if (moved) flush(u, core::Op::kUpstreamSend);
  if (!ex->request_done && c->peer_eof && c->in.empty())
    respond_local(c, 400, "request body cut short", true);
}

// RFC 9110 7.6.2: an intermediary answers an OPTIONS whose Max-Forwards is 0
// itself and forwards any other with the value decremented. Returns false
// when it answered. Of several fields the smallest value counts, and every
// one goes on decremented; a value that is not a number goes on as it came.
bool Proxy::pass_max_forwards(Exchange* ex) {
  int64_t hops = -1;
  for (const http::Header& h : ex->head.headers) {
    if (!http::iequals(h.name, "max-forwards")) continue;
    const int64_t v = http::parse_digits(h.value);
    if (v >= 0 && (hops < 0 || v < hops)) hops = v;
  }
  if (hops < 0) return true;
  if (hops == 0) {
    std::string allow;
    for (const std::string& m : ex->route->match.methods) allow.append(allow.empty() ? "" : ", ").append(m);
    respond_options(ex->client, allow.empty() ? kAllowAny : allow, !ex->request_done);
    return false;
  }
  ex->max_forwards = std::to_string(hops - 1);
  for (http::Header& h : ex->head.headers)
    if (http::iequals(h.name, "max-forwards")) h.value = ex->max_forwards;
  return true;
}

void Proxy::respond_options(ClientConn* c, std::string_view allow, bool close) {
  Exchange* ex = c->ex;
  ++stats_.local_responses;
  close = close || !ex->keep_alive || draining_;
  ex->client_head.clear();
  http::write_options_response(allow, close, http_date(), ex->client_head);
  send_local(c, close);
}

// Queues client_head, a whole response of the gateway's own.
void Proxy::send_local(ClientConn* c, bool close) {
  Exchange* ex = c->ex;
  c->out.push(ex->client_head.data(), static_cast<uint32_t>(ex->client_head.size()), kNoBuffer);
  ex->response_started = ex->response_done = true;
  c->close_after = c->close_after || close;
  c->state = ClientState::kForward;
  flush(c, core::Op::kClientSend);
}

void Proxy::respond_local(ClientConn* c, int status, const char* reason, bool close) {
  Exchange* ex = c->ex;
  if (ex->response_started) {
    // Part of a response is already out: only closing can tell the client,
    // and with a reset, not a FIN, which would end a body that has no length
    // (close-delimited) as if it were whole.
    reset_on_close(c);
    close_client(c, false);
    return;
  }
  // An upstream failure (502, 503, 504) is offered to the route's response
  // filters first: a cache may answer with a stale copy (stale-if-error).
  const bool filtered = status >= 500 && ex->chain != nullptr && (ex->chain->phases & filter::kResponseHead);
  if (filtered && filters_replace_error(ex, status)) return;
  // What those filters added (CORS, security headers) goes out with it,
  // unless one meant to rewrite the body, which stays the gateway's text.
  const http::HeaderList* edits =
      filtered && !ex->ctx.response.body_rewritten ? &ex->ctx.response.headers : nullptr;
  dequeue(ex);
  if (ex->upstream != nullptr) close_upstream(ex->upstream);
  ++stats_.local_responses;
  // The unread rest of a request body would be taken for the next request.
  close = close || !ex->keep_alive || !ex->request_done || draining_;
  ex->client_head.clear();
  http::write_local_response(status, reason, close, ex->head_request, http_date(), ex->client_head, edits);
  send_local(c, close);
}

// The exchange is over once its response is fully sent.
void Proxy::finish_exchange(ClientConn* c) {
  Exchange* ex = c->ex;
  if (ex == nullptr || !ex->response_done || !c->out.empty()) return;
  bool close = c->close_after || !ex->keep_alive || !ex->request_done || draining_;
  // A client that sent "close" (or HTTP/1.0 without keep-alive) sends
  // nothing more (RFC 9112 9.6): with its request read to the end there is
  // nothing to linger for, and closing now saves the half-close and a wait
  // for its FIN, as nginx does. Lingering stays for closes the client did
  // not ask for, when it may still be sending, and for refused heads (their
  // body, if any, was never read). A client that pipelines after "close"
  // anyway may see a reset: what it was owed is then at risk, as with nginx.
  bool client_done = !ex->request.keep_alive() && ex->framing_known && ex->request_done &&
                     c->in.empty();
  free_exchange(ex);
  c->ex = nullptr;
  if (close || (c->peer_eof && c->in.empty())) {
    close_client(c, !client_done);
    return;
  }
  c->state = ClientState::kIdle;
  c->served = true;
  idle_timer_.arm(c->timer, now_ms_);
  if (c->recv_paused) arm_recv(c, core::Op::kClientRecv);
  process_client(c);  // a pipelined request may be waiting
}

// The client shut its write side (EOF).
void Proxy::client_input_closed(ClientConn* c) {
  switch (c->state) {
    case ClientState::kForward:
      // A complete request still gets its response (half-closed clients are
      // legal), also when the rest of its body is still queued here (the
      // body pump finds out whether it was complete); a request cut short
      // is abandoned.
      if (c->ex->request_done && c->in.empty()) {
        c->close_after = true;
        return;
      }
      if (!c->in.empty()) return;  // body or pipelined requests still to go
      close_client(c, false);
      return;
    case ClientState::kIdle:
      if (c->in.empty()) close_client(c, false);
      return;
    case ClientState::kTunnel:
      pump_tunnel(c->ex);  // the FIN goes on once what came before it is out
      return;
    default:
      close_client(c, false);
  }
}

void Proxy::close_client(ClientConn* c, bool graceful) {
  if (c->closed) return;
  if (graceful && !c->peer_eof) {
    c->state = ClientState::kLinger;
    c->in.clear([this](int32_t bid) { drop(bid); });
    linger_timer_.arm(c->timer, now_ms_);
    if (c->out.empty()) shutdown_write(c);
    if (c->recv_paused) arm_recv(c, core::Op::kClientRecv);
    return;
  }
  if (c->ex != nullptr) {
    dequeue(c->ex);
    if (c->ex->upstream != nullptr) close_upstream(c->ex->upstream);
    free_exchange(c->ex);
    c->ex = nullptr;
  }
  if (c->prev != nullptr) c->prev->next = c->next;
  else live_ = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  --clients_;
  retire(c, SocketKind::kClient);
}

// The client's socket failed, or it stopped reading: the connection goes at
// once, and in a tunnel the upstream gets a reset too.
void Proxy::client_failed(ClientConn* c) {
  if (c->state == ClientState::kTunnel) abort_tunnel(c->ex);
  else close_client(c, false);
}

void Proxy::update_client_timer(ClientConn* c) {
  switch (c->state) {
    case ClientState::kIdle:
    case ClientState::kLinger:
    case ClientState::kTunnel:
      return;  // armed when the state was entered (a tunnel's on each move)
    case ClientState::kHead:
      // Not extended per byte: a client trickling its head (slowloris) still
      // gets 408 when the header timeout runs out.
      header_timer_.arm_once(c->timer, now_ms_);
      return;
    case ClientState::kForward: {
      Exchange* ex = c->ex;
      if (ex != nullptr && ex->queued) return;  // the queue timer governs
      // Armed once, not on every send: when it runs out, the bytes the
      // client acknowledged meanwhile decide (peer_took_bytes).
      if (!c->out.empty())
        send_timer_.arm_once(c->timer, now_ms_);
      else if (ex != nullptr && !ex->request_done && (c->in.empty() || ex->upstream == nullptr))
        body_timer_.arm(c->timer, now_ms_);  // waiting for the client's body
      else
        // Waiting on the upstream: for its response, or to take body bytes
        // already here. Its timers govern: a stall there is not the client's.
        c->timer.disarm();
      return;
    }
  }
}

// Whether the peer acknowledged any bytes we sent since the last check.
// One send carries all that is queued and completes only when all of it is
// out, so its completion alone would cut a client that reads steadily but
// slowly (at 200 KB/s a 1 MB send takes 5 s): send_timeout means "took
// nothing for that long" (nginx's meaning), checked here, when the timer runs
// out, not on every send. The first check of a stall compares with an older
// count, so a client that stopped reading is closed after one or two
// send_timeouts.
bool Proxy::acked_since(Socket* s, uint32_t& seen) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (s->fd < 0 || getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
    return false;
  const auto acked = static_cast<uint32_t>(info.tcpi_bytes_acked);
  const bool moved = acked != seen;
  seen = acked;
  return moved;
}

void Proxy::on_client_timeout(ClientConn* c, core::TimerKind kind) {
  switch (kind) {
    case core::TimerKind::kClientHeader:
      if (c->state == ClientState::kHead && c->ex != nullptr) {
        c->ex->head_request = c->ex->request.method() == "HEAD";  // no body to a HEAD
        respond_local(c, 408, "request header timeout", true);
      }
      else
        close_client(c, false);
      return;
    case core::TimerKind::kClientBody:
      if (c->ex != nullptr && !c->ex->response_started)
        respond_local(c, 408, "request body timeout", true);
      else
        close_client(c, false);
      return;
    case core::TimerKind::kUpstreamQueue:
      respond_local(c, 503, "no upstream connection available", false);
      return;
    case core::TimerKind::kClientSend:
      if (c->state == ClientState::kTunnel ? tunnel_moving(c->ex) : peer_took_bytes(c)) {
        send_timer_.arm(c->timer, now_ms_);
        return;
      }
      client_failed(c);
      return;
    default:  // idle keep-alive, linger over
      close_client(c, false);
  }
}

}  // namespace ringway::proxy
