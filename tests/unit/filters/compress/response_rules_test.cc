// The compress filter's response-head rules, one at a time, and the header
// edits that go with compressing: Content-Encoding, Content-Length,
// Accept-Ranges, ETag and Vary.

#include "filters/compress/response_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringway::filters::compress {
namespace {

// A response that passes every rule, and a request that takes gzip.
struct Rules : ::testing::Test {
  CompressConfig config;
  http::RequestHead request;
  filter::ResponseHead response;

  void SetUp() override {
    request.method = "GET";
    request.headers.push_back({"Accept-Encoding", "gzip"});
    response.status = 200;
    response.content_length = 1000;
    response.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
    response.headers.push_back({"Content-Length", "1000"});
  }

  Verdict verdict() { return decide(config, &request, response); }

  void set(std::string_view name, std::string_view value) {
    for (auto& h : response.headers)
      if (http::iequals(h.name, name)) {
        h.value = value;
        return;
      }
    response.headers.push_back({name, value});
  }
};

TEST_F(Rules, BaselineCompresses) { EXPECT_EQ(verdict(), Verdict::kCompress); }

TEST_F(Rules, StatusMustCarryABody) {
  for (int status : {200, 201, 203, 300, 301, 404, 410, 500, 503}) {
    response.status = status;
    EXPECT_EQ(verdict(), Verdict::kCompress) << status;
  }
  for (int status : {0, 100, 101, 204, 205, 206, 304}) {
    response.status = status;
    EXPECT_EQ(verdict(), Verdict::kSkip) << status;
  }
}

TEST_F(Rules, NeverCompressesTwice) {
  for (const char* coding : {"gzip", "br", "deflate", "identity", "x-custom"}) {
    set("Content-Encoding", coding);
    EXPECT_EQ(verdict(), Verdict::kSkip) << coding;
  }
  set("Content-Encoding", "  ");  // empty: no coding
  EXPECT_EQ(verdict(), Verdict::kCompress);
}

TEST_F(Rules, ContentRangeIsLeftAlone) {
  set("Content-Range", "bytes 0-999/5000");
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST_F(Rules, NoTransformIsHonoured) {
  for (const char* cc : {"no-transform", "public, no-transform", "max-age=60,NO-TRANSFORM",
                         "no-transform , private"}) {
    set("Cache-Control", cc);
    EXPECT_EQ(verdict(), Verdict::kSkip) << cc;
  }
  for (const char* cc : {"public, max-age=60", "no-transformer", "x=no-transform"}) {
    set("Cache-Control", cc);
    EXPECT_EQ(verdict(), Verdict::kCompress) << cc;
  }
  // On a second Cache-Control line too.
  set("Cache-Control", "public");
  response.headers.push_back({"cache-control", "no-transform"});
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST_F(Rules, ContentTypeMustBeListed) {
  for (const char* type : {"text/html", "TEXT/HTML", "text/html;charset=utf-8", "application/json",
                           "image/svg+xml", " text/css ; x=y"}) {
    set("Content-Type", type);
    EXPECT_EQ(verdict(), Verdict::kCompress) << type;
  }
  for (const char* type : {"image/png", "application/octet-stream", "video/mp4", "text/event-stream",
                           "", "text", "text/html2"}) {
    set("Content-Type", type);
    EXPECT_EQ(verdict(), Verdict::kSkip) << type;
  }
  response.headers.erase(response.headers.begin());  // no Content-Type at all
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST_F(Rules, ConfiguredWildcards) {
  config.types = TypeList();
  config.types.add(*TypeList::normalize("text/*"));
  set("Content-Type", "text/x-anything");
  EXPECT_EQ(verdict(), Verdict::kCompress);
  set("Content-Type", "application/json");
  EXPECT_EQ(verdict(), Verdict::kSkip);
  config.types.add(*TypeList::normalize("*/*"));
  EXPECT_EQ(verdict(), Verdict::kCompress);
}

TEST_F(Rules, MinLengthAppliesToKnownLengths) {
  config.min_length = 256;
  response.content_length = 255;
  EXPECT_EQ(verdict(), Verdict::kSkip);
  response.content_length = 256;
  EXPECT_EQ(verdict(), Verdict::kCompress);
  response.content_length = 0;
  EXPECT_EQ(verdict(), Verdict::kSkip);
  response.content_length = -1;  // chunked: compressed, whatever its size
  EXPECT_EQ(verdict(), Verdict::kCompress);
  config.min_length = 0;
  response.content_length = 0;  // "gzip" on zero bytes would be no gzip member
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST_F(Rules, ContentDigestsAreLeftAlone) {
  // They cover the bytes as sent (RFC 9530, 1864, 3230): coded, they break.
  for (const char* name : {"Content-Digest", "Repr-Digest", "Content-MD5", "Digest"}) {
    SetUp();
    set(name, "sha-256=:abc=:");
    EXPECT_EQ(verdict(), Verdict::kSkip) << name;
    response.headers.clear();
  }
}

TEST_F(Rules, HeadUsesTheContentLengthHeader) {
  request.method = "HEAD";
  response.content_length = 0;  // what the engine reports for a HEAD response
  EXPECT_EQ(verdict(), Verdict::kCompress);  // the header says 1000
  set("Content-Length", "255");
  EXPECT_EQ(verdict(), Verdict::kSkip);
  set("Content-Length", " 256 ");
  EXPECT_EQ(verdict(), Verdict::kCompress);
  set("Content-Length", "12x");  // unreadable: unknown, like chunked
  EXPECT_EQ(verdict(), Verdict::kCompress);
  response.headers.pop_back();
  EXPECT_EQ(verdict(), Verdict::kCompress);
  request.method = "GET";  // GET goes by the engine's length
  EXPECT_EQ(verdict(), Verdict::kSkip);
  // A filter's own answer to HEAD has no Content-Length field, only its
  // length: HEAD gets the head GET would (no gzip for a short body).
  request.method = "HEAD";
  config.min_length = 256;
  response.content_length = 16;
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST_F(Rules, ClientWithoutGzipGetsVaryOnly) {
  request.headers.clear();
  EXPECT_EQ(verdict(), Verdict::kVaryOnly);
  request.headers.push_back({"Accept-Encoding", "br"});
  EXPECT_EQ(verdict(), Verdict::kVaryOnly);
  request.headers[0].value = "gzip;q=bad";
  EXPECT_EQ(verdict(), Verdict::kVaryOnly);
  EXPECT_EQ(decide(config, nullptr, response), Verdict::kVaryOnly);
  // Not compressible at all: no Vary either.
  response.status = 204;
  EXPECT_EQ(verdict(), Verdict::kSkip);
}

TEST(TypeList, Normalize) {
  EXPECT_EQ(TypeList::normalize("Text/HTML"), "text/html");
  EXPECT_EQ(TypeList::normalize(" text/* "), "text/*");
  EXPECT_EQ(TypeList::normalize("*/*"), "*/*");
  EXPECT_EQ(TypeList::normalize("application/vnd.api+json"), "application/vnd.api+json");
  for (const char* bad : {"text", "*/html", "text/", "/html", "text/html; charset=utf-8", "te xt/html",
                          "text/html/x", ""})
    EXPECT_FALSE(TypeList::normalize(bad).has_value()) << bad;
}

TEST(TypeList, DefaultsLeaveOutEventStreams) {
  TypeList d = TypeList::defaults();
  EXPECT_TRUE(d.matches("text/html"));
  EXPECT_TRUE(d.matches("application/javascript; charset=utf-8"));
  EXPECT_FALSE(d.matches("text/event-stream"));
  EXPECT_FALSE(d.matches("image/jpeg"));
}

TEST(ListHasToken, Forms) {
  EXPECT_TRUE(list_has_token("Accept-Encoding", "accept-encoding"));
  EXPECT_TRUE(list_has_token("Origin, accept-encoding", "accept-encoding"));
  EXPECT_TRUE(list_has_token("max-age=0, no-transform", "no-transform"));
  EXPECT_FALSE(list_has_token("Accept-Encoding-X", "accept-encoding"));
  EXPECT_FALSE(list_has_token("", "accept-encoding"));
}

// Header edits, through a Context as the filter makes them.
struct Edits : ::testing::Test {
  filter::Context ctx;
  std::vector<std::string> values(std::string_view name) {
    std::vector<std::string> out;
    for (const auto& h : ctx.response.headers)
      if (http::iequals(h.name, name)) out.emplace_back(h.value);
    return out;
  }
};

TEST_F(Edits, RewriteForGzip) {
  ctx.response.headers.push_back({"Content-Type", "text/html"});
  ctx.response.headers.push_back({"Content-Length", "5000"});
  ctx.response.headers.push_back({"Accept-Ranges", "bytes"});
  ctx.response.headers.push_back({"ETag", "\"abc\""});
  rewrite_head_for_gzip(ctx);
  EXPECT_EQ(values("content-encoding"), std::vector<std::string>{"gzip"});
  EXPECT_TRUE(values("content-length").empty());
  EXPECT_TRUE(values("accept-ranges").empty());
  EXPECT_EQ(values("etag"), std::vector<std::string>{"W/\"abc\""});
  EXPECT_EQ(values("vary"), std::vector<std::string>{"Accept-Encoding"});
  EXPECT_EQ(values("content-type"), std::vector<std::string>{"text/html"});
}

TEST_F(Edits, WeakETagStaysAsIs) {
  ctx.response.headers.push_back({"ETag", "W/\"abc\""});
  rewrite_head_for_gzip(ctx);
  EXPECT_EQ(values("etag"), std::vector<std::string>{"W/\"abc\""});
}

TEST_F(Edits, VaryMerged) {
  ctx.response.headers.push_back({"Vary", "Origin"});
  add_vary_accept_encoding(ctx);
  EXPECT_EQ(values("vary"), std::vector<std::string>{"Origin, Accept-Encoding"});
}

TEST_F(Edits, VaryAlreadyListsIt) {
  ctx.response.headers.push_back({"Vary", "origin, accept-encoding"});
  add_vary_accept_encoding(ctx);
  EXPECT_EQ(values("vary"), std::vector<std::string>{"origin, accept-encoding"});
}

TEST_F(Edits, VaryOnASecondLine) {
  ctx.response.headers.push_back({"Vary", "Origin"});
  ctx.response.headers.push_back({"Vary", "Accept-Encoding"});
  add_vary_accept_encoding(ctx);
  EXPECT_EQ(values("vary"), (std::vector<std::string>{"Origin", "Accept-Encoding"}));
}

TEST_F(Edits, VaryStar) {
  ctx.response.headers.push_back({"Vary", "*"});
  add_vary_accept_encoding(ctx);
  EXPECT_EQ(values("vary"), std::vector<std::string>{"*"});
}

TEST_F(Edits, NotModifiedForOurGzipVariantGetsItsValidator) {
  http::RequestHead req;
  req.headers.push_back({"Accept-Encoding", "gzip"});
  req.headers.push_back({"If-None-Match", "\"other\", W/\"abc\""});
  ctx.request = &req;
  ctx.response.status = 304;
  ctx.response.headers.push_back({"ETag", "\"abc\""});
  rewrite_304_for_gzip_variant(ctx);
  EXPECT_EQ(values("etag"), std::vector<std::string>{"W/\"abc\""});
  EXPECT_EQ(values("vary"), std::vector<std::string>{"Accept-Encoding"});
}

TEST_F(Edits, NotModifiedIsLeftAloneUnlessItIsOurGzipVariants) {
  http::RequestHead req;
  ctx.request = &req;
  ctx.response.headers.push_back({"ETag", "\"abc\""});
  auto etag_after = [&](int status, http::HeaderList request_headers) {
    req.headers = std::move(request_headers);
    ctx.response.status = status;
    ctx.response.headers.resize(1);
    ctx.response.headers[0].value = "\"abc\"";
    rewrite_304_for_gzip_variant(ctx);
    return values("etag")[0];
  };
  // The identity copy's validator.
  EXPECT_EQ(etag_after(304, {{"Accept-Encoding", "gzip"}, {"If-None-Match", "\"abc\""}}), "\"abc\"");
  // Both copies listed: the origin's strong tag picks the origin's copy.
  EXPECT_EQ(etag_after(304, {{"Accept-Encoding", "gzip"}, {"If-None-Match", "\"abc\", W/\"abc\""}}),
            "\"abc\"");
  // A client that does not take gzip never gets the gzip copy's validator.
  EXPECT_EQ(etag_after(304, {{"If-None-Match", "W/\"abc\""}}), "\"abc\"");
  EXPECT_EQ(etag_after(304, {{"Accept-Encoding", "identity"}, {"If-None-Match", "W/\"abc\""}}),
            "\"abc\"");
  // Only a 304 is touched.
  EXPECT_EQ(etag_after(200, {{"Accept-Encoding", "gzip"}, {"If-None-Match", "W/\"abc\""}}), "\"abc\"");
  EXPECT_TRUE(values("vary").empty());
}

TEST_F(Edits, VaryEmpty) {
  ctx.response.headers.push_back({"Vary", ""});
  add_vary_accept_encoding(ctx);
  EXPECT_EQ(values("vary"), std::vector<std::string>{"Accept-Encoding"});
}

}  // namespace
}  // namespace ringway::filters::compress
