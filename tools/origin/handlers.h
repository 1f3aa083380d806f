#pragma once
// Endpoints of ringway-origin. Everything here is pure formatting: the server
// owns sockets and timing and asks these functions what to put on the wire.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/http/head_writer.h"
#include "tools/origin/buffer.h"
#include "tools/origin/pattern_body.h"

namespace ringway::origin {

enum class Endpoint : uint8_t {
  kHello,
  kBytes,
  kChunked,
  kEcho,
  kHeaders,
  kSink,
  kStatus,
  kDelay,
  kClose,
  kStats,
  kMalformed,
  kWebSocket,  // /ws: a WebSocket echo after the handshake; 426 to anything else
  kInvalid,  // a known endpoint with a bad argument: answered 400, connection kept
};

enum class MalformedKind : uint8_t { kGarbage, kTruncated, kBadLength, kReset };

struct Route {
  Endpoint kind = Endpoint::kHello;
  uint64_t number = 0;             // N of /bytes, /chunked, /status, /delay
  uint32_t chunk_size = 16 * 1024;  // /chunked?chunk=
  MalformedKind malformed = MalformedKind::kGarbage;
  bool text = false;  // /bytes, /chunked ?text=1: HTML-like prose, text/html
};

// Parses a request target (origin-form or absolute-form). Response headers
// requested with ?header=Name:Value are appended to `extra_headers` as
// preformatted "Name: Value\r\n" lines.
Route parse_route(std::string_view target, std::string& extra_headers);

// Value of the first header called `name` (case-insensitive) in a raw request
// head that llhttp already validated; empty when absent.
std::string_view find_header(std::string_view head, std::string_view name);

// True when `list` (a header value) holds `token` as a comma-separated element.
bool has_token(std::string_view list, std::string_view token);

// One reason-phrase table for the gateway and the origin.
using http::reason_phrase;

// Everything a response may depend on, gathered by the server.
struct Exchange {
  Route route;
  std::string_view extra_headers;
  std::string_view raw_head;  // /headers only
  std::string_view date;      // "Date" value, may be empty
  bool head_method = false;
  bool keep_alive = true;
  bool http10 = false;
  bool delay_elapsed = false;
  uint64_t body_bytes = 0;
  uint64_t stats_accepted = 0;
  uint64_t stats_requests = 0;
};

// What the server must do after respond() wrote into the output buffer.
struct Plan {
  bool stream = false;  // send `body` after the buffered bytes
  PatternBody body;
  bool delay = false;  // nothing written yet; call respond() again after delay_ms
  uint64_t delay_ms = 0;
  bool close = false;     // close once everything is written
  bool reset = false;     // close with RST (SO_LINGER 0) once written
};

// Writes the response to a complete request (body already consumed).
void respond(const Exchange& ex, ByteBuffer& out, Plan& plan);

enum class EchoFraming : uint8_t { kLength, kChunked, kUntilClose };

// Writes the head of an /echo response right after the request head so the
// body can be streamed back as it arrives.
EchoFraming begin_echo(const Exchange& ex, bool request_has_length, uint64_t request_length,
                       ByteBuffer& out);

// Canned responses the server emits on its own.
void write_error(ByteBuffer& out, int status, std::string_view date);  // always closes
void write_continue(ByteBuffer& out);

// Formats the current time as an IMF-fixdate into buf (at least 30 bytes);
// returns the length.
size_t format_http_date(int64_t unix_seconds, char* buf);

}  // namespace ringway::origin
