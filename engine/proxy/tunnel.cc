// WebSocket tunnels (RFC 6455; RFC 9110 7.8 for Upgrade). A handshake the
// route allows goes upstream with the gateway's own "Connection: upgrade" and
// "Upgrade: websocket". Only a 101 that proves the upstream read this very
// handshake (Upgrade: websocket, and the Sec-WebSocket-Accept its key asks
// for) joins the two connections; any other 101 is a 502 (and a client that
// sent bytes before the 101 gets a 400: RFC 6455 4.1). That keeps an
// upstream that answers a bare 101 to anything (a status echo, a health
// endpoint) from opening a raw pipe past the gateway's routing and filters
// ("WebSocket smuggling"). It cannot stop one that also reflects headers the
// client chose (the accept is computable from the key): hence tunnels are
// opt-in per route, for upstreams that do speak WebSocket. Any other answer
// is an ordinary response, and the client connection stays HTTP.
//
// In a tunnel, bytes go from one side's receive buffers to the other side's
// send as they come, unparsed, with the same per-connection bounds as bodies
// (kMaxQueuedInput, the output queue's capacity). A FIN is passed on once the
// bytes before it are out; the tunnel closes when both directions ended,
// after tunnel_idle_timeout without bytes either way, or with a reset of
// both sides on an error or reset of either, or when a side took none of the
// bytes waiting for it for send_timeout.

#include "engine/http/field_value.h"
#include "engine/http/websocket.h"
#include "engine/proxy/proxy.h"

namespace ringway::proxy {

// A GET without a body over HTTP/1.1 with "Connection: upgrade", "Upgrade:
// websocket" and one Sec-WebSocket-Key (RFC 6455 4.1). Read before the
// Connection-named fields are removed.
bool Proxy::asks_websocket(const Exchange* ex, const http::ConnectionTokens& connection) const {
  if (ex->head.method != "GET" || ex->http10 || ex->request_framing != http::BodyFraming::kNone ||
      !connection.names("upgrade"))
    return false;
  bool websocket = false;
  int keys = 0;
  for (const http::Header& h : ex->head.headers) {
    if (http::iequals(h.name, "upgrade"))
      websocket = websocket || http::names_websocket(h.value);
    else if (http::iequals(h.name, "sec-websocket-key"))
      ++keys;
  }
  // A key the client's Connection names is about to be removed: what would
  // go on is no handshake.
  return websocket && keys == 1 && !connection.names("sec-websocket-key");
}

// The upstream's 101 (its fields in scratch_headers_, Connection-named ones
// still there) answers this handshake, or the reason it does not.
const char* Proxy::check_switch(const Exchange* ex) {
  if (!ex->head.upgrade) return "unexpected protocol switch from upstream";
  // HTTP/1.0 has no protocol switching (RFC 9110 7.8).
  if (ex->response.version_minor() == 0) return "protocol switch in an HTTP/1.0 response";
  bool websocket = false;
  const http::Header* accept = nullptr;
  int accepts = 0;
  for (const http::Header& h : scratch_headers_) {
    if (http::iequals(h.name, "upgrade")) {
      websocket = websocket || http::names_websocket(h.value);
    } else if (http::iequals(h.name, "sec-websocket-accept")) {
      accept = &h;
      ++accepts;
    }
  }
  if (!websocket) return "upstream switched to a protocol other than websocket";
  const http::Header* key = ex->head.find("sec-websocket-key");
  if (accepts != 1 || key == nullptr || accept->value != http::websocket_accept(key->value))
    return "upstream switched protocols without accepting the websocket handshake";
  return nullptr;
}

// The 101 is queued to the client: from here on the exchange is a tunnel.
void Proxy::open_tunnel(UpstreamConn* u) {
  Exchange* ex = u->ex;
  ex->tunnel = true;
  ex->response_started = true;
  ex->ctx.response.status = 101;  // what the log phase sees
  ex->client->state = ClientState::kTunnel;
  u->timer.disarm();  // the client's timer (idle or send) governs both sides
  ++stats_.tunnels;
  pump_tunnel(ex);
}

void Proxy::pump_tunnel(Exchange* ex) {
  ClientConn* c = ex->client;
  UpstreamConn* u = ex->upstream;
  if (u == nullptr) {  // the upstream side is gone: so is the tunnel
    close_client(c, false);
    return;
  }
  relay(c, core::Op::kClientRecv, u, core::Op::kUpstreamSend);
  relay(u, core::Op::kUpstreamRecv, c, core::Op::kClientSend);
  const bool client_done = c->write_shut && c->out.empty();  // upstream -> client ended
  const bool upstream_done = u->write_shut && u->out.empty();  // client -> upstream ended
  if (client_done && upstream_done) {
    ex->response_done = true;  // for the log phase: ended, not aborted
    close_client(c, false);    // closes the upstream too
    return;
  }
  // Idle while nothing waits to be sent. Otherwise each side must take what
  // waits for it within send_timeout (tunnel_moving): a peer that stops
  // reading holds receive buffers every connection of the worker draws on,
  // and bytes it keeps sending the other way must not keep it alive.
  if (c->out.empty() && u->out.empty())
    tunnel_timer_.arm(c->timer, now_ms_);
  else
    send_timer_.arm_once(c->timer, now_ms_);
}

bool Proxy::tunnel_moving(Exchange* ex) {
  ClientConn* c = ex->client;
  UpstreamConn* u = ex->upstream;
  const bool client_stuck = !c->out.empty() && !peer_took_bytes(c);
  const bool upstream_stuck = u != nullptr && !u->out.empty() && !peer_took_bytes(u);
  return !client_stuck && !upstream_stuck;
}

// An error or reset on either side, or a peer that stopped reading: the
// other side gets a reset too, as a FIN would tell it the stream ended whole.
void Proxy::abort_tunnel(Exchange* ex) {
  reset_on_close(ex->client);
  if (ex->upstream != nullptr) reset_on_close(ex->upstream);
  close_client(ex->client, false);  // closes the upstream too
}

// Moves what `from` received to `to`'s send queue, and passes on `from`'s
// FIN once everything before it is sent.
void Proxy::relay(Socket* from, core::Op recv_op, Socket* to, core::Op send_op) {
  bool moved = false;
  while (!from->in.empty() && !to->out.full()) {
    Chunk& chunk = from->in.front();
    hold(chunk.bid);
    to->out.push(chunk.data, chunk.len, chunk.bid);
    drop(from->in.consume(chunk.len));
    moved = true;
  }
  if (moved) flush(to, send_op);
  if (from->peer_eof && from->in.empty() && to->out.empty() && !to->write_shut) shutdown_write(to);
  regulate_recv(from, recv_op);
}

}  // namespace ringway::proxy
