#pragma once
// Serialising heads: the request head sent upstream, the response head sent to
// the client, and the gateway's own short responses. Only heads are rebuilt;
// bodies are forwarded from the buffers they arrived in.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "engine/http/head_reader.h"
#include "engine/http/request_head.h"

namespace ringway::http {

// Reason phrase for a status code ("Unknown" when not in the table).
std::string_view reason_phrase(int status);

// Hop-by-hop headers (RFC 9110 7.6.1 and the Proxy-* family) and the framing
// headers the writers emit themselves; never copied from one side to the other.
bool is_hop_by_hop(std::string_view name);

// The tokens of all Connection headers of a message.
struct ConnectionTokens {
  absl::InlinedVector<std::string_view, 4> named;  // header names listed (also hop-by-hop)
  bool close = false;
  bool keep_alive = false;
  void parse(const HeaderList& headers);
  void reset() {
    named.clear();
    close = keep_alive = false;
  }
  bool names(std::string_view header) const;
  // Removes the headers the tokens name: they are the previous hop's own
  // (RFC 9110 7.6.1). Done as the message arrives, before filters run, so
  // that a name listed here cannot remove a header a filter sets later
  // (X-User-Id from a token: "Connection: X-User-Id" must not drop it).
  void remove_named(HeaderList& headers) const;

 private:
  static constexpr size_t kScanLimit = 8;  // longer lists are sorted and searched
};

struct UpstreamRequest {
  std::string_view path;         // rewritten, normalised path
  std::string_view query;        // without '?'
  std::string_view host;         // Host to send
  std::string_view client_addr;  // peer IP as text, for X-Forwarded-For
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  // An HTTP/1.0 client gets an HTTP/1.0 exchange upstream too, so the response
  // cannot come chunked (a 1.0 client could not read it).
  bool http10 = false;
  bool upgrade = false;  // a WebSocket handshake: "Connection: upgrade", "Upgrade: websocket"
};

// Removes what a client says about where the request came from that the
// gateway states itself, before filters run (a filter may then set them):
// RFC 7239 Forwarded, X-Forwarded-Port, and the '_' spellings of the
// X-Forwarded-* names (CGI-style upstreams read them as the gateway's); and
// the path overrides X-Original-URL, X-Rewrite-URL and X-Forwarded-Prefix. At an
// edge these can only be forged. X-Forwarded-For is extended, -Proto and
// -Host replaced by write_upstream_request.
void drop_client_forwarding(HeaderList& headers);

// Appends the request head to send upstream. Headers the client's Connection
// named are already gone (ConnectionTokens::remove_named).
void write_upstream_request(const RequestHead& head, const UpstreamRequest& req, std::string& out);

struct ClientResponse {
  int status = 200;
  BodyFraming framing = BodyFraming::kNone;  // of the bytes we will send
  uint64_t content_length = 0;
  bool head_request = false;  // pass the upstream's Content-Length through
  bool close = false;         // "Connection: close"
  bool keep_alive = false;    // "Connection: keep-alive" (HTTP/1.0 clients)
  bool upgrade = false;       // a 101 to WebSocket: "Connection: upgrade", "Upgrade: websocket"
  bool received_http10 = false;  // the response came as HTTP/1.0: "Via: 1.0 ringway"
  // IMF-fixdate of now, sent when the headers have none: a recipient with a
  // clock forwarding a response without Date must add one (RFC 9110 6.6.1).
  std::string_view date;
};

// Appends the response head to send to the client. `headers` are the
// upstream's, without those its Connection named (remove_named).
void write_client_response(const HeaderList& headers, const ClientResponse& resp,
                           std::string& out);

// Appends a complete short response of the gateway's own (error pages, 404).
// `extra`: fields response filters added to it (CORS, security headers);
// not those the gateway writes itself (framing, hop-by-hop, Date, Server),
// Content-*, nor caching fields and Set-Cookie (a 502 must not be cached).
void write_local_response(int status, std::string_view body, bool close, bool head_request,
                          std::string_view date, std::string& out, const HeaderList* extra = nullptr);

// Appends the gateway's own answer to OPTIONS (as the final recipient:
// `OPTIONS *`, or Max-Forwards 0): 200 with Allow and no content.
void write_options_response(std::string_view allow, bool close, std::string_view date,
                            std::string& out);

}  // namespace ringway::http
