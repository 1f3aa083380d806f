// Every class of configuration error, with its exact "FILE:LINE:COLUMN: message"
// line. Positions are 1-based; each test's YAML is laid out so that the
// expected line can be counted from the raw string.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/minimal_config.h"

namespace ringway::config {
namespace {

using ::testing::StartsWith;

// A valid config up to "routes:" (line 7); `routes_yaml` starts at line 8.
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

// Listen and routes valid; `upstreams_yaml` starts at line 2. Routes point at "origin".
std::string with_upstreams(const std::string& upstreams_yaml) {
  return "upstreams:\n" + upstreams_yaml +
         "listen: [{address: \"127.0.0.1:8080\"}]\n"
         "routes: [{match: {}, upstream: origin}]\n";
}

// `listen_yaml` starts at line 2.
std::string with_listen(const std::string& listen_yaml) {
  return "listen:\n" + listen_yaml +
         "upstreams: {origin: {endpoints: [\"127.0.0.1:9001\"]}}\n"
         "routes: [{match: {}, upstream: origin}]\n";
}

std::string error_of(const std::string& yaml) {
  LoadResult result = load_config_string(yaml, "t.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.config, nullptr);
  EXPECT_EQ(result.error.find('\n'), std::string::npos) << "error must be one line";
  return result.error;
}

// ---- YAML syntax and document shape ----

TEST(LoaderErrorsTest, YamlSyntaxErrorsCarryTheirPosition) {
  EXPECT_EQ(error_of("listen: [\n"), "t.yaml:2:1: end of sequence flow not found");
  EXPECT_EQ(error_of("listen: 1\n  workers: 2\n"), "t.yaml:2:10: illegal map value");
  EXPECT_EQ(error_of("listen: *nowhere\n"), "t.yaml:1:9: the referenced anchor is not defined");
  EXPECT_EQ(error_of(std::string(kMinimal) + "engine: {ring_entries: 64\n"),
            "t.yaml:11:1: end of map flow not found");
}

TEST(LoaderErrorsTest, EmptyDocument) {
  EXPECT_EQ(error_of(""), "t.yaml:1:1: the configuration is empty");
  EXPECT_EQ(error_of("# nothing but a comment\n"), "t.yaml:1:1: the configuration is empty");
}

TEST(LoaderErrorsTest, TopLevelMustBeAMap) {
  EXPECT_EQ(error_of("- listen\n- routes\n"),
            "t.yaml:1:1: expected a map of settings at top level, got a list");
  EXPECT_EQ(error_of("hello\n"), "t.yaml:1:1: expected a map of settings at top level, got \"hello\"");
}

TEST(LoaderErrorsTest, SecondDocument) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "---\nworkers: 2\n"),
            "t.yaml:11:1: a second YAML document; the configuration must be a single document");
}

TEST(LoaderErrorsTest, MergeKeysAreNotSupported) {
  EXPECT_EQ(error_of(with_upstreams("  a: &base { endpoints: [\"127.0.0.1:9001\"] }\n"
                                    "  origin:\n    <<: *base\n")),
            "t.yaml:4:5: YAML merge keys (\"<<\") are not supported in upstream \"origin\"; repeat the keys instead");
}

TEST(LoaderErrorsTest, EmptyListElementsHaveAPosition) {
  // yaml-cpp places an empty "-" at the token after it (here: end of file).
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n  -\n")),
            "t.yaml:11:1: routes[1]: expected a map, got null");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints:\n      -\n      - 127.0.0.1:1\n")),
            "t.yaml:5:7: upstreams.origin.endpoints[0]: expected an address such as \"127.0.0.1:9001\" "
            "or a map with \"address\" and \"weight\", got null");
}

TEST(LoaderErrorsTest, NonStringKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[a, b]: 1\n"), "t.yaml:10:1: expected a key name, got a list");
}

// ---- Unknown, duplicate and missing keys ----

TEST(LoaderErrorsTest, UnknownTopLevelKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "limit:\n  idle_timeout: 5s\n"),
            "t.yaml:10:1: unknown key \"limit\" at top level (did you mean \"limits\"?)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "colour: red\n"),
            "t.yaml:10:1: unknown key \"colour\" at top level");
  EXPECT_EQ(error_of(std::string(kMinimal) + "Workers: 2\n"),
            "t.yaml:10:1: unknown key \"Workers\" at top level (did you mean \"workers\"?)");
}

TEST(LoaderErrorsTest, UnknownKeyInUpstreamSuggestsTheClosestKey) {
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpont: [\"127.0.0.1:9001\"]\n")),
            "t.yaml:3:5: unknown key \"endpont\" in upstream \"origin\" (did you mean \"endpoints\"?)");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: [\"127.0.0.1:9001\"]\n"
                                    "    conect_timout: 1s\n")),
            "t.yaml:4:5: unknown key \"conect_timout\" in upstream \"origin\" (did you mean \"connect_timeout\"?)");
}

TEST(LoaderErrorsTest, UnknownKeysInEverySection) {
  EXPECT_EQ(error_of(with_listen("  - adress: 127.0.0.1:8080\n")),
            "t.yaml:2:5: unknown key \"adress\" in listen[0] (did you mean \"address\"?)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "engine:\n  ring_entires: 64\n"),
            "t.yaml:11:3: unknown key \"ring_entires\" in engine (did you mean \"ring_entries\"?)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "engine:\n  workers: 4\n"),
            "t.yaml:11:3: unknown key \"workers\" in engine");
  EXPECT_EQ(error_of(std::string(kMinimal) + "limits: { idle_timout: 5s }\n"),
            "t.yaml:10:11: unknown key \"idle_timout\" in limits (did you mean \"idle_timeout\"?)");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints:\n"
                                    "      - { address: \"127.0.0.1:9001\", wieght: 2 }\n")),
            "t.yaml:4:38: unknown key \"wieght\" in upstreams.origin.endpoints[0] (did you mean \"weight\"?)");
  EXPECT_EQ(error_of(with_routes("  - name: api\n    match: {}\n    upstrem: origin\n")),
            "t.yaml:10:5: unknown key \"upstrem\" in route \"api\" (did you mean \"upstream\"?)");
  EXPECT_EQ(error_of(with_routes("  - match: { prefx: /a }\n    upstream: origin\n")),
            "t.yaml:8:14: unknown key \"prefx\" in the match of routes[0] (did you mean \"prefix\"?)");
}

TEST(LoaderErrorsTest, DuplicateKeys) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "workers: 2\n"),
            "t.yaml:10:1: duplicate key \"workers\" at top level (first at line 3)");
  EXPECT_EQ(error_of(with_listen("  - address: 127.0.0.1:8080\n    backlog: 1\n    backlog: 2\n")),
            "t.yaml:4:5: duplicate key \"backlog\" in listen[0] (first at line 3)");
}

TEST(LoaderErrorsTest, MissingRequiredKeysPointAtTheParentMap) {
  EXPECT_EQ(error_of("# no listeners\n\nworkers: 1\nupstreams: {a: {endpoints: [\"127.0.0.1:1\"]}}\n"
                     "routes: [{match: {}, upstream: a}]\n"),
            "t.yaml:3:1: missing required key \"listen\" at top level");
  EXPECT_EQ(error_of("listen: [{address: \"127.0.0.1:8080\"}]\nroutes: []\n"),
            "t.yaml:1:1: missing required key \"upstreams\" at top level");
  EXPECT_EQ(error_of("listen: [{address: \"127.0.0.1:8080\"}]\nupstreams: {a: {endpoints: [\"127.0.0.1:1\"]}}\n"),
            "t.yaml:1:1: missing required key \"routes\" at top level");
  EXPECT_EQ(error_of(with_listen("  - backlog: 16\n")),
            "t.yaml:2:5: missing required key \"address\" in listen[0]");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    balancer: round_robin\n")),
            "t.yaml:3:5: missing required key \"endpoints\" in upstream \"origin\"");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: [{weight: 2}]\n")),
            "t.yaml:3:17: missing required key \"address\" in upstreams.origin.endpoints[0]");
  EXPECT_EQ(error_of(with_routes("  - upstream: origin\n")),
            "t.yaml:8:5: missing required key \"match\" in routes[0]");
  EXPECT_EQ(error_of(with_routes("  - name: api\n    match: {}\n")),
            "t.yaml:8:5: missing required key \"upstream\" in route \"api\" (only a route with "
            "filters that answer, such as respond or redirect, may omit it)");
}

// ---- Types ----

TEST(LoaderErrorsTest, WrongTypesNameTheExpectedType) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:8080\n"),
            "t.yaml:1:9: listen: expected a list of listeners, got \"127.0.0.1:8080\"");
  EXPECT_EQ(error_of("listen: [\"127.0.0.1:8080\"]\n"),
            "t.yaml:1:10: listen[0]: expected a map, got \"127.0.0.1:8080\"");
  EXPECT_EQ(error_of(with_listen("  - address: 127.0.0.1:8080\n    backlog: [1]\n")),
            "t.yaml:3:14: listen[0].backlog: expected an integer between 1 and 65535, got a list");
  EXPECT_EQ(error_of(with_listen("  - address: 127.0.0.1:8080\n    backlog: \"128\"\n")),
            "t.yaml:3:14: listen[0].backlog: expected an integer between 1 and 65535, got the string \"128\"");
  EXPECT_EQ(error_of(with_listen("  - address: 127.0.0.1:8080\n    backlog: lots\n")),
            "t.yaml:3:14: listen[0].backlog: expected an integer between 1 and 65535, got \"lots\"");
  // An empty value is reported at its key: yaml-cpp places it at the next token.
  EXPECT_EQ(error_of(with_listen("  - address: 127.0.0.1:8080\n    backlog:\n")),
            "t.yaml:3:5: listen[0].backlog: expected an integer between 1 and 65535, got null");
  EXPECT_EQ(error_of(with_listen("  - address: {ip: 127.0.0.1}\n")),
            "t.yaml:2:14: listen[0].address: expected a string, got a map");
  EXPECT_EQ(error_of(std::string(kMinimal) + "engine: [64]\n"),
            "t.yaml:10:9: engine: expected a map, got a list");
  EXPECT_EQ(error_of(std::string(kMinimal) + "limits: 1MiB\n"),
            "t.yaml:10:9: limits: expected a map, got \"1MiB\"");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: [[\"127.0.0.1:9001\"]]\n")),
            "t.yaml:3:17: upstreams.origin.endpoints[0]: expected an address such as \"127.0.0.1:9001\" "
            "or a map with \"address\" and \"weight\", got a list");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: \"127.0.0.1:9001\"\n")),
            "t.yaml:3:16: upstreams.origin.endpoints: expected a list of endpoints, got \"127.0.0.1:9001\"");
  EXPECT_EQ(error_of(with_routes("  - name: [api]\n    match: {}\n    upstream: origin\n")),
            "t.yaml:8:11: routes[0].name: expected a string, got a list");
  EXPECT_EQ(error_of(with_routes("  - match:\n    upstream: origin\n")),
            "t.yaml:8:5: routes[0].match: expected a map, got null");
  EXPECT_EQ(error_of(with_routes("  - match: { headers: [x-a] }\n    upstream: origin\n")),
            "t.yaml:8:23: routes[0].match.headers: expected a map, got a list");
  EXPECT_EQ(error_of(with_routes("  - \"/\"\n")), "t.yaml:8:5: routes[0]: expected a map, got \"/\"");
}

TEST(LoaderErrorsTest, RequiredListsAndMapsMustNotBeEmpty) {
  EXPECT_EQ(error_of("listen: []\n"), "t.yaml:1:9: listen: must not be empty");
  EXPECT_EQ(error_of("listen:\nworkers: 1\n"), "t.yaml:1:1: listen: must not be empty");
  EXPECT_EQ(error_of("listen: [{address: \"127.0.0.1:1\"}]\nupstreams: {}\n"),
            "t.yaml:2:12: upstreams: must not be empty");
  EXPECT_EQ(error_of("listen: [{address: \"127.0.0.1:1\"}]\nupstreams:\nroutes: []\n"),
            "t.yaml:2:1: upstreams: must not be empty");
  EXPECT_EQ(error_of(with_routes("  []\n")), "t.yaml:8:3: routes: must not be empty");
  EXPECT_EQ(error_of(with_upstreams("  origin: { endpoints: [] }\n")),
            "t.yaml:2:24: upstreams.origin.endpoints: must not be empty");
  EXPECT_EQ(error_of(with_routes("  - match: { methods: [] }\n    upstream: origin\n")),
            "t.yaml:8:23: routes[0].match.methods: must not be empty");
}

// ---- Numbers, sizes, durations ----

TEST(LoaderErrorsTest, WorkersRange) {
  std::string yaml = kMinimal;
  auto with_workers = [&](const std::string& value) {
    std::string y = yaml;
    y.replace(y.find("workers: 1"), 10, "workers: " + value);
    return error_of(y);
  };
  EXPECT_EQ(with_workers("0"), "t.yaml:3:10: workers: must be between 1 and 1024, got 0");
  EXPECT_EQ(with_workers("1025"), "t.yaml:3:10: workers: must be between 1 and 1024, got 1025");
  EXPECT_EQ(with_workers("many"),
            "t.yaml:3:10: workers: expected an integer between 1 and 1024 or \"auto\", got \"many\"");
  EXPECT_EQ(with_workers("1.5"),
            "t.yaml:3:10: workers: expected an integer between 1 and 1024 or \"auto\", got \"1.5\"");
  EXPECT_EQ(with_workers("99999999999999999999"),
            "t.yaml:3:10: workers: must be between 1 and 1024, got 99999999999999999999");
}

TEST(LoaderErrorsTest, EngineRanges) {
  auto engine_error = [](const std::string& body) {
    return error_of(std::string(kMinimal) + "engine:\n" + body);
  };
  EXPECT_EQ(engine_error("  ring_entries: 100\n"),
            "t.yaml:11:17: engine.ring_entries: must be a power of two between 64 and 32768, got 100");
  EXPECT_EQ(engine_error("  ring_entries: 65536\n"),
            "t.yaml:11:17: engine.ring_entries: must be between 64 and 32768, got 65536");
  EXPECT_EQ(engine_error("  ring_entries: 4096\n  cq_entries: 1024\n"),
            "t.yaml:12:15: engine.cq_entries: must be at least ring_entries (4096), got 1024");
  EXPECT_EQ(engine_error("  cq_entries: 131072\n"),
            "t.yaml:11:15: engine.cq_entries: must be between 64 and 65536, got 131072");
  EXPECT_EQ(engine_error("  buffer_count: 8\n"),
            "t.yaml:11:17: engine.buffer_count: must be between 16 and 32768, got 8");
  EXPECT_EQ(engine_error("  buffer_size: 512\n"),
            "t.yaml:11:16: engine.buffer_size: must be between 1KiB and 1MiB, got 512");
  EXPECT_EQ(engine_error("  buffer_size: 2MiB\n"),
            "t.yaml:11:16: engine.buffer_size: must be between 1KiB and 1MiB, got 2MiB");
  EXPECT_EQ(engine_error("  drain_timeout: 10x\n"),
            "t.yaml:11:18: engine.drain_timeout: expected a duration such as 500ms or 10s "
            "(units ms, s, m, h), got \"10x\"");
  EXPECT_EQ(engine_error("  batch_wait: 100\n"),
            "t.yaml:11:15: engine.batch_wait: expected a duration such as 100us or 1ms "
            "(units us, ms, s), got \"100\"");
  EXPECT_EQ(engine_error("  batch_wait: 20ms\n"),
            "t.yaml:11:15: engine.batch_wait: must be between 0us and 10ms, got 20ms");
  EXPECT_EQ(engine_error("  batch_min_rps: -1\n"),
            "t.yaml:11:18: engine.batch_min_rps: must be between 0 and 100000000, got -1");
  EXPECT_EQ(engine_error("  batch_completions: 0\n"),
            "t.yaml:11:22: engine.batch_completions: must be between 1 and 4096, got 0");
}

TEST(LoaderErrorsTest, BadSizes) {
  auto limits_error = [](const std::string& body) {
    return error_of(std::string(kMinimal) + "limits:\n" + body);
  };
  EXPECT_EQ(limits_error("  max_body_bytes: 10KB\n"),
            "t.yaml:11:19: limits.max_body_bytes: ambiguous size unit in \"10KB\"; "
            "sizes are 1024-based, write KiB, MiB or GiB");
  EXPECT_EQ(limits_error("  max_header_bytes: lots\n"),
            "t.yaml:11:21: limits.max_header_bytes: expected a size such as 4096 or 16KiB "
            "(units B, KiB, MiB, GiB), got \"lots\"");
  EXPECT_EQ(limits_error("  max_header_bytes: -1\n"),
            "t.yaml:11:21: limits.max_header_bytes: expected a size such as 4096 or 16KiB "
            "(units B, KiB, MiB, GiB), got \"-1\"");
  EXPECT_EQ(limits_error("  max_header_bytes: 1.5KiB\n"),
            "t.yaml:11:21: limits.max_header_bytes: expected a size such as 4096 or 16KiB "
            "(units B, KiB, MiB, GiB), got \"1.5KiB\"");
  EXPECT_EQ(limits_error("  max_body_bytes: 99999999999GiB\n"),
            "t.yaml:11:19: limits.max_body_bytes: expected a size such as 4096 or 16KiB "
            "(units B, KiB, MiB, GiB), got \"99999999999GiB\"");
  EXPECT_EQ(limits_error("  max_request_line: 2MiB\n"),
            "t.yaml:11:21: limits.max_request_line: must be between 16B and 1MiB, got 2MiB");
  EXPECT_EQ(limits_error("  max_request_line: [8KiB]\n"),
            "t.yaml:11:21: limits.max_request_line: expected a size such as 4096 or 16KiB, got a list");
  EXPECT_EQ(limits_error("  stalled_peer_memory: 2048GiB\n"),
            "t.yaml:11:24: limits.stalled_peer_memory: must be between 0B and 1024GiB, got 2048GiB");
  EXPECT_EQ(limits_error("  max_connections_per_worker: 0\n"),
            "t.yaml:11:31: limits.max_connections_per_worker: must be between 1 and 1048576, got 0");
}

TEST(LoaderErrorsTest, BadDurations) {
  auto limits_error = [](const std::string& body) {
    return error_of(std::string(kMinimal) + "limits:\n" + body);
  };
  EXPECT_EQ(limits_error("  idle_timeout: 0\n"),
            "t.yaml:11:17: limits.idle_timeout: must be between 1ms and 24h, got 0");
  EXPECT_EQ(limits_error("  send_timeout: 25h\n"),
            "t.yaml:11:17: limits.send_timeout: must be between 1ms and 24h, got 25h");
  EXPECT_EQ(limits_error("  client_header_timeout: 1.5s\n"),
            "t.yaml:11:26: limits.client_header_timeout: expected a duration such as 500ms or 10s "
            "(units ms, s, m, h), got \"1.5s\"");
  EXPECT_EQ(limits_error("  client_body_timeout: 10 sec\n"),
            "t.yaml:11:24: limits.client_body_timeout: expected a duration such as 500ms or 10s "
            "(units ms, s, m, h), got \"10 sec\"");
  EXPECT_EQ(limits_error("  client_body_timeout: {s: 1}\n"),
            "t.yaml:11:24: limits.client_body_timeout: expected a duration such as 500ms or 10s, got a map");
  EXPECT_EQ(error_of(with_upstreams("  origin: { endpoints: [\"127.0.0.1:9001\"], connect_timeout: 2x }\n")),
            "t.yaml:2:61: upstreams.origin.connect_timeout: expected a duration such as 500ms or 10s "
            "(units ms, s, m, h), got \"2x\"");
}

// ---- Addresses ----

TEST(LoaderErrorsTest, BadListenAddresses) {
  auto listen_error = [](const std::string& address) {
    return error_of(with_listen("  - address: \"" + address + "\"\n"));
  };
  EXPECT_EQ(listen_error("localhost:8080"),
            "t.yaml:2:14: listen[0].address: invalid listen address \"localhost:8080\" "
            "(expected \"a.b.c.d:port\", \"[ipv6]:port\" or \"*:port\")");
  EXPECT_EQ(listen_error("127.0.0.1"),
            "t.yaml:2:14: listen[0].address: invalid address \"127.0.0.1\": missing \":port\"");
  EXPECT_EQ(listen_error("127.0.0.1:99999"),
            "t.yaml:2:14: listen[0].address: port must be between 0 and 65535, got 99999");
  EXPECT_EQ(listen_error("127.0.0.1:80a"),
            "t.yaml:2:14: listen[0].address: invalid port \"80a\" in \"127.0.0.1:80a\"");
  EXPECT_EQ(listen_error("127.0.0.1:"),
            "t.yaml:2:14: listen[0].address: invalid port \"\" in \"127.0.0.1:\"");
  EXPECT_EQ(listen_error("::1:8080"),
            "t.yaml:2:14: listen[0].address: invalid address \"::1:8080\": write IPv6 addresses in "
            "brackets, as \"[::1]:8080\"");
  EXPECT_EQ(listen_error("[::1]"),
            "t.yaml:2:14: listen[0].address: invalid address \"[::1]\": expected \":port\" after \"]\"");
  EXPECT_EQ(listen_error("[::1:80"),
            "t.yaml:2:14: listen[0].address: invalid address \"[::1:80\": missing \"]\"");
  EXPECT_EQ(listen_error("[::g]:80"),
            "t.yaml:2:14: listen[0].address: invalid IPv6 address \"::g\" in \"[::g]:80\"");
  EXPECT_EQ(listen_error(""), "t.yaml:2:14: listen[0].address: must not be empty");
}

TEST(LoaderErrorsTest, DuplicateListenerAddresses) {
  EXPECT_EQ(error_of(with_listen("  - address: \"*:8080\"\n  - address: 0.0.0.0:8080\n")),
            "t.yaml:3:14: listen[1].address: duplicate listener address \"0.0.0.0:8080\" (first at line 2)");
  EXPECT_EQ(error_of(with_listen("  - address: \"[::1]:80\"\n  - address: 127.0.0.1:80\n"
                                 "  - address: \"[0:0::1]:80\"\n")),
            "t.yaml:4:14: listen[2].address: duplicate listener address \"[0:0::1]:80\" (first at line 2)");
}

TEST(LoaderErrorsTest, BadEndpoints) {
  auto endpoint_error = [](const std::string& address) {
    return error_of(with_upstreams("  origin:\n    endpoints: [\"" + address + "\"]\n"));
  };
  EXPECT_EQ(endpoint_error("127.0.0.1:0"),
            "t.yaml:3:17: upstreams.origin.endpoints[0]: port must be between 1 and 65535, got 0");
  EXPECT_EQ(endpoint_error("*:80"), "t.yaml:3:17: upstreams.origin.endpoints[0]: an endpoint needs a host: \"*:80\"");
  EXPECT_EQ(endpoint_error("bad host:80"),
            "t.yaml:3:17: upstreams.origin.endpoints[0]: invalid endpoint address \"bad host:80\" "
            "(expected \"a.b.c.d:port\", \"[ipv6]:port\" or \"hostname:port\")");
  EXPECT_EQ(endpoint_error("10.1:80"),
            "t.yaml:3:17: upstreams.origin.endpoints[0]: invalid endpoint address \"10.1:80\" "
            "(expected \"a.b.c.d:port\", \"[ipv6]:port\" or \"hostname:port\")");
  EXPECT_EQ(endpoint_error("127.0.0.1"),
            "t.yaml:3:17: upstreams.origin.endpoints[0]: invalid address \"127.0.0.1\": missing \":port\"");
  // The resolver's wording varies (no such name / no network): check the stable part.
  EXPECT_THAT(endpoint_error("nonexistent.invalid:80"),
              StartsWith("t.yaml:3:17: upstreams.origin.endpoints[0]: cannot resolve \"nonexistent.invalid\": "));
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints:\n      - 127.0.0.1:9001\n"
                                    "      - address: 127.0.0.1:9001\n")),
            "t.yaml:5:18: upstreams.origin.endpoints[1].address: duplicate endpoint \"127.0.0.1:9001\" "
            "(first at line 4); give it a weight instead");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: [{address: \"127.0.0.1:9001\", weight: 0}]\n")),
            "t.yaml:3:53: upstreams.origin.endpoints[0].weight: must be between 1 and 65535, got 0");
}

// ---- Upstreams ----

TEST(LoaderErrorsTest, UpstreamNames) {
  EXPECT_EQ(error_of(with_upstreams("  origin: { endpoints: [\"127.0.0.1:9001\"] }\n"
                                    "  origin: { endpoints: [\"127.0.0.1:9002\"] }\n")),
            "t.yaml:3:3: duplicate upstream name \"origin\" (first at line 2)");
  EXPECT_EQ(error_of(with_upstreams("  origin: { endpoints: [\"127.0.0.1:9001\"] }\n"
                                    "  my api: { endpoints: [\"127.0.0.1:9002\"] }\n")),
            "t.yaml:3:3: upstreams: invalid upstream name \"my api\" (use letters, digits, \"_\", \"-\" and \".\")");
}

TEST(LoaderErrorsTest, UpstreamSettings) {
  auto upstream_error = [](const std::string& settings) {
    return error_of(with_upstreams("  origin:\n    endpoints: [\"127.0.0.1:9001\"]\n" + settings));
  };
  EXPECT_EQ(upstream_error("    balancer: round-robin\n"),
            "t.yaml:4:15: upstreams.origin.balancer: unknown balancer \"round-robin\" (did you mean \"round_robin\"?)");
  EXPECT_EQ(upstream_error("    balancer: random\n"),
            "t.yaml:4:15: upstreams.origin.balancer: unknown balancer \"random\" "
            "(expected \"round_robin\" or \"weighted_round_robin\")");
  EXPECT_EQ(error_of(with_upstreams("  origin:\n    endpoints: [{address: \"127.0.0.1:9001\", weight: 5}]\n"
                                    "    balancer: round_robin\n")),
            "t.yaml:4:15: upstreams.origin.balancer: round_robin ignores endpoint weights; "
            "use weighted_round_robin or remove the weights");
  EXPECT_EQ(upstream_error("    host: \"\"\n"),
            "t.yaml:4:11: upstreams.origin.host: must not be empty (leave \"host\" out to pass the client's Host through)");
  EXPECT_EQ(upstream_error("    host: \"api internal\"\n"),
            "t.yaml:4:11: upstreams.origin.host: invalid Host header value \"api internal\": "
            "invalid character in host");
  // The rule clients' Host values are held to (RFC 3986 host[:port]).
  EXPECT_EQ(upstream_error("    host: \"api<x>\"\n"),
            "t.yaml:4:11: upstreams.origin.host: invalid Host header value \"api<x>\": "
            "invalid character in host");
  EXPECT_EQ(upstream_error("    host: \"api.internal:80x\"\n"),
            "t.yaml:4:11: upstreams.origin.host: invalid Host header value \"api.internal:80x\": "
            "invalid port in host");
  EXPECT_EQ(upstream_error("    host: \"api%zz\"\n"),
            "t.yaml:4:11: upstreams.origin.host: invalid Host header value \"api%zz\": "
            "invalid percent-encoding in host");
  EXPECT_EQ(upstream_error("    max_connections_per_worker: 10\n    max_idle_per_worker: 20\n"),
            "t.yaml:5:26: upstreams.origin.max_idle_per_worker: must not exceed "
            "max_connections_per_worker (10), got 20");
  EXPECT_EQ(upstream_error("    max_connections_per_worker: 0\n"),
            "t.yaml:4:33: upstreams.origin.max_connections_per_worker: must be between 1 and 1048576, got 0");
  EXPECT_EQ(upstream_error("    response_header_timeout: 0ms\n"),
            "t.yaml:4:30: upstreams.origin.response_header_timeout: must be between 1ms and 24h, got 0ms");
  EXPECT_EQ(upstream_error("    connect_tries: 0\n"),
            "t.yaml:4:20: upstreams.origin.connect_tries: must be between 1 and 64, got 0");
  EXPECT_EQ(upstream_error("    max_fails: -1\n"),
            "t.yaml:4:16: upstreams.origin.max_fails: must be between 0 and 1000, got -1");
}

// ---- Routes ----

TEST(LoaderErrorsTest, DanglingUpstreamName) {
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: orgin\n")),
            "t.yaml:9:15: routes[0].upstream: unknown upstream \"orgin\" (did you mean \"origin\"?)");
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: backend\n")),
            "t.yaml:9:15: routes[0].upstream: unknown upstream \"backend\"");
}

TEST(LoaderErrorsTest, PathCriteria) {
  auto match_error = [](const std::string& match) {
    return error_of(with_routes("  - match: { " + match + " }\n    upstream: origin\n"));
  };
  EXPECT_EQ(match_error("prefix: /a, path: /b"),
            "t.yaml:8:26: routes[0].match: \"path\" cannot be combined with \"prefix\"; use one of prefix, path, regex");
  EXPECT_EQ(match_error("regex: '^/a', prefix: /b"),
            "t.yaml:8:28: routes[0].match: \"prefix\" cannot be combined with \"regex\"; use one of prefix, path, regex");
  EXPECT_EQ(match_error("prefix: api"), "t.yaml:8:22: routes[0].match.prefix: must start with \"/\", got \"api\"");
  EXPECT_EQ(match_error("path: \"\""), "t.yaml:8:20: routes[0].match.path: must start with \"/\", got \"\"");
  EXPECT_EQ(match_error("path: \"/search?q=1\""),
            "t.yaml:8:20: routes[0].match.path: must not contain \"?\" (routes match the path, not the query), "
            "got \"/search?q=1\"");
  EXPECT_EQ(match_error("prefix: \"/a b\""),
            "t.yaml:8:22: routes[0].match.prefix: must not contain spaces, control characters or non-ASCII "
            "bytes (percent-encode them), got \"/a b\"");
  EXPECT_EQ(match_error("prefix: /a//b"),
            "t.yaml:8:22: routes[0].match.prefix: \"/a//b\" can never match: request paths are normalised "
            "(no \"//\", \".\" or \"..\" segments)");
  EXPECT_EQ(match_error("prefix: /a/%2e%2E/b"),
            "t.yaml:8:22: routes[0].match.prefix: \"/a/%2e%2E/b\" can never match: request paths are normalised "
            "(no \"//\", \".\" or \"..\" segments)");
  EXPECT_EQ(match_error("prefix: /a%2fb"),
            "t.yaml:8:22: routes[0].match.prefix: \"%2f\" in \"/a%2fb\" can never match: requests containing it are refused");
  EXPECT_EQ(match_error("prefix: /a%zz"), "t.yaml:8:22: routes[0].match.prefix: malformed percent-escape in \"/a%zz\"");
  EXPECT_EQ(match_error("regex: \"\""), "t.yaml:8:21: routes[0].match.regex: must not be empty");
}

TEST(LoaderErrorsTest, HostMethodAndHeaderCriteria) {
  auto match_error = [](const std::string& match) {
    return error_of(with_routes("  - match: { " + match + " }\n    upstream: origin\n"));
  };
  EXPECT_EQ(match_error("host: \"exa mple.com\""),
            "t.yaml:8:20: routes[0].match.host: invalid host pattern \"exa mple.com\" "
            "(expected a host name such as \"api.example.com\", \"*.example.com\" or \"[::1]\")");
  EXPECT_EQ(match_error("host: [a.example, \"a*.example\"]"),
            "t.yaml:8:32: routes[0].match.host[1]: invalid host pattern \"a*.example\" "
            "(expected a host name such as \"api.example.com\", \"*.example.com\" or \"[::1]\")");
  EXPECT_EQ(match_error("host: \"example.com:8080\""),
            "t.yaml:8:20: routes[0].match.host: host pattern \"example.com:8080\" must not include a port "
            "(the port in Host is ignored when matching)");
  EXPECT_EQ(match_error("host: [a.example, A.Example]"),
            "t.yaml:8:32: routes[0].match.host[1]: host \"a.example\" is listed twice");
  EXPECT_EQ(match_error("methods: \"GE T\""), "t.yaml:8:23: routes[0].match.methods: invalid method \"GE T\"");
  EXPECT_EQ(match_error("methods: [GET, QUERY]"),
            "t.yaml:8:29: routes[0].match.methods[1]: method \"QUERY\" is not served by ringway (its "
            "HTTP parser knows a fixed set of methods, and CONNECT and TRACE are refused), so this "
            "route could never match");
  EXPECT_EQ(match_error("methods: CONNECT"),
            "t.yaml:8:23: routes[0].match.methods: method \"CONNECT\" is not served by ringway (its "
            "HTTP parser knows a fixed set of methods, and CONNECT and TRACE are refused), so this "
            "route could never match");
  EXPECT_EQ(match_error("methods: [GET, get]"),
            "t.yaml:8:29: routes[0].match.methods[1]: method \"GET\" is listed twice");
  EXPECT_EQ(match_error("headers: { \"x tenant\": blue }"),
            "t.yaml:8:25: routes[0].match.headers: invalid header name \"x tenant\"");
  EXPECT_EQ(match_error("headers: { X-A: \"1\", x-a: \"2\" }"),
            "t.yaml:8:35: routes[0].match.headers: header \"x-a\" is listed twice (names are case-insensitive)");
  EXPECT_EQ(match_error("headers: { x-a: \" blue\" }"),
            "t.yaml:8:30: routes[0].match.headers.x-a: header value \" blue\" has spaces around it, "
            "so no request would match it");
  EXPECT_EQ(match_error("headers: { x-a: \"a\\x01b\" }"),
            "t.yaml:8:30: routes[0].match.headers.x-a: header values cannot contain control characters "
            "(CR, LF, NUL...)");
  EXPECT_EQ(match_error("headers: { x-a: [1] }"),
            "t.yaml:8:30: routes[0].match.headers.x-a: expected a string, got a list");
}

TEST(LoaderErrorsTest, PrefixRewrite) {
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n    replace_prefix: /v1\n")),
            "t.yaml:10:5: routes[0].replace_prefix: requires strip_prefix");
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n    strip_prefix: api\n")),
            "t.yaml:10:19: routes[0].strip_prefix: must start with \"/\", got \"api\"");
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n    strip_prefix: \"\"\n")),
            "t.yaml:10:19: routes[0].strip_prefix: must start with \"/\", got \"\"");
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n    strip_prefix: /api\n"
                                 "    replace_prefix: v1\n")),
            "t.yaml:11:21: routes[0].replace_prefix: must start with \"/\", got \"v1\"");
}

TEST(LoaderErrorsTest, DuplicateRouteNames) {
  EXPECT_EQ(error_of(with_routes("  - name: api\n    match: { prefix: /a }\n    upstream: origin\n"
                                 "  - name: api\n    match: { prefix: /b }\n    upstream: origin\n")),
            "t.yaml:11:11: routes[1].name: duplicate route name \"api\" (first at line 8)");
  EXPECT_EQ(error_of(with_routes("  - name: \"\"\n    match: {}\n    upstream: origin\n")),
            "t.yaml:8:11: routes[0].name: must not be empty");
  EXPECT_EQ(error_of(with_routes("  - name: \"a\\r\\nb\"\n    match: {}\n    upstream: origin\n")),
            "t.yaml:8:11: routes[0].name: a route name cannot contain control characters");
  // An unnamed route is called routes[N]: no explicit name may take that.
  EXPECT_EQ(error_of(with_routes("  - name: \"routes[1]\"\n    match: { prefix: /a }\n    upstream: origin\n"
                                 "  - match: { prefix: /b }\n    upstream: origin\n")),
            "t.yaml:8:11: routes[0].name: names of the form \"routes[N]\" are those of unnamed routes");
  EXPECT_TRUE(load_config_string(with_routes("  - name: \"routes[x\"\n    match: {}\n    upstream: origin\n"),
                                 "t.yaml").ok());
}

TEST(LoaderErrorsTest, DuplicateRoutesAfterNormalisation) {
  // Same criteria written differently: host case and order, method case and
  // order, header name case and order, and a different upstream.
  EXPECT_EQ(error_of(with_routes(R"(  - name: first
    match:
      host: [a.example, b.example]
      prefix: /api
      methods: [GET, POST]
      headers: { x-a: "1", x-b: "2" }
    upstream: origin
  - name: second
    match:
      host: [B.Example, a.example.]
      prefix: /api
      methods: [post, get]
      headers: { X-B: "2", X-A: "1" }
    upstream: other
)")),
            "t.yaml:15:5: route \"second\": same match as route \"first\" at line 8, so it can never be chosen");
  EXPECT_EQ(error_of(with_routes("  - match: {}\n    upstream: origin\n"
                                 "  - match: { prefix: /a }\n    upstream: origin\n"
                                 "  - match: {}\n    upstream: other\n")),
            "t.yaml:12:5: routes[2]: same match as routes[0] at line 8, so it can never be chosen");
  // Prefix, exact path and regex with the same text are different matches.
  EXPECT_TRUE(load_config_string(with_routes("  - match: { prefix: /a }\n    upstream: origin\n"
                                             "  - match: { path: /a }\n    upstream: origin\n"
                                             "  - match: { regex: /a }\n    upstream: origin\n"),
                                 "t.yaml")
                  .ok());
}

TEST(LoaderErrorsTest, FileNameIsUsedInEveryMessage) {
  LoadResult result = load_config_string("listen: []\n", "/etc/ringway/ringway.yaml");
  EXPECT_EQ(result.error, "/etc/ringway/ringway.yaml:1:9: listen: must not be empty");
}

TEST(LoaderErrorsTest, WebSocketKeys) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "limits:\n  tunnel_idle_timeout: 25h\n"),
            "t.yaml:11:24: limits.tunnel_idle_timeout: must be between 1ms and 24h, got 25h");
  EXPECT_EQ(error_of(R"(listen: [{ address: 127.0.0.1:8080 }]
upstreams: { origin: { endpoints: ["127.0.0.1:9001"] } }
routes:
  - match: { prefix: / }
    upstream: origin
    websocket: on
)"),
            "t.yaml:6:16: routes[0].websocket: expected true or false, got \"on\"");
}

}  // namespace
}  // namespace ringway::config
