// cors: preflights answered from config (origins, patterns, methods, headers,
// credentials, max_age), refusals, the headers on actual responses, Vary,
// the credentials/wildcard rules, and config errors with their positions.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "filters/cors/cors_filter.h"
#include "tests/unit/filters/compile_one.h"

namespace ringway::filters {
namespace {

const char* const kPreflightVary = "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

using testing::kFile;

testing::Compiled compile(const std::string& body) {
  return testing::compile_one(compile_cors, "cors", "c", body);
}

std::shared_ptr<const filter::Filter> must(const std::string& body) {
  return testing::must_compile(compile_cors, "cors", "c", body);
}

// The full policy of docs/filters/cors.md (single quotes: the regex's
// backslashes reach RE2 as written).
const std::string kFull = R"(    origins: ["https://app.example.com", '~^https://[a-z0-9-]+\.example\.org$']
    methods: [GET, POST, put]
    headers: [Authorization, Content-Type]
    expose_headers: [X-Request-Id, X-Total]
    credentials: true
    max_age: 10m
)";

using Lines = std::vector<std::string>;

Lines lines(const http::HeaderList& list) {
  Lines out;
  for (const auto& h : list) out.push_back(std::string(h.name) + ": " + std::string(h.value));
  return out;
}

// One request through a one-filter chain; both phases share the context.
struct Exchange {
  http::RequestHead head;
  filter::Context ctx;
  filter::WorkerState* ws = nullptr;

  // Access-Control-Request-Method/-Headers are sent when not empty.
  explicit Exchange(std::string_view method, std::string_view origin = {},
                    std::string_view request_method = {}, std::string_view request_headers = {}) {
    head.method = method;
    head.path = "/api";
    if (!origin.empty()) head.headers.push_back({"Origin", origin});
    if (!request_method.empty()) head.headers.push_back({"Access-Control-Request-Method", request_method});
    if (!request_headers.empty()) head.headers.push_back({"Access-Control-Request-Headers", request_headers});
    ctx.request = &head;
    ctx.begin(1, &ws, nullptr, nullptr, 0);
    ctx.enter(0);
  }
  Exchange& header(std::string_view name, std::string_view value) {
    head.headers.push_back({name, value});
    return *this;
  }
  // ctx points at head: never copied or moved.
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
};

// A preflight: OPTIONS with Access-Control-Request-Method (and -Headers).
Exchange preflight(std::string_view origin, std::string_view method, std::string_view headers = {}) {
  return Exchange("OPTIONS", origin, method, headers);  // built in place (C++17 elision)
}

void expect_refused(const filter::Filter& f, Exchange&& x, std::string_view body) {
  ASSERT_EQ(f.on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(x.ctx.local().status, 403);
  EXPECT_EQ(x.ctx.local().body, body);
  // No Allow-Origin: the browser blocks the actual request.
  EXPECT_EQ(lines(x.ctx.local().headers), (Lines{kPreflightVary, "Content-Type: text/plain"}));
}

TEST(CorsFilter, BothHeadPhases) {
  EXPECT_EQ(must("    origins: \"*\"\n")->phases(), filter::kRequestHead | filter::kResponseHead);
}

TEST(CorsFilter, PreflightAnsweredFromConfig) {
  auto f = must(kFull);
  Exchange x = preflight("https://app.example.com", "PUT", "authorization, Content-Type");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(x.ctx.local().status, 204);
  EXPECT_EQ(x.ctx.local().body, "");
  // Methods are upper-cased from config; max_age is in seconds.
  EXPECT_EQ(lines(x.ctx.local().headers),
            (Lines{kPreflightVary, "Access-Control-Allow-Origin: https://app.example.com",
                   "Access-Control-Allow-Methods: GET, POST, PUT",
                   "Access-Control-Allow-Headers: Authorization, Content-Type",
                   "Access-Control-Allow-Credentials: true", "Access-Control-Max-Age: 600"}));
}

TEST(CorsFilter, PreflightOriginPatternIsAFullMatch) {
  auto f = must(kFull);
  Exchange ok = preflight("https://shop-1.example.org", "GET");
  ASSERT_EQ(f->on_request_head(ok.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(ok.ctx.local().status, 204);
  EXPECT_EQ(lines(ok.ctx.local().headers)[1], "Access-Control-Allow-Origin: https://shop-1.example.org");
  for (const char* origin : {"https://example.org", "https://a.example.org.evil.com", "http://a.example.org",
                             "xhttps://a.example.org", "https://APP.example.com", "https://app.example.com:443",
                             "null"})
    expect_refused(*f, preflight(origin, "GET"), "CORS origin not allowed\n");
}

TEST(CorsFilter, PreflightRefusals) {
  auto f = must(kFull);
  expect_refused(*f, preflight("https://app.example.com", "DELETE"), "CORS method not allowed\n");
  // The request method is compared as sent (methods are case-sensitive).
  expect_refused(*f, preflight("https://app.example.com", "put"), "CORS method not allowed\n");
  // Every requested header must be allowed, not just the first.
  expect_refused(*f, preflight("https://app.example.com", "GET", "authorization, X-Custom"),
                 "CORS header not allowed\n");
  // The origin is checked first.
  expect_refused(*f, preflight("https://evil.example", "DELETE", "X-Custom"), "CORS origin not allowed\n");
}

TEST(CorsFilter, Defaults) {
  auto f = must("    origins: https://app.example.com\n");
  Exchange x = preflight("https://app.example.com", "HEAD");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(x.ctx.local().status, 204);
  // GET, HEAD, POST; no headers, credentials or max-age unless configured.
  EXPECT_EQ(lines(x.ctx.local().headers),
            (Lines{kPreflightVary, "Access-Control-Allow-Origin: https://app.example.com",
                   "Access-Control-Allow-Methods: GET, HEAD, POST"}));
  expect_refused(*f, preflight("https://app.example.com", "PUT"), "CORS method not allowed\n");
  expect_refused(*f, preflight("https://app.example.com", "GET", "Content-Type"), "CORS header not allowed\n");
}

TEST(CorsFilter, AnyOriginWithoutCredentialsAnswersStar) {
  auto f = must("    origins: \"*\"\n    expose_headers: X-Id\n");
  Exchange x = preflight("https://anyone.example", "POST");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(lines(x.ctx.local().headers)[1], "Access-Control-Allow-Origin: *");

  Exchange get("GET", "https://anyone.example");
  ASSERT_EQ(f->on_request_head(get.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(get.ctx), filter::Outcome::kProceed);
  // The same answer for every origin: nothing to Vary on.
  EXPECT_EQ(lines(get.ctx.response.headers),
            (Lines{"Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: X-Id"}));
  // Everyone's answer, also without Origin: a cache may hand it to anyone.
  Exchange plain("GET");
  ASSERT_EQ(f->on_request_head(plain.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(plain.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(lines(plain.ctx.response.headers),
            (Lines{"Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: X-Id"}));
  // "null" (sandboxed frames) is some origin too.
  Exchange null_origin("GET", "null");
  ASSERT_EQ(f->on_request_head(null_origin.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(null_origin.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(lines(null_origin.ctx.response.headers)[0], "Access-Control-Allow-Origin: *");
}

TEST(CorsFilter, NullOriginIsNeverMatchedByAPattern) {
  auto f = must("    origins: [\"~.*\"]\n");
  Exchange x("GET", "null");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(lines(x.ctx.response.headers), (Lines{"Vary: Origin"}));
  Exchange pre = preflight("null", "GET");
  ASSERT_EQ(f->on_request_head(pre.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(pre.ctx.local().status, 403);
}

TEST(CorsFilter, AnyHeaderEchoesTheRequestedHeaders) {
  // "*" is not a wildcard for credentialed requests, so it is echoed.
  auto f = must("    origins: [https://app.example.com]\n    headers: \"*\"\n    credentials: true\n");
  Exchange x = preflight("https://app.example.com", "GET", "X-Anything, x-other");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(x.ctx.local().status, 204);
  EXPECT_EQ(lines(x.ctx.local().headers),
            (Lines{kPreflightVary, "Access-Control-Allow-Origin: https://app.example.com",
                   "Access-Control-Allow-Methods: GET, HEAD, POST",
                   "Access-Control-Allow-Headers: X-Anything, x-other", "Access-Control-Allow-Credentials: true"}));
  Exchange none = preflight("https://app.example.com", "GET");
  ASSERT_EQ(f->on_request_head(none.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(lines(none.ctx.local().headers).size(), 4u);  // no Allow-Headers when none was asked
}

TEST(CorsFilter, ActualResponseFromAnAllowedOrigin) {
  auto f = must(kFull);
  Exchange x("GET", "https://app.example.com");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  x.ctx.response.status = 200;
  x.ctx.response.headers = {{"Content-Type", "text/html"},
                            {"access-control-allow-origin", "*"},
                            {"Vary", "Accept-Encoding"},
                            {"Access-Control-Allow-Credentials", "false"},
                            {"Access-Control-Expose-Headers", "X-Secret"}};
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  // The upstream's CORS headers are replaced; with credentials the origin is
  // echoed, never "*".
  EXPECT_EQ(lines(x.ctx.response.headers),
            (Lines{"Content-Type: text/html", "Vary: Accept-Encoding, Origin",
                   "Access-Control-Allow-Origin: https://app.example.com",
                   "Access-Control-Allow-Credentials: true",
                   "Access-Control-Expose-Headers: X-Request-Id, X-Total"}));
}

TEST(CorsFilter, OptionsWithoutRequestMethodIsNotAPreflight) {
  auto f = must(kFull);
  Exchange x("OPTIONS", "https://app.example.com");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(lines(x.ctx.response.headers)[1], "Access-Control-Allow-Origin: https://app.example.com");
}

TEST(CorsFilter, DisallowedOriginGetsOnlyVary) {
  auto f = must(kFull);
  Exchange x("POST", "https://evil.example");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);  // the browser blocks the read
  // An upstream that echoes every origin does not open the route.
  x.ctx.response.headers = {{"Content-Type", "application/json"},
                            {"Access-Control-Allow-Origin", "https://evil.example"},
                            {"Access-Control-Allow-Credentials", "true"},
                            {"Access-Control-Allow-Methods", "DELETE"}};
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(lines(x.ctx.response.headers), (Lines{"Content-Type: application/json", "Vary: Origin"}));
}

TEST(CorsFilter, NoOriginIsNotACorsRequestButItsAnswerVaries) {
  auto f = must(kFull);
  Exchange x("OPTIONS");
  x.header("Access-Control-Request-Method", "PUT");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);  // forwarded, not answered
  x.ctx.response.headers = {{"Access-Control-Allow-Origin", "*"}};
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  // A cache must not give this answer (no Allow-Origin) to an allowed origin.
  EXPECT_EQ(lines(x.ctx.response.headers), (Lines{"Vary: Origin"}));
}

TEST(CorsFilter, VaryMerging) {
  auto f = must("    origins: [https://a.example]\n");
  struct Case {
    http::HeaderList upstream;
    Lines expected;
  };
  const Case cases[] = {
      {{}, {"Vary: Origin"}},
      {{{"vary", "accept, ORIGIN"}}, {"vary: accept, ORIGIN"}},  // already there, any case
      {{{"Vary", "*"}}, {"Vary: *"}},                            // "*" already covers it
      {{{"Vary", "Accept-Encoding"}}, {"Vary: Accept-Encoding, Origin"}},
  };
  for (const Case& c : cases) {
    Exchange x("GET", "https://a.example");
    ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
    x.ctx.response.headers = c.upstream;
    ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
    Lines got = lines(x.ctx.response.headers);
    got.pop_back();  // Access-Control-Allow-Origin: https://a.example
    EXPECT_EQ(got, c.expected);
  }
}

// ---- config errors ---------------------------------------------------------

TEST(CorsConfig, CredentialsWithAnyOriginRefused) {
  EXPECT_EQ(compile("    origins: \"*\"\n    credentials: true\n").error,
            kFile + ":5:18: filters.c.credentials: credentials: true needs an explicit list of origins, "
                    "not \"*\" (any site could then read responses with the user's cookies)");
  EXPECT_EQ(compile("    origins: [https://a.example, \"*\"]\n    credentials: true\n").error.find(":5:18: "),
            kFile.size());
  EXPECT_TRUE(compile("    origins: \"*\"\n    credentials: false\n").filter);
}

TEST(CorsConfig, CredentialsWithAPatternMatchingAnySiteRefused) {
  EXPECT_EQ(compile("    origins: [\"~.*\"]\n    credentials: true\n").error,
            kFile + ":5:18: filters.c.credentials: credentials: true with the origin pattern \"~.*\", "
                    "which matches any site (it matches https://unrelated-site.invalid)");
  EXPECT_NE(compile("    origins: [\"~https://.*\"]\n    credentials: true\n").error, "");
  EXPECT_TRUE(compile("    origins: ['~^https://[a-z]+\\.example\\.org$']\n    credentials: true\n").filter);
}

TEST(CorsConfig, Origins) {
  const std::string shape =
      "an origin is scheme://host[:port] without a path, e.g. \"https://app.example.com\"";
  EXPECT_EQ(compile("    origins: [app.example.com]\n").error,
            kFile + ":4:15: filters.c.origins[0]: " + shape);
  EXPECT_EQ(compile("    origins: [https://a.example, https://b.example/]\n").error,
            kFile + ":4:34: filters.c.origins[1]: " + shape);
  for (const char* bad : {"https://a.example/path", "https://user@a.example", "https://a.example:0",
                          "https://a.example:99999", "https://a.example:", "https://", "://a.example",
                          "1https://a.example", "https://[::1", "https://a.example?x",
                          "https://bücher.example"})
    EXPECT_EQ(compile(std::string("    origins: [\"") + bad + "\"]\n").error,
              kFile + ":4:15: filters.c.origins[0]: " + shape)
        << bad;
  EXPECT_EQ(compile("    origins: \"~(\"\n").error,
            kFile + ":4:14: filters.c.origins: invalid regular expression: \"missing ): (\"");
  EXPECT_EQ(compile("    origins: []\n").error, kFile + ":4:14: filters.c.origins: must not be empty");
  EXPECT_EQ(compile("    methods: [GET]\n").error,
            kFile + ":3:5: missing required key \"origins\" in filter \"c\"");
}

TEST(CorsConfig, OriginsAreComparedAsBrowsersSerialiseThem) {
  // Upper case and default ports in the config would otherwise never match
  // what a browser sends (RFC 6454 6.2).
  auto f = must("    origins: [\"HTTPS://App.Example.com:443\", \"http://b.example:80\", "
                "\"http://c.example:8080\", \"https://[::1]:443\", \"https://d.example:0443\"]\n");
  for (const char* origin : {"https://app.example.com", "http://b.example", "http://c.example:8080",
                             "https://[::1]", "https://d.example"}) {
    Exchange x = preflight(origin, "GET");
    ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond) << origin;
    EXPECT_EQ(x.ctx.local().status, 204) << origin;
  }
  for (const char* origin : {"https://App.Example.com", "https://app.example.com:443", "http://c.example"}) {
    Exchange x = preflight(origin, "GET");
    ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond) << origin;
    EXPECT_EQ(x.ctx.local().status, 403) << origin;
  }
}

TEST(CorsConfig, OtherKeys) {
  const std::string o = "    origins: \"*\"\n";
  EXPECT_EQ(compile(o + "    methods: [\"GE T\"]\n").error,
            kFile + ":5:15: filters.c.methods[0]: invalid method \"GE T\"");
  EXPECT_EQ(compile(o + "    headers: [\"X:Y\"]\n").error,
            kFile + ":5:15: filters.c.headers[0]: invalid header name \"X:Y\"");
  EXPECT_EQ(compile(o + "    expose_headers: \"X Y\"\n").error,
            kFile + ":5:21: filters.c.expose_headers: invalid header name \"X Y\"");
  EXPECT_EQ(compile(o + "    max_age: 500ms\n").error,
            kFile + ":5:14: filters.c.max_age: must be whole seconds (Access-Control-Max-Age counts seconds)");
  EXPECT_EQ(compile(o + "    max_age: 25h\n").error,
            kFile + ":5:14: filters.c.max_age: must be between 0ms and 24h, got 25h");
  EXPECT_EQ(compile(o + "    credential: true\n").error,
            kFile + ":5:5: unknown key \"credential\" in filter \"c\" (did you mean \"credentials\"?)");
}

}  // namespace
}  // namespace ringway::filters
