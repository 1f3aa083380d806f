// respond and redirect: answers made at the gateway in the request-head
// phase: status, body, Content-Type, header templates, redirect statuses with
// Location, keep_query, the 500 for a Location with a line break, config errors.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "filters/respond/respond_filter.h"
#include "tests/unit/filters/compile_one.h"

namespace ringway::filters {
namespace {

using testing::kFile;

// `type` is respond or redirect.
testing::Compiled compile(const std::string& type, const std::string& body) {
  return testing::compile_one(type == "respond" ? compile_respond : compile_redirect, type, "r", body);
}

std::shared_ptr<const filter::Filter> respond(const std::string& body) {
  return testing::must_compile(compile_respond, "respond", "r", body);
}
std::shared_ptr<const filter::Filter> redirect(const std::string& body) {
  return testing::must_compile(compile_redirect, "redirect", "r", body);
}

using Lines = std::vector<std::string>;

// One request through a one-filter chain.
struct Exchange {
  http::RequestHead head;
  filter::Context ctx;
  config::Route route;
  filter::WorkerState* ws = nullptr;

  explicit Exchange(std::string path = "/", std::string_view query = {}) {
    head.method = "GET";
    head.path = std::move(path);
    head.query = query;
    head.host = "www.example.com";
    route.name = "legacy";
    ctx.request = &head;
    ctx.route = &route;
    ctx.begin(1, &ws, nullptr, nullptr, 0);
    ctx.enter(0);
  }
  // Runs the filter, which always answers.
  const filter::LocalResponse& run(const filter::Filter& f) {
    EXPECT_EQ(f.on_request_head(ctx), filter::Outcome::kRespond);
    return ctx.local();
  }
  Lines headers() {
    Lines out;
    for (const auto& h : ctx.local().headers) out.push_back(std::string(h.name) + ": " + std::string(h.value));
    return out;
  }
};

// ---- respond ---------------------------------------------------------------

TEST(RespondFilter, DefaultsTo200WithNothing) {
  auto f = respond("");
  EXPECT_EQ(f->phases(), filter::kRequestHead);
  Exchange x;
  EXPECT_EQ(x.run(*f).status, 200);
  EXPECT_EQ(x.ctx.local().body, "");
  EXPECT_EQ(x.headers(), Lines{});  // no body, so no Content-Type
}

TEST(RespondFilter, StatusBodyAndDefaultContentType) {
  auto f = respond("    status: 410\n    body: \"this API version is retired\"\n");
  Exchange x;
  EXPECT_EQ(x.run(*f).status, 410);
  EXPECT_EQ(x.ctx.local().body, "this API version is retired");
  EXPECT_EQ(x.headers(), Lines{"Content-Type: text/plain"});
}

TEST(RespondFilter, HeaderAndContentTypeTemplates) {
  auto f = respond(
      "    status: 503\n"
      "    body: '{\"retry\": true}'\n"
      "    content_type: \"application/json; route=${route}\"\n"
      "    headers: { Link: \"</v2/>; rel=successor-version\", X-Path: \"${host}${path}\" }\n");
  Exchange x("/v1/items");
  EXPECT_EQ(x.run(*f).status, 503);
  EXPECT_EQ(x.ctx.local().body, "{\"retry\": true}");
  EXPECT_EQ(x.headers(), (Lines{"Link: </v2/>; rel=successor-version", "X-Path: www.example.com/v1/items",
                                "Content-Type: application/json; route=legacy"}));
}

TEST(RespondFilter, AHeaderThatWouldCarryALineBreakIsDropped) {
  auto f = respond("    headers: { X-Who: \"${consumer}\", X-Ok: \"1\" }\n");
  Exchange x;
  x.ctx.set_attribute("consumer", "a\r\nSet-Cookie: s=1");
  EXPECT_EQ(x.run(*f).status, 200);
  EXPECT_EQ(x.headers(), Lines{"X-Ok: 1"});
}

// The answer is a fresh one per request: nothing leaks between requests.
TEST(RespondFilter, EachRequestGetsItsOwnAnswer) {
  auto f = respond("    headers: { X-Path: \"${path}\" }\n");
  Exchange a("/a"), b("/b");
  a.run(*f);
  b.run(*f);
  EXPECT_EQ(a.headers(), Lines{"X-Path: /a"});
  EXPECT_EQ(b.headers(), Lines{"X-Path: /b"});
}

// A Content-Type in `headers` is the one sent, not the default's as well;
// giving it in both places is a config error.
TEST(RespondFilter, ContentTypeInHeadersIsSentOnce) {
  auto f = respond("    body: \"{}\"\n    headers: { Content-Type: application/json }\n");
  Exchange x;
  x.run(*f);
  EXPECT_EQ(x.headers(), Lines{"Content-Type: application/json"});
  EXPECT_EQ(compile("respond", "    body: x\n    content_type: text/html\n    headers: { content-type: a/b }\n").error,
            kFile + ":5:19: filters.r.content_type: Content-Type is also in headers: give it once");
}

TEST(RespondConfig, Errors) {
  EXPECT_EQ(compile("respond", "    status: 204\n    body: x\n").error,
            kFile + ":5:11: filters.r.body: a 204 response has no body");
  EXPECT_EQ(compile("respond", "    status: 205\n    body: x\n").error,
            kFile + ":5:11: filters.r.body: a 205 response has no body");
  EXPECT_EQ(compile("respond", "    status: 199\n").error,
            kFile + ":4:13: filters.r.status: must be between 200 and 599, got 199");
  EXPECT_EQ(compile("respond", "    status: 600\n").error,
            kFile + ":4:13: filters.r.status: must be between 200 and 599, got 600");
  EXPECT_EQ(compile("respond", "    headers: { Content-Length: \"5\" }\n").error,
            kFile + ":4:16: filters.r.headers.Content-Length: \"Content-Length\" is managed by the "
                    "gateway and cannot be set by a filter");
  EXPECT_EQ(compile("respond", "    headers: { X-A: \"a\\nb\" }\n").error,
            kFile + ":4:21: filters.r.headers.X-A: header values cannot contain control characters (CR, LF, NUL...)");
  EXPECT_EQ(compile("respond", "    body: x\n    content_type: \"${\"\n").error,
            kFile + ":5:19: filters.r.content_type: unclosed \"${\"");
  EXPECT_EQ(compile("respond", "    location: /x\n").error,
            kFile + ":4:5: unknown key \"location\" in filter \"r\"");
}

// ---- redirect --------------------------------------------------------------

TEST(RedirectFilter, Defaults301AndDropsTheQuery) {
  auto f = redirect("    location: \"https://example.com${path}\"\n");
  EXPECT_EQ(f->phases(), filter::kRequestHead);
  Exchange x("/go/a/b", "x=1&y=2");
  EXPECT_EQ(x.run(*f).status, 301);
  EXPECT_EQ(x.ctx.local().body, "");
  EXPECT_EQ(x.headers(), Lines{"Location: https://example.com/go/a/b"});
}

TEST(RedirectFilter, EachAllowedStatus) {
  for (int status : {301, 302, 303, 307, 308}) {
    auto f = redirect("    status: " + std::to_string(status) + "\n    location: \"https://${host}${path}\"\n");
    Exchange x("/p");
    EXPECT_EQ(x.run(*f).status, status);
    EXPECT_EQ(x.headers(), Lines{"Location: https://www.example.com/p"}) << status;
  }
}

TEST(RedirectFilter, KeepQuery) {
  auto f = redirect("    status: 308\n    location: \"https://${host}${path}\"\n    keep_query: true\n");
  Exchange x("/go", "x=1&y=%20");
  EXPECT_EQ(x.run(*f).status, 308);
  EXPECT_EQ(x.headers(), Lines{"Location: https://www.example.com/go?x=1&y=%20"});
  // No query: no dangling '?'.
  Exchange none("/go");
  none.run(*f);
  EXPECT_EQ(none.headers(), Lines{"Location: https://www.example.com/go"});
}

TEST(RedirectFilter, KeepQueryJoinsALocationThatHasOne) {
  auto f = redirect("    location: \"/login?next=${path}\"\n    keep_query: true\n");
  Exchange x("/cart", "id=7");
  x.run(*f);
  EXPECT_EQ(x.headers(), Lines{"Location: /login?next=/cart&id=7"});
}

TEST(RedirectFilter, KeepQueryGoesBeforeAFragment) {
  auto f = redirect("    location: \"/new#top\"\n    keep_query: true\n");
  Exchange x("/old", "q=1");
  x.run(*f);
  EXPECT_EQ(x.headers(), Lines{"Location: /new?q=1#top"});
  auto g = redirect("    location: \"/new?a=1#x?y\"\n    keep_query: true\n");
  Exchange y("/old", "q=1");
  y.run(*g);
  EXPECT_EQ(y.headers(), Lines{"Location: /new?a=1&q=1#x?y"});
}

TEST(RedirectFilter, LiteralLocation) {
  auto f = redirect("    status: 302\n    location: https://status.example.com/\n");
  Exchange x("/anything", "q=1");
  EXPECT_EQ(x.run(*f).status, 302);
  EXPECT_EQ(x.headers(), Lines{"Location: https://status.example.com/"});
}

TEST(RedirectFilter, LocationWithALineBreakAnswers500) {
  auto f = redirect("    location: \"https://example.com/u/${jwt.sub}\"\n");
  Exchange x;
  x.ctx.set_attribute("jwt.sub", "x\r\nSet-Cookie: a=b");
  EXPECT_EQ(x.run(*f).status, 500);
  EXPECT_EQ(x.ctx.local().body, "redirect target would contain a line break\n");
  EXPECT_EQ(x.headers(), Lines{});  // no Location at all
}

TEST(RedirectConfig, Errors) {
  const std::string loc = "    location: /x\n";
  EXPECT_EQ(compile("redirect", "    status: 304\n" + loc).error,
            kFile + ":4:13: filters.r.status: a redirect status is one of 301, 302, 303, 307, 308");
  EXPECT_EQ(compile("redirect", "    status: 300\n" + loc).error,
            kFile + ":4:13: filters.r.status: a redirect status is one of 301, 302, 303, 307, 308");
  EXPECT_EQ(compile("redirect", "    status: 200\n" + loc).error,
            kFile + ":4:13: filters.r.status: must be between 300 and 399, got 200");
  EXPECT_EQ(compile("redirect", "    status: 301\n").error,
            kFile + ":3:5: missing required key \"location\" in filter \"r\"");
  EXPECT_EQ(compile("redirect", "    location: \"\"\n").error, kFile + ":4:15: filters.r.location: must not be empty");
  EXPECT_EQ(compile("redirect", "    location: \"/a\\r\\nb\"\n").error,
            kFile + ":4:15: filters.r.location: header values cannot contain control characters (CR, LF, NUL...)");
  EXPECT_EQ(compile("redirect", loc + "    keep_query: yes\n").error.rfind(
                kFile + ":5:17: filters.r.keep_query: expected true or false", 0),
            0u);
  EXPECT_EQ(compile("redirect", loc + "    body: moved\n").error,
            kFile + ":5:5: unknown key \"body\" in filter \"r\"");
}

}  // namespace
}  // namespace ringway::filters
