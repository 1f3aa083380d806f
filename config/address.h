#pragma once
// Socket address syntax for listeners and upstream endpoints.

#include <string>
#include <string_view>

#include "config/config.h"

namespace ringway::config::detail {

// Listener: "a.b.c.d:port", "[ipv6]:port", or "*:port" / ":port" for 0.0.0.0.
// Port 0..65535; 0 lets the kernel pick a free port (tests use it).
// On failure returns false and sets `error` to the problem, without location.
bool parse_listen_address(std::string_view text, SocketAddress& out, std::string& error);

// Endpoint: an IPv4 or bracketed IPv6 literal, or a host name, then ":port"
// (1..65535). A host name is resolved once, here, with getaddrinfo (first
// result of either family): ringway connects to addresses, and a load-time
// failure is far easier to act on than a stream of 502s later.
bool parse_endpoint_address(std::string_view text, SocketAddress& out, std::string& error);

// The port in host byte order (0 for an unset address).
int port_of(const SocketAddress& address);

// Same family, address and port.
bool same_address(const SocketAddress& a, const SocketAddress& b);

}  // namespace ringway::config::detail
