#pragma once
// ringway-origin's /ws: a WebSocket echo (RFC 6455), so that tests and the
// quick start have a real peer for the gateway's tunnels. Every data frame
// comes back as it was sent (unmasked, as a server's must be), a ping as a
// pong, a close as a close, after which the connection ends.

#include <cstddef>
#include <string_view>

#include "tools/origin/buffer.h"

namespace ringway::origin {

// The 101 answering a handshake whose Sec-WebSocket-Key is `key`.
void write_websocket_accept(ByteBuffer& out, std::string_view key, std::string_view date);

struct FrameEcho {
  size_t consumed = 0;  // bytes of whole frames echoed (a partial one waits)
  bool close = false;   // a close was echoed or sent: end the connection
};

// Echoes the whole frames at the start of `in`. A frame from the client
// that is not masked (RFC 6455 5.1) gets a close with 1002, one whose
// payload is over `max_payload` a close with 1009.
FrameEcho echo_frames(std::string_view in, size_t max_payload, ByteBuffer& out);

}  // namespace ringway::origin
