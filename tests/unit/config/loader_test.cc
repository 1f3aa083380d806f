// Successful loads: defaults, every key, normalisation, the shipped examples.
// Error messages are covered by loader_errors_test.cc.

#include "config/loader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "tests/unit/config/minimal_config.h"

namespace ringway::config {
namespace {

using std::chrono::milliseconds;

ConfigPtr load_ok(const std::string& yaml) {
  LoadResult result = load_config_string(yaml, "t.yaml");
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.error, "");
  return result.config;
}

int port_of(const SocketAddress& a) {
  if (a.storage.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(a.storage).sin_port);
}

std::string ip_of(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.storage.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, buf, sizeof buf);
  return buf;
}

// A minimal config with `routes_yaml` (starting at line 8) as its routes.
std::string with_routes(const std::string& routes_yaml) {
  return "listen:\n"
         "  - address: 127.0.0.1:8080\n"
         "upstreams:\n"
         "  origin:\n"
         "    endpoints: [\"127.0.0.1:9001\"]\n"
         "  other: { endpoints: [\"127.0.0.1:9002\"] }\n"
         "routes:\n" +
         routes_yaml;
}

TEST(LoaderTest, MinimalConfigLoadsWithDefaults) {
  ConfigPtr config = load_ok(kMinimal);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->source_file, "t.yaml");

  ASSERT_EQ(config->listeners.size(), 1u);
  const Listener& listener = config->listeners[0];
  EXPECT_EQ(listener.address.text, "127.0.0.1:8080");
  EXPECT_EQ(listener.address.storage.ss_family, AF_INET);
  EXPECT_EQ(listener.address.length, sizeof(sockaddr_in));
  EXPECT_EQ(ip_of(listener.address), "127.0.0.1");
  EXPECT_EQ(port_of(listener.address), 8080);
  EXPECT_EQ(listener.backlog, 4096);

  // Defaults are config.h's: the loader must leave unset fields alone.
  const EngineTuning defaults_engine;
  const EngineTuning& engine = config->engine;
  EXPECT_EQ(engine.workers, 1u);
  EXPECT_EQ(engine.ring_entries, defaults_engine.ring_entries);
  EXPECT_EQ(engine.cq_entries, defaults_engine.cq_entries);
  EXPECT_EQ(engine.buffer_count, defaults_engine.buffer_count);
  EXPECT_EQ(engine.buffer_size, defaults_engine.buffer_size);
  EXPECT_EQ(engine.drain_timeout, defaults_engine.drain_timeout);
  EXPECT_EQ(engine.ring_entries, 4096u);
  EXPECT_EQ(engine.cq_entries, 16384u);
  EXPECT_EQ(engine.buffer_size, 16384u);
  EXPECT_EQ(engine.drain_timeout, milliseconds(10'000));
  EXPECT_EQ(engine.batch_wait.count(), 0);  // batching is opt-in

  const Limits& limits = config->limits;
  EXPECT_EQ(limits.max_request_line, 8192u);
  EXPECT_EQ(limits.max_header_bytes, 32768u);
  EXPECT_EQ(limits.max_body_bytes, 1ull << 30);
  EXPECT_EQ(limits.client_header_timeout, milliseconds(10'000));
  EXPECT_EQ(limits.client_body_timeout, milliseconds(60'000));
  EXPECT_EQ(limits.idle_timeout, milliseconds(60'000));
  EXPECT_EQ(limits.send_timeout, milliseconds(60'000));
  EXPECT_EQ(limits.max_connections_per_worker, 16384u);

  ASSERT_EQ(config->upstreams.size(), 1u);
  const Upstream& upstream = config->upstreams[0];
  EXPECT_EQ(upstream.name, "origin");
  ASSERT_EQ(upstream.endpoints.size(), 1u);
  EXPECT_EQ(upstream.endpoints[0].address.text, "127.0.0.1:9001");
  EXPECT_EQ(port_of(upstream.endpoints[0].address), 9001);
  EXPECT_EQ(upstream.endpoints[0].weight, 1u);
  EXPECT_EQ(upstream.balancer, Balancer::kRoundRobin);
  EXPECT_EQ(upstream.host_header, "");
  EXPECT_EQ(upstream.max_idle_per_worker, 64u);
  EXPECT_EQ(upstream.max_connections_per_worker, 1024u);
  EXPECT_EQ(upstream.idle_timeout, milliseconds(60'000));
  EXPECT_EQ(upstream.connect_timeout, milliseconds(2'000));
  EXPECT_EQ(upstream.response_header_timeout, milliseconds(30'000));
  EXPECT_EQ(upstream.connect_tries, 3u);
  EXPECT_EQ(upstream.max_fails, 1u);
  EXPECT_EQ(upstream.fail_timeout, milliseconds(10'000));
  EXPECT_EQ(config->find_upstream("origin"), &upstream);

  ASSERT_EQ(config->routes.size(), 1u);
  const Route& route = config->routes[0];
  EXPECT_EQ(route.name, "routes[0]");
  EXPECT_EQ(route.match.path_kind, PathMatchKind::kPrefix);
  EXPECT_EQ(route.match.path, "/");
  EXPECT_TRUE(route.match.hosts.empty());
  EXPECT_TRUE(route.match.methods.empty());
  EXPECT_TRUE(route.match.headers.empty());
  EXPECT_EQ(route.upstream, "origin");
  EXPECT_EQ(route.upstream_index, 0u);
  EXPECT_EQ(route.strip_prefix, "");
  EXPECT_EQ(route.replace_prefix, "");
  EXPECT_EQ(route.location.file, "t.yaml");
  EXPECT_EQ(route.location.line, 8);
  EXPECT_EQ(route.location.column, 5);
}

TEST(LoaderTest, WorkersAutoAndAbsentMeanZero) {
  std::string yaml = kMinimal;
  yaml.replace(yaml.find("workers: 1"), 10, "workers: auto");
  EXPECT_EQ(load_ok(yaml)->engine.workers, 0u);
  yaml.replace(yaml.find("workers: auto\n"), 14, "");
  EXPECT_EQ(load_ok(yaml)->engine.workers, 0u);
  yaml += "workers: 1024\n";
  EXPECT_EQ(load_ok(yaml)->engine.workers, 1024u);
}

TEST(LoaderTest, EveryKeyParsed) {
  ConfigPtr config = load_ok(R"(listen:
  - address: 10.0.0.1:80
    backlog: 128
  - address: "[::1]:8443"
workers: 8
engine:
  ring_entries: 1024
  cq_entries: 2048
  buffer_count: 512
  buffer_size: 64KiB
  drain_timeout: 30s
  batch_completions: 16
  batch_wait: 150us
  batch_min_rps: 5000
limits:
  max_request_line: 4KiB
  max_header_bytes: 16KiB
  max_body_bytes: 10MiB
  client_header_timeout: 5s
  client_body_timeout: 30s
  idle_timeout: 2m
  send_timeout: 45s
  max_connections_per_worker: 1000
upstreams:
  api:
    endpoints:
      - 127.0.0.1:9001
      - { address: "127.0.0.1:9002", weight: 3 }
      - address: "[::1]:9003"
    balancer: weighted_round_robin
    host: api.internal
    max_idle_per_worker: 8
    max_connections_per_worker: 100
    idle_timeout: 30s
    connect_timeout: 500ms
    response_header_timeout: 1m
    connect_tries: 2
    max_fails: 0
    fail_timeout: 30s
  web:
    endpoints: ["127.0.0.1:9100"]
    balancer: round_robin
routes:
  - name: api
    match:
      host: [API.Example.com, "*.example.org."]
      prefix: /api/
      methods: [get, POST]
      headers: { X-Tenant: blue, x-env: "prod" }
    upstream: api
    strip_prefix: /api
    replace_prefix: /v1
  - name: exact
    match: { path: /healthz, methods: HEAD, host: example.com }
    upstream: web
  - match: { regex: '^/static/.*\.css$' }
    upstream: web
    strip_prefix: /static
    replace_prefix: ""
)");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_EQ(config->listeners[0].backlog, 128);
  EXPECT_EQ(ip_of(config->listeners[0].address), "10.0.0.1");
  EXPECT_EQ(port_of(config->listeners[0].address), 80);
  EXPECT_EQ(config->listeners[1].address.storage.ss_family, AF_INET6);
  EXPECT_EQ(config->listeners[1].address.length, sizeof(sockaddr_in6));
  EXPECT_EQ(config->listeners[1].address.text, "[::1]:8443");
  EXPECT_EQ(ip_of(config->listeners[1].address), "::1");
  EXPECT_EQ(port_of(config->listeners[1].address), 8443);

  EXPECT_EQ(config->engine.workers, 8u);
  EXPECT_EQ(config->engine.ring_entries, 1024u);
  EXPECT_EQ(config->engine.cq_entries, 2048u);
  EXPECT_EQ(config->engine.buffer_count, 512u);
  EXPECT_EQ(config->engine.buffer_size, 65536u);
  EXPECT_EQ(config->engine.drain_timeout, milliseconds(30'000));
  EXPECT_EQ(config->engine.batch_completions, 16u);
  EXPECT_EQ(config->engine.batch_wait, std::chrono::microseconds(150));
  EXPECT_EQ(config->engine.batch_min_rps, 5000u);

  EXPECT_EQ(config->limits.max_request_line, 4096u);
  EXPECT_EQ(config->limits.max_header_bytes, 16384u);
  EXPECT_EQ(config->limits.max_body_bytes, 10u << 20);
  EXPECT_EQ(config->limits.client_header_timeout, milliseconds(5'000));
  EXPECT_EQ(config->limits.client_body_timeout, milliseconds(30'000));
  EXPECT_EQ(config->limits.idle_timeout, milliseconds(120'000));
  EXPECT_EQ(config->limits.send_timeout, milliseconds(45'000));
  EXPECT_EQ(config->limits.max_connections_per_worker, 1000u);

  ASSERT_EQ(config->upstreams.size(), 2u);
  const Upstream& api = config->upstreams[0];
  EXPECT_EQ(api.name, "api");
  ASSERT_EQ(api.endpoints.size(), 3u);
  EXPECT_EQ(api.endpoints[0].address.text, "127.0.0.1:9001");
  EXPECT_EQ(api.endpoints[0].weight, 1u);
  EXPECT_EQ(api.endpoints[1].address.text, "127.0.0.1:9002");
  EXPECT_EQ(port_of(api.endpoints[1].address), 9002);
  EXPECT_EQ(api.endpoints[1].weight, 3u);
  EXPECT_EQ(api.endpoints[2].address.storage.ss_family, AF_INET6);
  EXPECT_EQ(api.endpoints[2].address.text, "[::1]:9003");
  EXPECT_EQ(api.balancer, Balancer::kWeightedRoundRobin);
  EXPECT_EQ(api.host_header, "api.internal");
  EXPECT_EQ(api.max_idle_per_worker, 8u);
  EXPECT_EQ(api.max_connections_per_worker, 100u);
  EXPECT_EQ(api.idle_timeout, milliseconds(30'000));
  EXPECT_EQ(api.connect_timeout, milliseconds(500));
  EXPECT_EQ(api.response_header_timeout, milliseconds(60'000));
  EXPECT_EQ(api.connect_tries, 2u);
  EXPECT_EQ(api.max_fails, 0u);
  EXPECT_EQ(api.fail_timeout, milliseconds(30'000));
  EXPECT_EQ(config->upstreams[1].name, "web");
  EXPECT_EQ(config->upstreams[1].balancer, Balancer::kRoundRobin);

  ASSERT_EQ(config->routes.size(), 3u);
  const Route& r0 = config->routes[0];
  EXPECT_EQ(r0.name, "api");
  EXPECT_EQ(r0.match.hosts, (std::vector<std::string>{"api.example.com", "*.example.org"}));
  EXPECT_EQ(r0.match.path_kind, PathMatchKind::kPrefix);
  EXPECT_EQ(r0.match.path, "/api/");
  EXPECT_EQ(r0.match.methods, (std::vector<std::string>{"GET", "POST"}));
  ASSERT_EQ(r0.match.headers.size(), 2u);
  EXPECT_EQ(r0.match.headers[0].name, "x-tenant");
  EXPECT_EQ(r0.match.headers[0].value, "blue");
  EXPECT_EQ(r0.match.headers[1].name, "x-env");
  EXPECT_EQ(r0.match.headers[1].value, "prod");
  EXPECT_EQ(r0.upstream, "api");
  EXPECT_EQ(r0.upstream_index, 0u);
  EXPECT_EQ(r0.strip_prefix, "/api");
  EXPECT_EQ(r0.replace_prefix, "/v1");
  EXPECT_EQ(r0.location.line, 44);
  EXPECT_EQ(r0.location.column, 5);

  const Route& r1 = config->routes[1];
  EXPECT_EQ(r1.name, "exact");
  EXPECT_EQ(r1.match.path_kind, PathMatchKind::kExact);
  EXPECT_EQ(r1.match.path, "/healthz");
  EXPECT_EQ(r1.match.methods, (std::vector<std::string>{"HEAD"}));
  EXPECT_EQ(r1.match.hosts, (std::vector<std::string>{"example.com"}));
  EXPECT_EQ(r1.upstream_index, 1u);
  EXPECT_EQ(r1.location.line, 53);

  const Route& r2 = config->routes[2];
  EXPECT_EQ(r2.name, "routes[2]");
  EXPECT_EQ(r2.match.path_kind, PathMatchKind::kRegex);
  EXPECT_EQ(r2.match.path, "^/static/.*\\.css$");
  EXPECT_EQ(r2.upstream, "web");
  EXPECT_EQ(r2.strip_prefix, "/static");
  EXPECT_EQ(r2.replace_prefix, "");
  EXPECT_EQ(r2.location.line, 56);
}

TEST(LoaderTest, ListenAddressForms) {
  ConfigPtr config = load_ok(R"(listen:
  - address: "*:80"
  - address: :81
  - address: "[::]:82"
  - address: 127.0.0.1:0
  - address: 127.0.0.1:0
  - address: 0.0.0.0:65535
upstreams: { origin: { endpoints: ["127.0.0.1:9001"] } }
routes: [ { match: {}, upstream: origin } ]
)");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->listeners.size(), 6u);
  EXPECT_EQ(ip_of(config->listeners[0].address), "0.0.0.0");
  EXPECT_EQ(port_of(config->listeners[0].address), 80);
  EXPECT_EQ(config->listeners[0].address.text, "*:80");
  EXPECT_EQ(ip_of(config->listeners[1].address), "0.0.0.0");
  EXPECT_EQ(port_of(config->listeners[1].address), 81);
  EXPECT_EQ(ip_of(config->listeners[2].address), "::");
  // Port 0 ("any free port") twice is not a duplicate.
  EXPECT_EQ(port_of(config->listeners[3].address), 0);
  EXPECT_EQ(port_of(config->listeners[4].address), 0);
  EXPECT_EQ(port_of(config->listeners[5].address), 65535);
}

TEST(LoaderTest, EndpointHostNameIsResolvedAtLoad) {
  ConfigPtr config = load_ok(R"(listen: [{address: "127.0.0.1:8080"}]
upstreams:
  origin:
    endpoints: ["localhost:9001"]
routes: [{match: {}, upstream: origin}]
)");
  ASSERT_TRUE(config);
  const SocketAddress& a = config->upstreams[0].endpoints[0].address;
  EXPECT_EQ(a.text, "localhost:9001");
  EXPECT_EQ(port_of(a), 9001);
  std::string ip = ip_of(a);
  EXPECT_TRUE(ip == "127.0.0.1" || ip == "::1") << ip;
}

TEST(LoaderTest, BalancerDefaultsToWeightedWhenAnyWeightIsNotOne) {
  ConfigPtr config = load_ok(R"(listen: [{address: "127.0.0.1:8080"}]
upstreams:
  a: { endpoints: [{address: "127.0.0.1:9001", weight: 1}, "127.0.0.1:9002"] }
  b: { endpoints: [{address: "127.0.0.1:9001", weight: 2}, "127.0.0.1:9002"] }
routes: [{match: {}, upstream: a}]
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->upstreams[0].balancer, Balancer::kRoundRobin);
  EXPECT_EQ(config->upstreams[1].balancer, Balancer::kWeightedRoundRobin);
  EXPECT_EQ(config->upstreams[1].endpoints[0].weight, 2u);
}

TEST(LoaderTest, CompletionQueueDefaultKeepsUpWithRingEntries) {
  ConfigPtr config = load_ok(std::string(kMinimal) + "engine: { ring_entries: 32768 }\n");
  EXPECT_EQ(config->engine.ring_entries, 32768u);
  EXPECT_EQ(config->engine.cq_entries, 65536u);
  config = load_ok(std::string(kMinimal) + "engine: { ring_entries: 64 }\n");
  EXPECT_EQ(config->engine.cq_entries, 16384u);
  config = load_ok(std::string(kMinimal) + "engine: { ring_entries: 256, cq_entries: 256 }\n");
  EXPECT_EQ(config->engine.cq_entries, 256u);
}

TEST(LoaderTest, IdlePoolDefaultFitsUnderConnectionCap) {
  ConfigPtr config = load_ok(R"(listen: [{address: "127.0.0.1:8080"}]
upstreams:
  a: { endpoints: ["127.0.0.1:9001"], max_connections_per_worker: 10 }
  b: { endpoints: ["127.0.0.1:9001"], max_connections_per_worker: 10, max_idle_per_worker: 0 }
routes: [{match: {}, upstream: a}]
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->upstreams[0].max_idle_per_worker, 10u);
  EXPECT_EQ(config->upstreams[1].max_idle_per_worker, 0u);
}

TEST(LoaderTest, EmptyOptionalSectionsMeanDefaults) {
  ConfigPtr config = load_ok(std::string(kMinimal) + "engine:\nlimits: {}\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->engine.ring_entries, 4096u);
  EXPECT_EQ(config->limits.max_body_bytes, 1ull << 30);
}

TEST(LoaderTest, SizesAndDurationsInEverySpelling) {
  ConfigPtr config = load_ok(std::string(kMinimal) + R"(limits:
  max_request_line: 1000
  max_header_bytes: 2k
  max_body_bytes: 3 GiB
  client_header_timeout: 250
  client_body_timeout: 250ms
  idle_timeout: 1h
  send_timeout: "7 s"
engine:
  buffer_size: 1M
  drain_timeout: 0
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->limits.max_request_line, 1000u);
  EXPECT_EQ(config->limits.max_header_bytes, 2048u);
  EXPECT_EQ(config->limits.max_body_bytes, 3ull << 30);
  EXPECT_EQ(config->limits.client_header_timeout, milliseconds(250));
  EXPECT_EQ(config->limits.client_body_timeout, milliseconds(250));
  EXPECT_EQ(config->limits.idle_timeout, milliseconds(3'600'000));
  EXPECT_EQ(config->limits.send_timeout, milliseconds(7'000));
  EXPECT_EQ(config->engine.buffer_size, 1u << 20);
  EXPECT_EQ(config->engine.drain_timeout, milliseconds(0));
}

TEST(LoaderTest, MatchValuesAreNormalised) {
  ConfigPtr config = load_ok(with_routes(R"(  - match:
      prefix: /caf%c3%a9/%7euser/%41
      host: Example.COM.
      methods: [delete]
      headers: { X-A: "Mixed Case" }
    upstream: other
  - match: { path: /a, host: "[::1]" }
    upstream: origin
)"));
  ASSERT_TRUE(config);
  const Route& r = config->routes[0];
  // Unreserved escapes decoded, the rest upper-cased: how the router sees requests.
  EXPECT_EQ(r.match.path, "/caf%C3%A9/~user/A");
  EXPECT_EQ(r.match.hosts, (std::vector<std::string>{"example.com"}));
  EXPECT_EQ(r.match.methods, (std::vector<std::string>{"DELETE"}));
  EXPECT_EQ(r.match.headers[0].name, "x-a");
  EXPECT_EQ(r.match.headers[0].value, "Mixed Case");
  EXPECT_EQ(r.upstream_index, 1u);
  EXPECT_EQ(config->routes[1].match.hosts, (std::vector<std::string>{"[::1]"}));
}

TEST(LoaderTest, RoutesShadowedByAnEarlierCatchAllAreAllowed) {
  ConfigPtr config = load_ok(with_routes(R"(  - match: {}
    upstream: origin
  - match: { prefix: /api }
    upstream: other
  - match: { prefix: /api, methods: GET }
    upstream: other
  - match: { prefix: /api, host: a.example }
    upstream: other
)"));
  ASSERT_TRUE(config);
  EXPECT_EQ(config->routes.size(), 4u);
  EXPECT_EQ(config->routes[0].match.path_kind, PathMatchKind::kNone);
}

TEST(LoaderTest, AnchorsAndAliasesWork) {
  ConfigPtr config = load_ok(R"(listen: [{address: "127.0.0.1:8080"}]
upstreams:
  a: &pool { endpoints: ["127.0.0.1:9001"], connect_timeout: 1s }
  b: *pool
routes: [{match: {}, upstream: b}]
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->upstreams[1].connect_timeout, milliseconds(1000));
  EXPECT_EQ(config->routes[0].upstream_index, 1u);
}

TEST(LoaderTest, ExamplesLoad) {
  for (const char* name : {"quickstart.yaml", "full.yaml"}) {
    std::string path = std::string(RINGWAY_SOURCE_DIR) + "/config/examples/" + name;
    LoadResult result = load_config_file(path);
    EXPECT_TRUE(result.ok()) << result.error;
    if (result.ok()) {
      EXPECT_EQ(result.config->source_file, path);
    }
  }
  LoadResult quickstart =
      load_config_file(std::string(RINGWAY_SOURCE_DIR) + "/config/examples/quickstart.yaml");
  ASSERT_TRUE(quickstart.ok()) << quickstart.error;
  EXPECT_EQ(quickstart.config->listeners[0].address.text, "127.0.0.1:8080");
  EXPECT_EQ(quickstart.config->engine.workers, 0u);
  ASSERT_EQ(quickstart.config->upstreams.size(), 1u);
  EXPECT_EQ(quickstart.config->upstreams[0].name, "demo");
  EXPECT_EQ(quickstart.config->upstreams[0].endpoints[0].address.text, "127.0.0.1:9001");
  ASSERT_EQ(quickstart.config->routes.size(), 1u);
  EXPECT_EQ(quickstart.config->routes[0].match.path, "/");
}

TEST(LoaderTest, LoadConfigFileReadsTheFile) {
  char path[] = "/tmp/ringway_config_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kMinimal, strlen(kMinimal)), static_cast<ssize_t>(strlen(kMinimal)));
  close(fd);
  LoadResult result = load_config_file(path);
  unlink(path);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.config->source_file, path);
  EXPECT_EQ(result.config->routes[0].location.file, path);
}

TEST(LoaderTest, UnreadableFile) {
  LoadResult result = load_config_file("/nonexistent/ringway.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "/nonexistent/ringway.yaml: cannot read: No such file or directory");
  result = load_config_file("/");
  EXPECT_EQ(result.error, "/: not a regular file");
}

}  // namespace
}  // namespace ringway::config

namespace ringway::config {
namespace {

TEST(LoaderTest, WebSocketTunnels) {
  ConfigPtr defaults = load_ok(kMinimal);
  EXPECT_FALSE(defaults->routes[0].websocket);
  EXPECT_EQ(defaults->limits.tunnel_idle_timeout, std::chrono::milliseconds(3'600'000));
  EXPECT_EQ(defaults->limits.stalled_peer_memory, 64u << 20);
  ConfigPtr config = load_ok(R"(listen: [{ address: 127.0.0.1:8080 }]
limits: { tunnel_idle_timeout: 90s, stalled_peer_memory: 8MiB }
upstreams: { origin: { endpoints: ["127.0.0.1:9001"] } }
routes:
  - match: { prefix: /ws }
    upstream: origin
    websocket: false
  - match: { prefix: / }
    upstream: origin
    websocket: true
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->limits.tunnel_idle_timeout, std::chrono::milliseconds(90'000));
  EXPECT_EQ(config->limits.stalled_peer_memory, 8u << 20);
  EXPECT_FALSE(config->routes[0].websocket);
  EXPECT_TRUE(config->routes[1].websocket);
}

}  // namespace
}  // namespace ringway::config
