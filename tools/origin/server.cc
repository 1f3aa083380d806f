#include "tools/origin/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tools/origin/worker.h"

namespace ringway::origin {
namespace {

bool make_address(const std::string& address, uint16_t port, sockaddr_storage& storage,
                  socklen_t& length) {
  std::memset(&storage, 0, sizeof(storage));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int open_listener(const std::string& address, uint16_t port, uint16_t& bound_port,
                  std::string& error) {
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!make_address(address, port, storage, length)) {
    error = "invalid address '" + address + "' (expected an IPv4 or IPv6 literal)";
    return -1;
  }
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // Every worker binds the same port; the kernel spreads connections.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    error = std::string("SO_REUSEPORT: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    error = "bind " + address + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (::listen(fd, 4096) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  sockaddr_storage actual;
  socklen_t actual_len = sizeof(actual);
  getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &actual_len);
  bound_port = actual.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&actual)->sin_port);
  return fd;
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  stop();
  for (int fd : listeners_) {
    if (fd >= 0) ::close(fd);
  }
}

bool Server::listen(std::string& error) {
  uint16_t port = options_.port;
  for (int i = 0; i < options_.threads; ++i) {
    uint16_t bound = 0;
    int fd = open_listener(options_.address, port, bound, error);
    if (fd < 0) return false;
    listeners_.push_back(fd);
    port = bound;  // the rest join the port the first one got
  }
  port_ = port;
  return true;
}

std::string Server::endpoint() const {
  if (options_.address.find(':') != std::string::npos) {
    return "[" + options_.address + "]:" + std::to_string(port_);
  }
  return options_.address + ":" + std::to_string(port_);
}

bool Server::start(std::string& error) {
  const int count = static_cast<int>(listeners_.size());
  counters_.reset(new WorkerCounters[count]);
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(listeners_[i], i, counters_.get(), count,
                                           options_.quiet);
    listeners_[i] = -1;  // the worker owns it now
    if (!worker->init(error)) return false;
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    threads_.emplace_back([w] { w->run(); });
  }
  return true;
}

void Server::stop() {
  for (auto& worker : workers_) worker->wake();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  workers_.clear();
}

}  // namespace ringway::origin
