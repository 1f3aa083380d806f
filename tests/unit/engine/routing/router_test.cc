#include "engine/routing/router.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace ringway::routing {
namespace {

using config::Config;
using config::HeaderMatch;
using config::PathMatchKind;
using config::Route;

// Builds Route values by hand: the loader is not used in unit tests.
Route make_route(std::string name, PathMatchKind kind = PathMatchKind::kNone,
                 std::string path = "") {
  Route r;
  r.name = std::move(name);
  r.match.path_kind = kind;
  r.match.path = std::move(path);
  r.upstream = "backend";
  return r;
}

http::RequestHead make_head(std::string path, std::string_view host = "example.com",
                            std::string_view method = "GET") {
  http::RequestHead head;
  head.method = method;
  head.path = std::move(path);
  head.target = head.path;
  head.host = host;
  return head;
}

class RouterTest : public ::testing::Test {
 protected:
  // Builds the router from config_, failing the test on an error.
  void build() {
    std::string error;
    router_ = Router::build(config_, &error);
    ASSERT_NE(router_, nullptr) << error;
    EXPECT_EQ(error, "");
  }

  // Name of the matching route, or "" for no match.
  std::string match(const http::RequestHead& head) {
    const Route* r = router_->match(head);
    return r ? r->name : "";
  }
  std::string match_path(std::string path) { return match(make_head(std::move(path))); }
  std::string match_host(std::string_view host) { return match(make_head("/", host)); }

  Config config_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, EmptyConfigMatchesNothing) {
  build();
  EXPECT_EQ(router_->size(), 0u);
  EXPECT_EQ(match_path("/"), "");
}

TEST_F(RouterTest, RouteWithoutCriteriaMatchesEverything) {
  config_.routes.push_back(make_route("all"));
  build();
  EXPECT_EQ(match_path("/"), "all");
  EXPECT_EQ(match(make_head("/x/y", "", "DELETE")), "all");
}

TEST_F(RouterTest, ReturnsPointerIntoConfig) {
  config_.routes.push_back(make_route("a"));
  build();
  EXPECT_EQ(router_->match(make_head("/")), &config_.routes[0]);
}

TEST_F(RouterTest, HostExactCaseInsensitivePortAndTrailingDotIgnored) {
  Route r = make_route("api");
  r.match.hosts = {"api.example.com"};
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match_host("api.example.com"), "api");
  EXPECT_EQ(match_host("API.Example.COM"), "api");
  EXPECT_EQ(match_host("api.example.com:8080"), "api");
  EXPECT_EQ(match_host("api.example.com."), "api");
  EXPECT_EQ(match_host("api.example.com.:443"), "api");
  EXPECT_EQ(match_host("example.com"), "");
  EXPECT_EQ(match_host("x.api.example.com"), "");
  EXPECT_EQ(match_host("api.example.co"), "");
  EXPECT_EQ(match_host("api.example.comx"), "");
  EXPECT_EQ(match_host(""), "");
}

TEST_F(RouterTest, HostPatternNormalisedAtBuild) {
  Route r = make_route("api");
  r.match.hosts = {"API.Example.com."};  // hand-built, not lower-cased by a loader
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match_host("api.example.com"), "api");
}

TEST_F(RouterTest, HostWildcard) {
  Route r = make_route("wild");
  r.match.hosts = {"*.example.com"};
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match_host("a.example.com"), "wild");
  EXPECT_EQ(match_host("a.b.example.com"), "wild");
  EXPECT_EQ(match_host("A.EXAMPLE.COM:80"), "wild");
  EXPECT_EQ(match_host("a.example.com."), "wild");
  EXPECT_EQ(match_host("example.com"), "");
  EXPECT_EQ(match_host(".example.com"), "");
  EXPECT_EQ(match_host("aexample.com"), "");
  EXPECT_EQ(match_host("a.example.com.evil"), "");
  EXPECT_EQ(match_host("a.example.org"), "");
}

TEST_F(RouterTest, AnyOfSeveralHosts) {
  Route r = make_route("multi");
  r.match.hosts = {"a.test", "*.b.test"};
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match_host("a.test"), "multi");
  EXPECT_EQ(match_host("x.b.test"), "multi");
  EXPECT_EQ(match_host("b.test"), "");
  EXPECT_EQ(match_host("c.test"), "");
}

TEST_F(RouterTest, HostIpv6Literal) {
  Route r = make_route("v6");
  r.match.hosts = {"[::1]"};
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match_host("[::1]"), "v6");
  EXPECT_EQ(match_host("[::1]:8080"), "v6");
  EXPECT_EQ(match_host("[::2]:8080"), "");
}

TEST(HostForMatching, StripsPortAndDot) {
  EXPECT_EQ(host_for_matching("a.com:80"), "a.com");
  EXPECT_EQ(host_for_matching("a.com."), "a.com");
  EXPECT_EQ(host_for_matching("a.com.:80"), "a.com");
  EXPECT_EQ(host_for_matching("[::1]:80"), "[::1]");
  EXPECT_EQ(host_for_matching("[::1]"), "[::1]");
  EXPECT_EQ(host_for_matching("127.0.0.1:9000"), "127.0.0.1");
  EXPECT_EQ(host_for_matching(""), "");
}

TEST_F(RouterTest, PrefixIsSegmentAware) {
  config_.routes.push_back(make_route("api", PathMatchKind::kPrefix, "/api"));
  build();
  EXPECT_EQ(match_path("/api"), "api");
  EXPECT_EQ(match_path("/api/"), "api");
  EXPECT_EQ(match_path("/api/x"), "api");
  EXPECT_EQ(match_path("/api/x/y"), "api");
  EXPECT_EQ(match_path("/apix"), "");
  EXPECT_EQ(match_path("/ap"), "");
  EXPECT_EQ(match_path("/"), "");
  EXPECT_EQ(match_path("/API"), "");  // paths are case-sensitive
}

TEST_F(RouterTest, PrefixWithTrailingSlash) {
  config_.routes.push_back(make_route("api", PathMatchKind::kPrefix, "/api/"));
  build();
  EXPECT_EQ(match_path("/api/"), "api");
  EXPECT_EQ(match_path("/api/x"), "api");
  EXPECT_EQ(match_path("/api"), "");
  EXPECT_EQ(match_path("/apix"), "");
}

TEST_F(RouterTest, RootPrefixMatchesAll) {
  config_.routes.push_back(make_route("root", PathMatchKind::kPrefix, "/"));
  build();
  EXPECT_EQ(match_path("/"), "root");
  EXPECT_EQ(match_path("/anything/at/all"), "root");
}

TEST_F(RouterTest, ExactPath) {
  config_.routes.push_back(make_route("health", PathMatchKind::kExact, "/healthz"));
  build();
  EXPECT_EQ(match_path("/healthz"), "health");
  EXPECT_EQ(match_path("/healthz/"), "");
  EXPECT_EQ(match_path("/healthz/x"), "");
  EXPECT_EQ(match_path("/health"), "");
}

TEST_F(RouterTest, RegexIsFullMatch) {
  config_.routes.push_back(make_route("user", PathMatchKind::kRegex, "/users/[0-9]+"));
  build();
  EXPECT_EQ(match_path("/users/42"), "user");
  EXPECT_EQ(match_path("/users/42/"), "");
  EXPECT_EQ(match_path("/users/abc"), "");
  EXPECT_EQ(match_path("/x/users/42"), "");
  EXPECT_EQ(match_path("/users/"), "");
}

TEST_F(RouterTest, RegexWithAlternation) {
  config_.routes.push_back(make_route("img", PathMatchKind::kRegex, ".*\\.(png|jpg)"));
  build();
  EXPECT_EQ(match_path("/a/b.png"), "img");
  EXPECT_EQ(match_path("/c.jpg"), "img");
  EXPECT_EQ(match_path("/c.jpg.txt"), "");
}

TEST_F(RouterTest, Methods) {
  Route r = make_route("write", PathMatchKind::kPrefix, "/");
  r.match.methods = {"POST", "PUT"};
  config_.routes.push_back(r);
  build();
  EXPECT_EQ(match(make_head("/", "h", "POST")), "write");
  EXPECT_EQ(match(make_head("/", "h", "PUT")), "write");
  EXPECT_EQ(match(make_head("/", "h", "GET")), "");
  EXPECT_EQ(match(make_head("/", "h", "post")), "");  // methods are case-sensitive
  EXPECT_EQ(match(make_head("/", "h", "POSTX")), "");
}

TEST_F(RouterTest, HeadersAllMustMatch) {
  Route r = make_route("canary");
  r.match.headers = {HeaderMatch{"x-canary", "1"}, HeaderMatch{"x-team", "core"}};
  config_.routes.push_back(r);
  config_.routes.push_back(make_route("default"));
  build();

  http::RequestHead head = make_head("/");
  EXPECT_EQ(match(head), "default");
  head.headers.push_back({"X-Canary", "1"});
  EXPECT_EQ(match(head), "default");  // x-team still missing
  head.headers.push_back({"x-TEAM", "core"});
  EXPECT_EQ(match(head), "canary");

  http::RequestHead wrong_value = make_head("/");
  wrong_value.headers.push_back({"x-canary", "1"});
  wrong_value.headers.push_back({"x-team", "Core"});  // values are case-sensitive
  EXPECT_EQ(match(wrong_value), "default");

  http::RequestHead repeated = make_head("/");
  repeated.headers.push_back({"x-canary", "0"});
  repeated.headers.push_back({"x-team", "core"});
  repeated.headers.push_back({"x-canary", "1"});  // any occurrence counts
  EXPECT_EQ(match(repeated), "canary");
}

TEST_F(RouterTest, AllCriteriaCombined) {
  Route r = make_route("combo", PathMatchKind::kRegex, "/v[12]/items/.*");
  r.match.hosts = {"*.example.com"};
  r.match.methods = {"GET"};
  r.match.headers = {HeaderMatch{"x-key", "k"}};
  config_.routes.push_back(r);
  build();

  http::RequestHead head = make_head("/v1/items/9", "shop.example.com");
  head.headers.push_back({"X-Key", "k"});
  EXPECT_EQ(match(head), "combo");

  http::RequestHead h1 = head;
  h1.method = "POST";
  EXPECT_EQ(match(h1), "");
  http::RequestHead h2 = head;
  h2.host = "example.com";
  EXPECT_EQ(match(h2), "");
  http::RequestHead h3 = head;
  h3.path = "/v3/items/9";
  EXPECT_EQ(match(h3), "");
  http::RequestHead h4 = head;
  h4.headers.clear();
  EXPECT_EQ(match(h4), "");
}

TEST_F(RouterTest, FirstMatchInFileOrderWins) {
  config_.routes.push_back(make_route("admin", PathMatchKind::kPrefix, "/admin"));
  config_.routes.push_back(make_route("api-exact", PathMatchKind::kExact, "/api"));
  config_.routes.push_back(make_route("api", PathMatchKind::kPrefix, "/api"));
  config_.routes.push_back(make_route("catch-all", PathMatchKind::kPrefix, "/"));
  config_.routes.push_back(make_route("never", PathMatchKind::kPrefix, "/api/x"));
  build();
  EXPECT_EQ(match_path("/admin/users"), "admin");
  EXPECT_EQ(match_path("/api"), "api-exact");
  EXPECT_EQ(match_path("/api/x"), "api");
  EXPECT_EQ(match_path("/adminx"), "catch-all");
  EXPECT_EQ(match_path("/"), "catch-all");
}

TEST_F(RouterTest, HostSpecificBeforeGeneric) {
  Route a = make_route("a");
  a.match.hosts = {"a.example.com"};
  Route wild = make_route("wild");
  wild.match.hosts = {"*.example.com"};
  config_.routes = {a, wild, make_route("any")};
  build();
  EXPECT_EQ(match_host("a.example.com"), "a");
  EXPECT_EQ(match_host("b.example.com"), "wild");
  EXPECT_EQ(match_host("other.org"), "any");
}

TEST_F(RouterTest, BadRegexReportsLocation) {
  config_.routes.push_back(make_route("ok", PathMatchKind::kRegex, "/fine"));
  Route bad = make_route("routes[1]", PathMatchKind::kRegex, "/(unclosed");
  bad.location = {"/etc/ringway/ringway.yaml", 12, 11};
  config_.routes.push_back(bad);
  std::string error;
  EXPECT_EQ(Router::build(config_, &error), nullptr);
  EXPECT_TRUE(error.starts_with("/etc/ringway/ringway.yaml:12:11: bad regex")) << error;
  EXPECT_NE(error.find("/(unclosed"), std::string::npos) << error;
  EXPECT_NE(error.find("routes[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("missing )"), std::string::npos) << error;
}

TEST_F(RouterTest, BadRegexWithNullErrorPointer) {
  config_.routes.push_back(make_route("bad", PathMatchKind::kRegex, "[z-a]"));
  EXPECT_EQ(Router::build(config_, nullptr), nullptr);
}

TEST_F(RouterTest, ConcurrentMatching) {
  config_.routes.push_back(make_route("re", PathMatchKind::kRegex, "/r/[a-z]+"));
  config_.routes.push_back(make_route("p", PathMatchKind::kPrefix, "/p"));
  build();
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      http::RequestHead re = make_head("/r/abc");
      http::RequestHead p = make_head("/p/1");
      http::RequestHead none = make_head("/q");
      for (int i = 0; i < 20000; ++i) {
        if (router_->match(re) != &config_.routes[0]) ++bad[t];
        if (router_->match(p) != &config_.routes[1]) ++bad[t];
        if (router_->match(none) != nullptr) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

// rewrite_path ---------------------------------------------------------------

std::string rewrite(std::string strip, std::string replace, std::string_view path) {
  Route r = make_route("r");
  r.strip_prefix = std::move(strip);
  r.replace_prefix = std::move(replace);
  std::string out = "stale contents";
  rewrite_path(r, path, out);
  return out;
}

TEST(RewritePath, NoRewriteConfigured) {
  EXPECT_EQ(rewrite("", "", "/a/b"), "/a/b");
  EXPECT_EQ(rewrite("", "", "/"), "/");
  EXPECT_EQ(rewrite("", "", ""), "/");
}

TEST(RewritePath, StripOnly) {
  EXPECT_EQ(rewrite("/api", "", "/api/users"), "/users");
  EXPECT_EQ(rewrite("/api", "", "/api"), "/");
  EXPECT_EQ(rewrite("/api", "", "/api/"), "/");
  EXPECT_EQ(rewrite("/api/", "", "/api/users"), "/users");
  EXPECT_EQ(rewrite("/api/", "", "/api/"), "/");
}

TEST(RewritePath, ReplacePrefix) {
  EXPECT_EQ(rewrite("/api", "/v2", "/api/users"), "/v2/users");
  EXPECT_EQ(rewrite("/api", "/v2", "/api"), "/v2");
  EXPECT_EQ(rewrite("/api", "/v2/", "/api/users"), "/v2/users");
  EXPECT_EQ(rewrite("/api/", "/v2", "/api/users"), "/v2/users");
  EXPECT_EQ(rewrite("/api/", "/v2/", "/api/users"), "/v2/users");
  EXPECT_EQ(rewrite("/api", "/", "/api/users"), "/users");
  EXPECT_EQ(rewrite("/api", "/", "/api"), "/");
  EXPECT_EQ(rewrite("/", "/v1", "/x/y"), "/v1/x/y");
  EXPECT_EQ(rewrite("/", "/v1/", "/x"), "/v1/x");
  EXPECT_EQ(rewrite("/old/path", "/new", "/old/path/z"), "/new/z");
}

TEST(RewritePath, ReplacementWithoutLeadingSlash) {
  EXPECT_EQ(rewrite("/api", "v2", "/api/users"), "/v2/users");
}

TEST(RewritePath, PrefixOnlyOnSegmentBoundary) {
  EXPECT_EQ(rewrite("/api", "/v2", "/apix"), "/apix");
  EXPECT_EQ(rewrite("/api", "/v2", "/other/api"), "/other/api");
  EXPECT_EQ(rewrite("/api/", "/v2", "/api"), "/api");
}

}  // namespace
}  // namespace ringway::routing
