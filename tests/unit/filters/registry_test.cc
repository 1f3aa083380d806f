// The registry: config filters -> filter objects -> per-route flat chains.

#include "filters/registry.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace ringway::filters {
namespace {

config::ConfigPtr load(const std::string& yaml) {
  auto r = config::load_config_string(yaml, "t.yaml");
  EXPECT_TRUE(r.ok()) << r.error;
  return r.config;
}

const char* kBase = R"(listen: [{ address: 127.0.0.1:0 }]
upstreams:
  origin: { endpoints: ["127.0.0.1:9"] }
)";

TEST(FilterRegistry, ExampleConfigsCompile) {
  for (const char* name : {"quickstart.yaml", "full.yaml"}) {
    auto r = config::load_config_file(std::string(RINGWAY_SOURCE_DIR) + "/config/examples/" + name);
    ASSERT_TRUE(r.ok()) << r.error;
    CompileResult c = compile(*r.config);
    ASSERT_TRUE(c.ok()) << c.error;
    EXPECT_EQ(c.set->filters.size(), r.config->filters.size());
    EXPECT_EQ(c.set->routes.size(), r.config->routes.size());
  }
}

TEST(FilterRegistry, ChainsFollowRoutesAndDefaults) {
  auto cfg = load(std::string(kBase) + R"(filters:
  a: { type: headers, request: { set: { X-A: "1" } } }
  b: { type: body_limit, max_bytes: 1KiB }
  c: { type: headers, response: { remove: [Server] } }
default_filters: [a]
routes:
  - match: { path: /x }
    upstream: origin
    filters: [c, b, a]
  - match: { path: /none }
    upstream: origin
    filters: []
  - match: { prefix: / }
    upstream: origin
)");
  CompileResult c = compile(*cfg);
  ASSERT_TRUE(c.ok()) << c.error;
  const auto& routes = c.set->routes;
  ASSERT_EQ(routes.size(), 3u);
  ASSERT_EQ(routes[0].filters.size(), 3u);
  EXPECT_EQ(routes[0].filters[0], c.set->filters[2].get());
  EXPECT_EQ(routes[0].filters[1], c.set->filters[1].get());
  EXPECT_EQ(routes[0].filters[2], c.set->filters[0].get());
  EXPECT_EQ(routes[0].ids, (std::vector<uint32_t>{2, 1, 0}));
  // The union of the phases: headers (request and response) + body_limit.
  EXPECT_EQ(routes[0].phases, filter::kRequestHead | filter::kResponseHead | filter::kRequestBody);
  EXPECT_TRUE(routes[1].empty());
  ASSERT_EQ(routes[2].filters.size(), 1u);
  EXPECT_EQ(routes[2].phases, filter::kRequestHead);
}

TEST(FilterRegistry, UnknownTypeIsLocated) {
  auto cfg = load(std::string(kBase) + R"(filters:
  gz: { type: compres }
routes:
  - match: { prefix: / }
    upstream: origin
)");
  CompileResult c = compile(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error, "t.yaml:5:15: filters.gz.type: unknown filter type \"compres\" (did you mean \"compress\"?)");
}

TEST(FilterRegistry, FilterKeyErrorsAreLocated) {
  auto cfg = load(std::string(kBase) + R"(filters:
  lim:
    type: body_limit
    max_bytes: lots
routes:
  - match: { prefix: / }
    upstream: origin
)");
  CompileResult c = compile(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error.rfind("t.yaml:7:16: filters.lim.max_bytes: ", 0), 0u) << c.error;
}

TEST(FilterRegistry, PurgeNeedsACacheAboveIt) {
  auto cfg = load(std::string(kBase) + R"(filters:
  purge: { type: cache_purge, cache: edge }
  edge: { type: cache }
routes:
  - match: { prefix: / }
    upstream: origin
)");
  CompileResult c = compile(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error.find("must be defined above this one"), std::string::npos) << c.error;
}

TEST(FilterRegistry, ARouteWithoutUpstreamNeedsAFilterThatAnswers) {
  auto cfg = load(std::string(kBase) + R"(filters:
  gz: { type: compress }
  ok: { type: respond, status: 200 }
routes:
  - match: { path: /ok }
    filters: [gz, ok]
  - name: nothing
    match: {}
    filters: [gz]
)");
  CompileResult c = compile(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error, "t.yaml:10:5: route \"nothing\": no upstream, and none of its filters answers "
                     "every request (respond, redirect, cache_purge): give it an upstream");
}

TEST(FilterRegistry, CacheBeforeAnAccessCheckIsRefused) {
  // Its hits would answer requests the check never saw.
  for (const char* access : {"{ type: ip_rules, allow: [10.0.0.0/8] }", "{ type: api_key, header: X-Key, keys: { c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c: p } }"}) {
    auto cfg = load(std::string(kBase) + "filters:\n  edge: { type: cache }\n  gate: " + access + R"(
default_filters: [gate]
routes:
  - match: { prefix: /ok }
    upstream: origin
    filters: [gate, edge]
  - name: wrong
    match: { prefix: / }
    upstream: origin
    filters: [edge, gate]
)");
    CompileResult c = compile(*cfg);
    ASSERT_FALSE(c.ok()) << access;
    EXPECT_EQ(c.error.rfind("t.yaml:", 0), 0u) << c.error;
    EXPECT_NE(c.error.find(":12:5: route \"wrong\": filter \"edge\" (cache) comes before \"gate\""),
              std::string::npos)
        << c.error;
  }
}

}  // namespace
}  // namespace ringway::filters
