#pragma once
// The per-worker objects of the proxy: a client connection, an upstream
// connection, and the exchange (one request and its response) that links them.
// All three are owned by one worker, taken from and returned to its free lists,
// and touched only by its thread.

#include <arpa/inet.h>

#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"
#include "engine/core/timer_list.h"
#include "engine/filter/chain.h"
#include "engine/http/head_reader.h"
#include "engine/http/head_writer.h"
#include "engine/http/request_head.h"
#include "engine/proxy/chunk_queue.h"

namespace ringway::proxy {

struct Exchange;

// Above this many received-but-unprocessed bytes a connection stops reading
// until the other side catches up: memory follows traffic in flight.
constexpr uint64_t kMaxQueuedInput = 256 * 1024;
// Each queued chunk holds a whole receive buffer however few bytes it carries,
// so chunks are bounded too: a peer sending one byte per segment would
// otherwise hold a buffer per byte and starve the worker's other connections.
constexpr size_t kMaxQueuedChunks = 16;

// What both kinds of connection share: a socket with at most one multishot
// receive and one send in flight, and a count of the operations in flight so
// the object outlives every completion that names it.
struct Socket {
  int fd = -1;
  int32_t slot = -1;         // index in the ring's fixed-file table, or -1
  uint16_t pending = 0;      // SQEs in flight naming this object
  bool recv_armed = false;   // a multishot recv is in flight
  bool recv_paused = false;  // stopped on purpose (backpressure)
  bool closed = false;       // closing: wait for pending ops, then free
  bool peer_eof = false;     // the peer shut its write side, or the connection failed
  bool peer_reset = false;   // failed (reset, timeout): what came may not be all that was sent
  bool starved = false;      // on the worker's list of receives waiting for buffers
  bool write_shut = false;   // our FIN is sent (shutdown_write)
  bool send_recalled = false;  // its send is cancelled to move its bytes off the rings (relief.cc)
  int64_t send_since = 0;      // when the send in flight started
  uint32_t acked_seen = 0;   // the peer's bytes acked (low 32 bits) at the last send-timeout check
  uint32_t relief_acked = 0;  // ... at relief's last look (relief.cc)
  int64_t acks_moved_at = 0;  // the last look that saw them move
  int64_t acks_asked_at = 0;  // the last look (the kernel is asked once per look)
  core::TimerNode timer;
  InputQueue in;
  OutputQueue out;
};

enum class ClientState : uint8_t {
  kIdle,     // keep-alive, no request started
  kHead,     // reading a request head
  kForward,  // request accepted; body and response streaming
  kLinger,   // last response sent, write side shut: draining input before close
  kTunnel,   // a WebSocket upgrade succeeded: bytes flow both ways unparsed
};

struct alignas(16) ClientConn : Socket {
  ClientState state = ClientState::kIdle;
  bool close_after = false;  // close once the current response is sent
  bool served = false;       // has had a response (kIdle: between keep-alive requests)
  Exchange* ex = nullptr;
  ClientConn* prev = nullptr;  // worker's list of live clients (for draining)
  ClientConn* next = nullptr;
  char addr[INET6_ADDRSTRLEN] = {0};  // peer IP, for X-Forwarded-For
};

enum class UpstreamState : uint8_t { kConnecting, kBusy, kIdle };

struct alignas(16) UpstreamConn : Socket {
  UpstreamState state = UpstreamState::kConnecting;
  bool reused = false;  // has served a request before this one
  uint32_t pool = 0;      // index of its upstream in the worker's pools
  uint32_t endpoint = 0;  // index into that upstream's endpoints
  Exchange* ex = nullptr;
};

// A request of the engine's own (filter::WorkerServices::fetch): one
// connection, one GET, the whole body collected, then closed.
struct alignas(16) FetchConn : Socket {
  http::HeadReader response{HTTP_RESPONSE};
  std::string request;
  std::string body;
  size_t max_body = 0;
  http::BodyFraming framing = http::BodyFraming::kNone;
  uint64_t left = 0;  // Content-Length bytes still to read
  bool head_done = false;
  filter::WorkerServices::FetchCallback done;
};

enum class SocketKind : uint8_t { kClient, kUpstream, kFetch };

struct Exchange {
  ClientConn* client = nullptr;
  UpstreamConn* upstream = nullptr;
  config::ConfigPtr config;  // the snapshot this request started with
  const config::Route* route = nullptr;

  // Request side.
  http::HeadReader request{HTTP_REQUEST};
  http::RequestHead head;
  http::BodyFraming request_framing = http::BodyFraming::kNone;
  uint64_t request_left = 0;     // Content-Length bytes still to forward
  bool request_done = false;     // the whole request reached the upstream queue
  bool framing_known = false;    // the head passed its checks: request_done is exact
  bool head_request = false;
  bool http10 = false;
  bool keep_alive = true;        // client wants the connection kept
  bool expect_continue = false;
  uint8_t attempts = 0;          // retries after a reused connection failed
  uint8_t failed_connects = 0;   // endpoints whose connect failed (failover)
  uint64_t failed_endpoints = 0;  // ... as a bit per endpoint index below 64
  bool queued = false;           // waiting for a connection slot (UpstreamPool::waiting)
  std::string upstream_head;     // rebuilt request head
  std::string max_forwards;      // an OPTIONS request's decremented Max-Forwards

  // Response side.
  http::HeadReader response{HTTP_RESPONSE};
  http::BodyFraming response_framing = http::BodyFraming::kNone;
  uint64_t response_left = 0;
  bool response_started = false;  // head queued to the client
  bool response_done = false;     // whole response queued to the client
  bool response_bytes = false;    // any response byte arrived
  bool interim_queued = false;    // interim_head is queued to the client, maybe not yet sent
  bool tunnel = false;            // switched protocols: client and upstream joined (tunnel.cc)
  std::string client_head;        // rebuilt response head, or a local response
  std::string interim_head;       // the last relayed 1xx head (103 Early Hints)

  // Filters (engine/proxy/filters.cc). `chain` is null when the route has none.
  const filter::FilterChain* chain = nullptr;
  filter::Context ctx;
  uint32_t generation = 0;      // bumped on free: a stale ResumeHandle does nothing
  uint8_t filter_pos = 0;       // request-head phase: the filter to run next
  bool suspended = false;       // a filter returned kSuspend
  bool body_rewritten = false;  // the response body goes out as filters made it
  bool chunked_out = false;     // ... chunked (HTTP/1.1) rather than until close
  bool body_deferred = false;   // on Proxy::deferred_bodies_: this turn's rewrite budget ran out
  uint32_t body_watchers = 0;   // chain positions that see the response body
  std::string local_body;       // a filter-made body after body filters changed it

  Exchange* next_free = nullptr;
};

}  // namespace ringway::proxy
