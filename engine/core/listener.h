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

// The port a socket is bound to (0 if it cannot be read).
int bound_port(int fd);

// `configured` with the port socket `fd` is bound to: for a ":0" listener,
// the address it actually got.
config::SocketAddress bound_address(const config::SocketAddress& configured, int fd);

// SO_REUSEPORT lets a second process (another ringway, a stale one) bind the
// same port and silently take a share of its connections. Before the first
// socket of a listener is opened, a plain bind (SO_REUSEADDR only, so
// TIME_WAIT does not count) shows whether anyone listens there already.
// Returns false, with `error` set, if the port is taken.
bool port_is_free(const config::SocketAddress& address, std::string* error);

// "127.0.0.1:8080" / "[::1]:8080" for a socket address.
std::string format_address(const sockaddr* sa);

}  // namespace ringway::core
