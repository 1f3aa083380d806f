// headers: request and response edits (remove, set, add, in that order),
// template variables, the CR/LF guards at load and at expansion, the regex
// path rewrite and its 500, and config errors with their positions.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "filters/headers/headers_filter.h"
#include "tests/unit/filters/compile_one.h"

namespace ringway::filters {
namespace {

using testing::kFile;

testing::Compiled compile(const std::string& body) {
  return testing::compile_one(compile_headers, "headers", "h", body);
}

std::shared_ptr<const filter::Filter> must(const std::string& body) {
  return testing::must_compile(compile_headers, "headers", "h", body);
}

// One request through a one-filter chain, as the engine would set it up.
struct Exchange {
  http::RequestHead head;
  filter::Context ctx;
  config::Route route;
  filter::WorkerState* ws = nullptr;

  explicit Exchange(std::string path = "/", std::string_view query = {}) {
    head.method = "GET";
    head.path = std::move(path);
    head.query = query;
    head.host = "api.example.com";
    route.name = "orders";
    ctx.request = &head;
    ctx.route = &route;
    ctx.upstream = "backend";
    ctx.client_ip = "192.0.2.7";
    ctx.begin(1, &ws, nullptr, nullptr, 0);
    ctx.enter(0);
  }
  // Names and values of one header list, in order, for exact comparisons.
  static std::vector<std::string> lines(const http::HeaderList& list) {
    std::vector<std::string> out;
    for (const auto& h : list) out.push_back(std::string(h.name) + ": " + std::string(h.value));
    return out;
  }
  std::vector<std::string> request_lines() const { return lines(head.headers); }
  std::vector<std::string> response_lines() const { return lines(ctx.response.headers); }
};

using Lines = std::vector<std::string>;

TEST(HeadersFilter, PhasesFollowTheConfig) {
  EXPECT_EQ(must("    request: { add: {X-A: a} }\n")->phases(), filter::kRequestHead);
  EXPECT_EQ(must("    response: { remove: Server }\n")->phases(), filter::kResponseHead);
  EXPECT_EQ(must("    rewrite: { regex: ^/a, replace: /b }\n")->phases(), filter::kRequestHead);
  EXPECT_EQ(must("    request: { add: {X-A: a} }\n    response: { add: {X-B: b} }\n")->phases(),
            filter::kRequestHead | filter::kResponseHead);
}

TEST(HeadersFilter, RequestRemoveSetAdd) {
  auto f = must(
      "    request:\n"
      "      remove: [X-Debug, cookie]\n"
      "      set: { X-Env: prod }\n"
      "      add: { X-Trace: edge }\n");
  Exchange x;
  x.head.headers = {{"Accept", "*/*"}, {"x-debug", "1"}, {"X-Env", "dev"}, {"Cookie", "s=1"},
                    {"X-DEBUG", "2"},  {"x-env", "test"}, {"X-Trace", "client"}};
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  // remove and set match any case; set replaces every copy; add keeps the client's.
  EXPECT_EQ(x.request_lines(), (Lines{"Accept: */*", "X-Trace: client", "X-Env: prod", "X-Trace: edge"}));
  EXPECT_TRUE(x.ctx.response.headers.empty());
}

TEST(HeadersFilter, EditsApplyInOrderRemoveSetAdd) {
  // The same name under all three keys: remove runs first, then set, then add,
  // whatever the order in the file.
  auto f = must("    request:\n      add: { X-A: added }\n      set: { X-A: set }\n      remove: [X-A]\n");
  Exchange x;
  x.head.headers = {{"X-A", "client"}};
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), (Lines{"X-A: set", "X-A: added"}));
}

TEST(HeadersFilter, ResponseRemoveSetAdd) {
  auto f = must(
      "    response:\n"
      "      remove: Server\n"  // a single name is a list of one
      "      set: { Strict-Transport-Security: max-age=31536000 }\n"
      "      add: { Via: ringway }\n");
  Exchange x;
  x.head.headers = {{"Server", "client-sent"}};
  x.ctx.response.status = 200;
  x.ctx.response.headers = {{"server", "nginx"}, {"Via", "1.1 cdn"},
                            {"strict-transport-security", "max-age=0"}, {"Content-Type", "text/html"}};
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.response_lines(), (Lines{"Via: 1.1 cdn", "Content-Type: text/html",
                                       "Strict-Transport-Security: max-age=31536000", "Via: ringway"}));
  EXPECT_EQ(x.request_lines(), (Lines{"Server: client-sent"}));  // response edits only
}

TEST(HeadersFilter, BuiltinVariables) {
  auto f = must(
      "    request:\n"
      "      set:\n"
      "        X-Client: \"${client_ip}\"\n"
      "        X-Where: \"${route}@${upstream}\"\n"
      "        X-Req: \"${method} ${host}${path}?${query}\"\n"
      "        X-Price: \"$$5 ${route}$$\"\n");
  Exchange x("/a/b", "q=1");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), (Lines{"X-Client: 192.0.2.7", "X-Where: orders@backend",
                                      "X-Req: GET api.example.com/a/b?q=1", "X-Price: $5 orders$"}));
}

TEST(HeadersFilter, ClientIpPrefersTheResolvedAttribute) {
  // ip_rules behind trusted proxies sets "client_ip"; the peer is the proxy.
  auto f = must("    request: { set: { X-Real-IP: \"${client_ip}\" } }\n");
  Exchange x;
  x.ctx.set_attribute("client_ip", "203.0.113.9");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), (Lines{"X-Real-IP: 203.0.113.9"}));
}

TEST(HeadersFilter, RequestIdIsTheSameAcrossPhases) {
  auto f = must("    request: { set: { X-Request-Id: \"${request_id}\" } }\n"
                "    response: { set: { X-Request-Id: \"${request_id}\" } }\n");
  Exchange x;
  x.ctx.worker_index = 10;
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  std::string id(x.ctx.request_id());
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(x.request_lines(), (Lines{"X-Request-Id: " + id}));
  EXPECT_EQ(x.response_lines(), (Lines{"X-Request-Id: " + id}));
  Exchange other;
  EXPECT_NE(other.ctx.request_id(), x.ctx.request_id());
  // Not a counter from zero: a restarted gateway would repeat those.
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(std::string(Exchange().ctx.request_id()));
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(ids.count("00000000000000000000000000000001"), 0u);
}

TEST(HeadersFilter, AttributesFromEarlierFilters) {
  auto f = must("    request:\n      set: { X-User: \"user-${jwt.sub}\", X-Consumer: \"${consumer}\","
                " X-Tenant: \"[${jwt.tenant}]\" }\n");
  Exchange x;
  x.head.headers = {{"X-User", "forged"}};
  x.ctx.set_attribute("jwt.sub", "alice");
  x.ctx.set_attribute("consumer", "mobile-app");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  // An unset attribute expands to the empty string.
  EXPECT_EQ(x.request_lines(), (Lines{"X-User: user-alice", "X-Consumer: mobile-app", "X-Tenant: []"}));
}

TEST(HeadersFilter, ExpansionWithALineBreakIsNotSent) {
  auto f = must("    request: { add: { X-User: \"${jwt.sub}\", X-Ok: yes } }\n"
                "    response: { set: { X-Who: \"by ${consumer}\" } }\n");
  for (std::string evil : {std::string("a\r\nX-Admin: 1"), std::string("a\nb"), std::string("a\rb"),
                           std::string("a\0b", 3)}) {
    Exchange x;
    x.ctx.set_attribute("jwt.sub", evil);
    x.ctx.set_attribute("consumer", evil);
    ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
    ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
    EXPECT_EQ(x.request_lines(), (Lines{"X-Ok: yes"}));  // the other edit still happens
    EXPECT_TRUE(x.ctx.response.headers.empty());
  }
}

// A value that expands to nothing is not sent (nginx's proxy_set_header
// does the same); a `set` still removes the client's copies.
TEST(HeadersFilter, EmptyExpansionIsNotSent) {
  auto f = must("    request: { set: { X-User: \"${jwt.sub}\", X-Empty: \"\" }, add: { X-Tag: \"${consumer}\" } }\n"
                "    response: { set: { X-Who: \"${consumer}\" }, add: { X-Also: \"${consumer}\" } }\n");
  Exchange x;
  x.head.headers = {{"X-User", "forged"}, {"X-Empty", "client's"}, {"X-Kept", "1"}};
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  ASSERT_EQ(f->on_response_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), (Lines{"X-Kept: 1"}));
  EXPECT_TRUE(x.ctx.response.headers.empty());
  Exchange y;
  y.ctx.set_attribute("jwt.sub", "alice");
  y.ctx.set_attribute("consumer", "app");
  ASSERT_EQ(f->on_request_head(y.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(y.request_lines(), (Lines{"X-User: alice", "X-Tag: app"}));
}

// A `set` whose expansion is refused still removes the client's own copies
// of that header: "X-User: forged" must not reach the upstream in place of
// ours (set replaces every header of that name).
TEST(HeadersFilter, RefusedSetStillDropsTheClientsCopies) {
  auto f = must("    request: { set: { X-User: \"${jwt.sub}\" } }\n");
  Exchange x;
  x.head.headers = {{"X-User", "forged"}};
  x.ctx.set_attribute("jwt.sub", "a\r\nX-Admin: 1");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), Lines{});
}

TEST(HeadersFilter, RewriteWithCaptures) {
  auto f = must("    rewrite: { regex: \"^/v1/(.*)$\", replace: \"/api/\\\\1\" }\n");
  Exchange x("/v1/users/42", "page=2");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.head.path, "/api/users/42");
  EXPECT_EQ(x.head.query, "page=2");  // the query is not the rewrite's
  Exchange miss("/v2/users");
  ASSERT_EQ(f->on_request_head(miss.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(miss.head.path, "/v2/users");

  auto swap = must("    rewrite: { regex: \"^/u/([0-9]+)/p/([a-z]+)$\", replace: \"/users/\\\\2/\\\\1\" }\n");
  Exchange s("/u/7/p/orders");
  ASSERT_EQ(swap->on_request_head(s.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(s.head.path, "/users/orders/7");
}

TEST(HeadersFilter, RewriteResultIsNormalised) {
  auto f = must("    rewrite: { regex: \"^/a/(.*)$\", replace: \"/b//\\\\1/../c\" }\n");
  Exchange x("/a/x");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.head.path, "/b/c");
}

TEST(HeadersFilter, RewriteRunsBeforeRequestEdits) {
  // ${path} in the same filter's request edits sees the rewritten path.
  auto f = must("    request: { set: { X-Path: \"${path}\" } }\n"
                "    rewrite: { regex: \"^/old\", replace: /new }\n");
  Exchange x("/old/x");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.request_lines(), (Lines{"X-Path: /new/x"}));
}

TEST(HeadersFilter, InvalidRewriteResultAnswers500) {
  for (const char* replace : {"/x%2F\\\\1", "/search?q=\\\\1", "/a\\\\\\\\b"}) {
    auto f = must(std::string("    rewrite: { regex: \"^/f/(.*)$\", replace: \"") + replace + "\" }\n");
    Exchange x("/f/doc");
    x.head.headers = {{"X-A", "1"}};
    ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond) << replace;
    EXPECT_EQ(x.ctx.local().status, 500);
    EXPECT_EQ(x.ctx.local().body, "path rewrite produced an invalid path\n");
    EXPECT_EQ(x.head.path, "/f/doc");  // the request is left as it was
  }
}

// Docs: "a result normalisation refuses (an encoded slash, a `?`) answers
// 500", also a '?' with nothing after it.
TEST(HeadersFilter, RewriteToATrailingQuestionMarkAnswers500) {
  auto f = must("    rewrite: { regex: \"^/f/(.*)$\", replace: \"/g?\\\\1\" }\n");
  Exchange x("/f/");
  EXPECT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  EXPECT_EQ(x.head.path, "/f/");
}

// ---- config errors ---------------------------------------------------------

TEST(HeadersConfig, ControlCharactersInValuesAreRefusedAtLoad) {
  for (const char* value : {"a\\x01b", "a\\x0bb", "a\\x7fb"})
    EXPECT_EQ(compile(std::string("    response: { add: { X-A: \"") + value + "\" } }\n").error,
              kFile + ":4:29: filters.h.response.add.X-A: header values cannot contain control characters (CR, LF, NUL...)")
        << value;
  EXPECT_TRUE(compile("    response: { add: { X-A: \"a\\tb\" } }\n").error.empty());  // HTAB is allowed
}

TEST(HeadersConfig, LineBreaksInValuesAreRefusedAtLoad) {
  EXPECT_EQ(compile("    request:\n      set: { X-A: \"a\\r\\nX-B: b\" }\n").error,
            kFile + ":5:19: filters.h.request.set.X-A: header values cannot contain control characters (CR, LF, NUL...)");
  EXPECT_EQ(compile("    response:\n      add:\n        X-A: \"line\\n\"\n").error,
            kFile + ":6:14: filters.h.response.add.X-A: header values cannot contain control characters (CR, LF, NUL...)");
  EXPECT_EQ(compile("    response: { add: { X-A: \"\\0\" } }\n").error,
            kFile + ":4:29: filters.h.response.add.X-A: header values cannot contain control characters (CR, LF, NUL...)");
}

TEST(HeadersConfig, TemplateSyntax) {
  const std::string pre = kFile + ":4:28: filters.h.request.set.X-A: ";
  EXPECT_EQ(compile("    request: { set: { X-A: \"5$\" } }\n").error,
            pre + "a '$' must start a variable \"${name}\" (write \"$$\" for a literal '$')");
  EXPECT_EQ(compile("    request: { set: { X-A: \"${jwt.sub\" } }\n").error, pre + "unclosed \"${\"");
  EXPECT_EQ(compile("    request: { set: { X-A: \"${}\" } }\n").error, pre + "invalid variable name \"\"");
  EXPECT_EQ(compile("    request: { set: { X-A: \"${a b}\" } }\n").error,
            pre + "invalid variable name \"a b\"");
}

TEST(HeadersConfig, HeaderNames) {
  EXPECT_EQ(compile("    request: { set: { \"X A\": v } }\n").error,
            kFile + ":4:23: filters.h.request.set.X A: invalid header name \"X A\"");
  EXPECT_EQ(compile("    request: { remove: [Host] }\n").error,
            kFile + ":4:25: filters.h.request.remove[0]: \"Host\" is managed by the gateway and cannot "
                    "be set by a filter");
  for (const char* managed : {"Content-Length", "transfer-encoding", "Connection", "Keep-Alive", "Upgrade",
                              "TE", "Trailer", "Proxy-Connection"}) {
    EXPECT_NE(compile(std::string("    response: { add: { ") + managed + ": x } }\n")
                  .error.find("is managed by the gateway"),
              std::string::npos)
        << managed;
  }
  // What the gateway writes after the filters can be removed, not set.
  for (const char* written : {"X-Forwarded-For", "x-forwarded-proto", "X-Forwarded-Host", "Via"}) {
    EXPECT_NE(compile(std::string("    request: { set: { ") + written + ": x } }\n")
                  .error.find("is written by the gateway after the filters and cannot be set"),
              std::string::npos)
        << written;
    EXPECT_EQ(compile(std::string("    request: { remove: [") + written + "] }\n").error, "") << written;
  }
  EXPECT_EQ(compile("    request: { set: { Forwarded: \"proto=https\" } }\n").error, "");
}

TEST(HeadersConfig, Rewrite) {
  EXPECT_EQ(compile("    rewrite: { regex: \"(\", replace: /x }\n").error,
            kFile + ":4:23: filters.h.rewrite.regex: invalid regular expression: \"missing ): (\"");
  EXPECT_EQ(compile("    rewrite: { regex: ^/a, replace: b }\n").error,
            kFile + ":4:37: filters.h.rewrite.replace: must start with '/'");
  EXPECT_EQ(compile("    rewrite: { regex: \"^/(a)\", replace: \"/\\\\2\" }\n").error,
            kFile + ":4:41: filters.h.rewrite.replace: Rewrite schema requests 2 matches, but the "
                    "regexp only has 1 parenthesized subexpressions.");
  EXPECT_EQ(compile("    rewrite: { replace: /x }\n").error,
            kFile + ":4:14: missing required key \"regex\" in filters.h.rewrite");
}

TEST(HeadersConfig, NothingToDoAndUnknownKeys) {
  EXPECT_EQ(compile("").error, kFile + ":3:5: filters.h: nothing to do: give request, response or rewrite");
  EXPECT_EQ(compile("    requests: { add: { X-A: a } }\n").error,
            kFile + ":4:5: unknown key \"requests\" in filter \"h\" (did you mean \"request\"?)");
  EXPECT_EQ(compile("    request: { sett: { X-A: a } }\n").error,
            kFile + ":4:16: unknown key \"sett\" in filters.h.request (did you mean \"set\"?)");
}

}  // namespace
}  // namespace ringway::filters
