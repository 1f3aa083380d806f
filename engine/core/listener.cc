#include "engine/core/listener.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringway::core {

namespace {
void set_port(sockaddr_storage& ss, int port) {
  if (ss.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(static_cast<uint16_t>(port));
  else
    reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(static_cast<uint16_t>(port));
}
int get_port(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
}
}  // namespace

int open_listener(const config::SocketAddress& address, int backlog, int* bound_port,
                  std::string* error) {
  sockaddr_storage ss = address.storage;
  if (*bound_port != 0) set_port(ss, *bound_port);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Accepted sockets inherit TCP_NODELAY from the listener: no per-connection call.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ss), address.length) != 0 ||
      listen(fd, backlog) != 0) {
    *error = "listen on " + address.text + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  *bound_port = core::bound_port(fd);
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage actual{};
  socklen_t len = sizeof actual;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &len) != 0) return 0;
  return get_port(actual);
}

config::SocketAddress bound_address(const config::SocketAddress& configured, int fd) {
  config::SocketAddress bound = configured;
  set_port(bound.storage, bound_port(fd));
  return bound;
}

bool port_is_free(const config::SocketAddress& address, std::string* error) {
  int fd = socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // open_listener reports what is wrong
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool taken = bind(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 &&
                     errno == EADDRINUSE;
  close(fd);
  if (taken) *error = "listen on " + address.text + ": address already in use (by another process)";
  return !taken;
}

std::string format_address(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return std::string("[") + host + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
  inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(in4->sin_port));
}

}  // namespace ringway::core
