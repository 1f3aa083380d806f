#pragma once
// One thread's event loop: accepts from its own listener, serves its
// connections to completion, and runs its own timers. Nothing here is shared
// with other workers except the read-only view of everybody's counters.

#include <llhttp.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "tools/origin/buffer.h"
#include "tools/origin/handlers.h"
#include "tools/origin/server.h"

namespace ringway::origin {

class Worker {
 public:
  Worker(int listen_fd, int id, WorkerCounters* counters, int worker_count, bool quiet);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  bool init(std::string& error);
  void run();   // returns after wake()
  void wake();  // callable from any thread

 private:
  static constexpr size_t kInSize = 64 * 1024;  // also the request head limit
  static constexpr int kMaxIov = 64;
  // Above this much unsent output a connection stops reading and parsing,
  // which bounds /echo memory and pushes back on the client through TCP.
  static constexpr size_t kHighWater = 1024 * 1024;
  // Bodies up to this size are copied into the output buffer so that
  // pipelined responses still leave in one write.
  static constexpr uint64_t kInlineBody = 32 * 1024;

  struct Connection {
    Connection();
    Worker* worker = nullptr;
    int fd = -1;
    uint32_t index = 0;
    uint32_t generation = 0;
    llhttp_t parser;
    std::unique_ptr<char[]> in;
    uint32_t in_parse = 0;  // next byte for llhttp
    uint32_t in_end = 0;    // end of received bytes
    int32_t head_start = -1;  // first byte of the head being parsed, kept until it completes
    ByteBuffer out;
    PatternBody body;  // streamed after `out` while `streaming`

    // The request being answered.
    Route route;
    std::string extra_headers;
    std::string raw_head;
    uint64_t body_bytes = 0;
    bool head_method = false;
    bool keep_alive = true;
    bool http10 = false;
    bool echo_active = false;
    bool websocket = false;  // switched: the input is WebSocket frames (websocket.h)
    bool ws_partial = false;  // the input holds only part of a frame: wait for more
    bool response_started = false;
    EchoFraming echo_framing = EchoFraming::kLength;

    // Connection state.
    bool readable = false;       // edge-triggered: set by EPOLLIN, cleared by EAGAIN
    bool write_blocked = false;  // cleared by EPOLLOUT
    bool rdhup = false;  // epoll saw the peer's FIN (or an error) pending
    bool peer_eof = false;
    bool closing = false;  // close once everything queued is written
    bool reset_on_close = false;
    bool streaming = false;
    bool delay_pending = false;
    bool lingering = false;  // write side shut, draining input until the peer closes
    bool scheduled = false;  // in ready_ (yielded with work left)
    int64_t timer_deadline = 0;

    void reset();
  };

  struct Timer {
    int64_t deadline;
    uint32_t index;
    uint32_t generation;
    bool operator>(const Timer& o) const { return deadline > o.deadline; }
  };

  // llhttp callbacks; parser->data is the Connection.
  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, size_t len);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  static void bump(std::atomic<uint64_t>& counter) {
    // Single writer: a plain load/store avoids a locked instruction per request.
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  int headers_complete(Connection& c);
  int message_complete(Connection& c);
  void apply(Connection& c, const Plan& plan);
  Exchange exchange(const Connection& c) const;

  void accept_all();
  void handle(Connection& c, uint32_t events);
  void drive(Connection& c);  // moves a connection forward as far as it can
  void process_input(Connection& c);
  bool can_parse(const Connection& c) const;
  bool can_read(const Connection& c) const;
  bool make_room(Connection& c);
  ssize_t flush(Connection& c);
  void finish(Connection& c);
  void drain_lingering(Connection& c);
  void close_now(Connection& c);
  void schedule(Connection& c);
  void add_timer(Connection& c, int64_t deadline);
  void run_timers();
  void run_ready();
  void refresh_date();
  int64_t now_ms() const;

  int listen_fd_;
  int id_;
  WorkerCounters* counters_;
  int worker_count_;
  bool quiet_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int reserve_fd_ = -1;  // spare descriptor, released to shed a connection on EMFILE
  bool stop_ = false;

  llhttp_settings_t settings_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<uint32_t> free_;
  std::vector<uint64_t> ready_;
  std::vector<uint64_t> ready_swap_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;

  int64_t date_second_ = -1;
  char date_[40];
  size_t date_len_ = 0;
  char scratch_[kMaxIov][PatternBody::kFrameMax];  // chunk framing for the current writev
};

}  // namespace ringway::origin
