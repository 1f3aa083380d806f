#pragma once
// The configuration snapshot: an immutable, fully validated value built once by
// load_config() (config/loader.h). Workers hold a shared_ptr<const Config>; a
// request keeps the snapshot it started with, so a reload never changes the
// rules under an in-flight request.

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace ringway::config {

using Millis = std::chrono::milliseconds;

// Where a value came from in the YAML source (1-based, as editors count).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// A resolved socket address (IPv4 or IPv6 literal, or a name resolved at load).
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // as written, e.g. "127.0.0.1:9001"
};

struct Listener {
  SocketAddress address;
  int backlog = 4096;
};

enum class Balancer { kRoundRobin, kWeightedRoundRobin };

struct Endpoint {
  SocketAddress address;
  uint32_t weight = 1;
};

struct Upstream {
  std::string name;
  std::vector<Endpoint> endpoints;
  Balancer balancer = Balancer::kRoundRobin;
  // Host header sent upstream. Empty: pass the client's Host through.
  std::string host_header;
  // Per-worker keep-alive pool.
  uint32_t max_idle_per_worker = 64;
  uint32_t max_connections_per_worker = 1024;
  Millis idle_timeout{60'000};
  Millis connect_timeout{2'000};
  Millis response_header_timeout{30'000};
  // Failover and passive health (engine/upstream/health.h): a request whose
  // connect fails or times out tries other endpoints, up to connect_tries
  // endpoints in all; an endpoint failing max_fails connects within
  // fail_timeout is skipped for fail_timeout (max_fails 0: never).
  uint32_t connect_tries = 3;
  uint32_t max_fails = 1;
  Millis fail_timeout{10'000};
};

enum class PathMatchKind { kNone, kExact, kPrefix, kRegex };

struct HeaderMatch {
  std::string name;   // lower-cased at load
  std::string value;  // exact, case-sensitive match
};

struct RouteMatch {
  // Host patterns, lower-cased: "api.example.com" or "*.example.com". Empty = any host.
  std::vector<std::string> hosts;
  PathMatchKind path_kind = PathMatchKind::kNone;  // kNone = any path
  std::string path;                                // exact path, prefix or RE2 pattern
  std::vector<std::string> methods;                // upper-case; empty = any method
  std::vector<HeaderMatch> headers;                // all must match
};

// One entry of the top-level `filters:` map. Only the name and type are read
// here; the filter's own keys are read by its compiler in filters/<type>/
// (filters/registry.h), which turns the spec into a filter object.
struct FilterSpec {
  std::string name;
  std::string type;
  std::shared_ptr<const YAML::Node> node;  // the filter's map, for its compiler
  std::string path;                        // "filters.<name>", for messages
};

struct Route {
  std::string name;  // "routes[3]" unless named
  RouteMatch match;
  // Name of an entry in Config::upstreams and its index, resolved at load.
  // Empty / kNoUpstream: the route's filters answer (respond, redirect).
  std::string upstream;
  static constexpr size_t kNoUpstream = static_cast<size_t>(-1);
  size_t upstream_index = kNoUpstream;
  // Prefix rewrite applied to the normalised path before it is sent upstream:
  // a path starting with strip_prefix has it replaced by replace_prefix
  // (which may be empty; the result is never empty: "" becomes "/").
  std::string strip_prefix;
  std::string replace_prefix;
  // Whether a WebSocket handshake (RFC 6455) goes on as one, so that a 101
  // from the upstream turns the connection into a tunnel. Off (the default,
  // as in nginx and Envoy: a tunnel passes the gateway's filters by): the
  // Upgrade is dropped like any hop-by-hop field, as for every other protocol.
  bool websocket = false;
  // The route's filter chain: indexes into Config::filters, in order.
  // Config::default_filters unless the route lists its own (even none).
  std::vector<size_t> filters;
  SourceLocation location;
};

struct Limits {
  uint32_t max_request_line = 8 * 1024;          // 414 above
  uint32_t max_header_bytes = 32 * 1024;         // 431 above (request line excluded)
  uint64_t max_body_bytes = 1024ull * 1024 * 1024;  // 413 above
  Millis client_header_timeout{10'000};          // 408 when the head is not in by then
  Millis client_body_timeout{60'000};            // idle gap while reading a body
  Millis idle_timeout{60'000};                   // keep-alive connection with no request
  Millis send_timeout{60'000};                   // a peer not reading what we send
  Millis tunnel_idle_timeout{3'600'000};         // a WebSocket tunnel with no bytes either way
  uint32_t max_connections_per_worker = 16384;
  // Heap a worker may give the bytes of peers that stopped reading, moved off
  // the shared receive rings when those run low (engine/proxy/relief.cc).
  uint64_t stalled_peer_memory = 64ull * 1024 * 1024;
};

struct EngineTuning {
  uint32_t workers = 0;           // 0 = one per online CPU ("auto")
  uint32_t ring_entries = 4096;   // submission queue size
  uint32_t cq_entries = 16384;    // completion queue size (explicit, > ring_entries)
  uint32_t buffer_count = 1024;   // provided receive buffers per worker (power of two)
  uint32_t buffer_size = 16384;   // bytes per provided buffer
  Millis drain_timeout{10'000};   // SIGTERM: time in-flight requests get to finish
  bool registered_files = true;   // sockets in the ring's fixed-file table
  // Completion batching (core::WaitBatch): off while batch_wait is 0, and
  // used by a worker only while it serves at least batch_min_rps.
  uint32_t batch_completions = 32;
  std::chrono::microseconds batch_wait{0};
  uint32_t batch_min_rps = 10'000;
};

struct Config {
  std::string source_file;
  std::vector<Listener> listeners;
  EngineTuning engine;
  Limits limits;
  std::vector<Upstream> upstreams;
  std::vector<Route> routes;  // in file order; the first match wins
  std::vector<FilterSpec> filters;
  std::vector<size_t> default_filters;  // chain of routes without `filters:`

  const Upstream* find_upstream(const std::string& name) const {
    for (const auto& u : upstreams)
      if (u.name == name) return &u;
    return nullptr;
  }

  // Index in `filters` of the filter named `name`, if it has the type
  // `type`; npos otherwise (a reload pairs filters across configs by both).
  static constexpr size_t npos = static_cast<size_t>(-1);
  size_t find_filter(const std::string& name, const std::string& type) const {
    for (size_t i = 0; i < filters.size(); ++i)
      if (filters[i].name == name && filters[i].type == type) return i;
    return npos;
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

}  // namespace ringway::config
