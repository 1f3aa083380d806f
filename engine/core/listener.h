#pragma once
// Listening sockets. Each worker opens its own socket per configured listener
// with SO_REUSEPORT, so the kernel spreads new connections across workers and
// no accept queue is shared between threads.

#include <string>

#include "config/config.h"

namespace ringway::core {

// Opens, binds and listens. `address` may carry port 0 on the first call; pass
// the port it got (bound_port) to the other workers' calls. Returns -1 and sets
// `error` on failure.
int open_listener(const config::SocketAddress& address, int backlog, int* bound_port,
                  std::string* error);

// "127.0.0.1:8080" / "[::1]:8080" for a socket address.
std::string format_address(const sockaddr* sa);

}  // namespace ringway::core
