#pragma once
// The WebSocket opening handshake (RFC 6455 4), as far as an intermediary
// must understand it to know that a 101 really switched the connection: the
// gateway tunnels only when the upstream's answer proves it read this
// client's handshake.

#include <string>
#include <string_view>

namespace ringway::http {

// The Sec-WebSocket-Accept a server answers `key` with (RFC 6455 4.2.2):
// base64 of the SHA-1 of the key and the protocol's fixed GUID.
std::string websocket_accept(std::string_view key);

// Whether an Upgrade field value (a list) names the websocket protocol.
bool names_websocket(std::string_view upgrade);

}  // namespace ringway::http
