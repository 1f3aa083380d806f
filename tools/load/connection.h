#pragma once
// The state of one client connection. All memory is allocated when the
// client is set up (receive buffer, send buffer capacity, in-flight ring), so
// the run itself never allocates.

#include <llhttp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tools/load/pacing.h"

namespace ringway::load {

class Client;

// A request on the wire, waiting for its response.
struct InFlight {
  int64_t intended_ns = 0;  // latency is measured from here (open loop)
  int64_t sent_ns = 0;      // the timeout is measured from here
  bool head_only = false;   // HEAD: the response has no body whatever it says
};

enum class ConnState : uint8_t {
  kIdle,        // no socket; reconnect at retry_at_ns
  kConnecting,  // connect submitted
  kOpen,        // connected, a recv always armed
  kClosing,     // socket shut down, waiting for its operations to finish
};

struct Connection {
  Client* client = nullptr;
  int index = 0;   // in the client's array; part of every user_data
  int global = 0;  // connection number across all threads (the schedule's)
  int fd = -1;
  ConnState state = ConnState::kIdle;
  // Operations submitted and not completed. The socket is closed, and the
  // buffers reused, only once this is 0, so the kernel never writes into a
  // buffer that belongs to the next socket.
  int pending_ops = 0;
  bool recv_armed = false;
  bool send_armed = false;
  bool in_heap = false;      // waiting in the client's wake-up heap
  bool close_after = false;  // the last response said Connection: close
  bool answered = false;     // a response has come on this socket
  int64_t retry_at_ns = 0;
  int64_t connect_started_ns = 0;

  // Requests not yet fully written: bytes [out_sent, out.size()). The
  // capacity is reserved at setup and never exceeded, so appending never
  // moves bytes the kernel may be reading.
  std::string out;
  size_t out_sent = 0;

  std::unique_ptr<char[]> in;
  llhttp_t parser{};

  // FIFO of requests in flight, capacity = --pipeline.
  std::unique_ptr<InFlight[]> ring;
  uint32_t ring_cap = 1;
  uint32_t ring_head = 0;
  uint32_t ring_count = 0;

  Pacer pacer;  // open loop only

  bool ring_full() const { return ring_count == ring_cap; }
  InFlight& front() { return ring[ring_head]; }
  void push(const InFlight& f) {
    ring[(ring_head + ring_count) % ring_cap] = f;
    ++ring_count;
  }
  InFlight pop() {
    InFlight f = ring[ring_head];
    ring_head = (ring_head + 1) % ring_cap;
    --ring_count;
    return f;
  }
  void clear_ring() { ring_head = ring_count = 0; }
};

}  // namespace ringway::load
