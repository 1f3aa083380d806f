#include "engine/routing/router.h"

#include <gtest/gtest.h>

#include <random>
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
  // scan_up_to 0: match() always goes through the index, whatever the size.
  void build() {
    std::string error;
    router_ = Router::build(config_, &error, 0);
    ASSERT_NE(router_, nullptr) << error;
    EXPECT_EQ(error, "");
  }

  // Name of the matching route, or "" for no match; the index and a scan of
  // every route must agree.
  std::string match(const http::RequestHead& head) {
    const Route* r = router_->match(head);
    EXPECT_EQ(r, router_->scan(head)) << head.host << " " << head.path;
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

TEST_F(RouterTest, BadRegexErrorIsOneLine) {
  config_.routes.push_back(make_route("a\nb", PathMatchKind::kRegex, "/a\n("));
  std::string error;
  EXPECT_EQ(Router::build(config_, &error), nullptr);
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
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

TEST_F(RouterTest, IndexKeepsFileOrderAcrossHostLevels) {
  // The same request can be in several candidate lists (no host, "*", the
  // exact host, a wildcard; fixed segment or not): the earliest route wins.
  Route any = make_route("any-host-prefix", PathMatchKind::kPrefix, "/api");
  any.match.methods = {"POST"};
  Route star = make_route("star");
  star.match.hosts = {"*"};
  star.match.methods = {"PUT"};
  Route wild = make_route("wild", PathMatchKind::kExact, "/api/x");
  wild.match.hosts = {"*.example.com", "a.example.com"};  // listed twice for a.example.com
  Route exact = make_route("exact", PathMatchKind::kPrefix, "/");
  exact.match.hosts = {"a.example.com"};
  Route rest = make_route("rest");
  for (const Route& r : {any, star, wild, exact, rest}) config_.routes.push_back(r);
  build();
  EXPECT_EQ(match(make_head("/api/x", "a.example.com", "POST")), "any-host-prefix");
  EXPECT_EQ(match(make_head("/api/x", "A.Example.COM:443", "PUT")), "star");
  EXPECT_EQ(match(make_head("/api/x", "a.example.com")), "wild");
  EXPECT_EQ(match(make_head("/api/y", "a.example.com")), "exact");
  EXPECT_EQ(match(make_head("/api/y", "b.example.com")), "rest");
  EXPECT_EQ(match(make_head("/api/x", "example.com")), "rest");  // no label before *.
  EXPECT_EQ(match(make_head("/api/x", "")), "rest");
  EXPECT_EQ(match(make_head("*", "a.example.com", "OPTIONS")), "rest");  // not a path: scanned
}

TEST_F(RouterTest, IndexedEmptyHostPattern) {
  // "." normalises to "": a hand-built config's way to match a request
  // without a host (the loader refuses it); the index must agree with a scan.
  Route r = make_route("no-host");
  r.match.hosts = {"."};
  config_.routes.push_back(r);
  config_.routes.push_back(make_route("rest"));
  build();
  EXPECT_EQ(match(make_head("/", "")), "no-host");
  EXPECT_EQ(match(make_head("/", "example.com")), "rest");
}

TEST_F(RouterTest, IndexAgreesWithAScanOnRandomConfigs) {
  // Many random configs and requests; match() (the index) must find exactly
  // the route a scan in file order finds.
  std::mt19937 rng(20261206);
  auto pick = [&](const std::vector<std::string>& from) -> const std::string& {
    return from[rng() % from.size()];
  };
  const std::vector<std::string> hosts = {"a.example.com", "b.example.com", "example.com", "x.a.example.com",
                                          "other.test", "[::1]"};
  const std::vector<std::string> patterns = {"a.example.com", "*.example.com", "*.a.example.com", "*",
                                             "other.test", "example.com", "[::1]"};
  const std::vector<std::string> paths = {"/", "/api", "/api/", "/api/v1", "/ap", "/static", "/static/x.css",
                                          "/api/v1/users", "/apix", "/v2"};
  const std::vector<std::string> methods = {"GET", "POST", "PUT"};
  for (int round = 0; round < 200; ++round) {
    config_.routes.clear();
    int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      auto kind = static_cast<PathMatchKind>(rng() % 4);
      std::string path = kind == PathMatchKind::kRegex ? "/api/.*" : pick(paths);
      std::string name = "r";
      name += std::to_string(i);  // (not "r" + ...: a GCC 12 -Wrestrict false positive)
      Route r = make_route(name, kind, kind == PathMatchKind::kNone ? "" : path);
      for (unsigned h = rng() % 3; h > 0; --h) r.match.hosts.push_back(pick(patterns));
      if (rng() % 4 == 0) r.match.methods = {pick(methods)};
      if (rng() % 8 == 0) r.match.headers = {HeaderMatch{"x-canary", "1"}};
      config_.routes.push_back(std::move(r));
    }
    build();
    for (int q = 0; q < 50; ++q) {
      std::string host = pick(hosts);
      if (rng() % 3 == 0) {  // case and port
        host.insert(0, "A.");
        host += ":8080";
      }
      const std::string& method = pick(methods);  // the head holds views
      http::RequestHead head = make_head(pick(paths) + (rng() % 2 ? "/more" : ""), host, method);
      if (rng() % 4 == 0) head.headers.push_back({"X-Canary", "1"});
      match(head);  // compares with scan()
    }
  }
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
