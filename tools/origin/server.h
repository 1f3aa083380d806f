#pragma once
// ringway-origin's server: one epoll worker per thread, each with its own
// SO_REUSEPORT listening socket, so the request path shares nothing between
// threads.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ringway::origin {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  int threads = 1;
  bool quiet = false;
};

// Counters for /stats. Each worker writes only its own (one cache line each,
// so workers never bounce a line); /stats sums them all.
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> requests{0};
};

class Worker;

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on one socket per thread, all on the same port (the
  // first picks it when the requested port is 0).
  bool listen(std::string& error);
  uint16_t port() const { return port_; }
  // "127.0.0.1:PORT", or "[::1]:PORT" for IPv6.
  std::string endpoint() const;

  // Starts the worker threads; false with `error` when one cannot be set up.
  bool start(std::string& error);
  // Asks every worker to stop and joins them.
  void stop();

 private:
  ServerOptions options_;
  uint16_t port_ = 0;
  std::vector<int> listeners_;
  std::unique_ptr<WorkerCounters[]> counters_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace ringway::origin
