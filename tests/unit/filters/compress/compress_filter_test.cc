// The compress filter as the engine drives it: built from YAML, response head
// decision and edits, body pieces on each of its three paths, HEAD, and the
// release of per-request memory on normal ends and on aborts.

#include "filters/compress/compress_filter.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "filters/compress/gzip_stream.h"
#include "tests/unit/filters/compress/gzip_test_util.h"

namespace ringway::filters {
namespace {

using compress::testing::gunzip;
using compress::testing::random_body;
using compress::testing::text_body;
using compress::testing::TestRng;

struct Built {
  config::Config config;
  config::FilterSpec spec;
  std::shared_ptr<const filter::Filter> filter;
};

// Throws ConfigError on a bad config, as compile_compress does.
Built build(const std::string& yaml) {
  Built b;
  YAML::Node node = YAML::Load(yaml);
  b.spec = config::FilterSpec{"gz", "compress", std::make_shared<const YAML::Node>(node), "filters.gz"};
  config::detail::Field field{YAML::Node(), node, b.spec.path};
  b.filter = compile_compress(FilterBuild{b.spec, field, b.config});
  return b;
}

std::string error_of(const std::string& yaml) {
  try {
    build(yaml);
  } catch (const config::detail::ConfigError& e) {
    return config::detail::format_error("ringway.yaml", e.mark, e.message);
  }
  return "";
}

TEST(CompressConfig, Defaults) {
  Built b = build("{ type: compress }");
  EXPECT_EQ(b.filter->phases(),
            filter::kResponseHead | filter::kResponseBody | filter::kLog);
}

TEST(CompressConfig, AllKeys) {
  EXPECT_EQ(error_of("{ type: compress, level: 1, min_length: 1KiB, types: [text/*, application/json] }"), "");
  EXPECT_EQ(error_of("{ type: compress, level: 9, min_length: 0, types: text/html }"), "");
}

TEST(CompressConfig, Errors) {
  EXPECT_NE(error_of("{ type: compress, level: 0 }").find("filters.gz.level: must be between 1 and 9"),
            std::string::npos)
      << error_of("{ type: compress, level: 0 }");
  EXPECT_NE(error_of("{ type: compress, level: 10 }").find("level"), std::string::npos);
  EXPECT_NE(error_of("{ type: compress, level: fast }").find("level"), std::string::npos);
  EXPECT_NE(error_of("{ type: compress, min_length: 16KB }").find("ambiguous"), std::string::npos);
  EXPECT_NE(error_of("{ type: compress, min_length: -1 }").find("min_length"), std::string::npos);
  EXPECT_NE(error_of("{ type: compress, types: [] }").find("must not be empty"), std::string::npos);
  EXPECT_NE(error_of("{ type: compress, types: [html] }").find("invalid content type \"html\""),
            std::string::npos);
  EXPECT_NE(error_of("{ type: compress, types: [\"text/html; charset=utf-8\"] }").find("invalid content type"),
            std::string::npos);
  EXPECT_NE(error_of("{ type: compress, levle: 5 }").find("levle"), std::string::npos);
  // Errors carry a position: "ringway.yaml:LINE:COL: ...".
  EXPECT_EQ(error_of("type: compress\nlevel: 12\n").rfind("ringway.yaml:2:", 0), 0u)
      << error_of("type: compress\nlevel: 12\n");
}

// One exchange through the filter, as the engine runs it.
struct Exchange : ::testing::Test {
  Built built;
  std::unique_ptr<filter::WorkerState> worker;
  filter::WorkerState* worker_ptr = nullptr;
  http::RequestHead request;
  filter::Context ctx;

  void SetUp() override { make("{ type: compress }"); }
  void TearDown() override { ctx.reset(); }

  void make(const std::string& yaml) {
    ctx.reset();
    built = build(yaml);
    worker = built.filter->make_worker_state(0);
    worker_ptr = worker.get();
    request = http::RequestHead();
    request.method = "GET";
    request.headers.push_back({"Accept-Encoding", "gzip, deflate, br"});
    start();
  }

  // A fresh request on the same worker: a 200 text/html response with
  // Content-Length `length` (-1: unknown).
  void start(int64_t length = 5000) {
    ctx.reset();
    ctx.request = &request;
    ctx.begin(1, &worker_ptr, nullptr, nullptr, 0);
    ctx.enter(0);
    ctx.response.status = 200;
    ctx.response.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
    ctx.response.headers.push_back({"ETag", "\"v1\""});
    ctx.response.content_length = length;
    if (length >= 0) ctx.response.headers.push_back({"Content-Length", ctx.keep(std::to_string(length))});
  }

  filter::Outcome head() { return built.filter->on_response_head(ctx); }

  std::string header(std::string_view name) {
    for (const auto& h : ctx.response.headers)
      if (http::iequals(h.name, name)) return std::string(h.value);
    return "<none>";
  }

  bool watching() const { return ctx.body_watchers() & 1u; }

  // Feeds `body` in pieces of the sizes `next_size` gives, then the log phase.
  template <typename NextSize>
  std::string body(std::string_view body, NextSize next_size) {
    std::string out;
    size_t off = 0;
    do {
      size_t n = std::min(next_size(), body.size() - off);
      bool last = off + n == body.size();
      out.append(built.filter->on_response_body(ctx, body.substr(off, n), last));
      off += n;
      if (last) break;
    } while (true);
    built.filter->on_log(ctx);
    return out;
  }
};

TEST_F(Exchange, CompressesAndEditsTheHead) {
  EXPECT_EQ(head(), filter::Outcome::kProceed);
  EXPECT_TRUE(ctx.response.body_rewritten);
  EXPECT_TRUE(watching());
  EXPECT_EQ(header("Content-Encoding"), "gzip");
  EXPECT_EQ(header("Content-Length"), "<none>");
  EXPECT_EQ(header("ETag"), "W/\"v1\"");
  EXPECT_EQ(header("Vary"), "Accept-Encoding");
  std::string plain = text_body(5000);
  EXPECT_EQ(gunzip(body(plain, [] { return size_t{5000}; })), plain);
}

// Each body path, with several piece shapes: one piece (libdeflate on it),
// a known length up to 128 KiB (gathered), and beyond that or unknown (zlib).
TEST_F(Exchange, RoundTripOnEveryPath) {
  make("{ type: compress, min_length: 0 }");
  TestRng rng{5};
  for (size_t size : {size_t{0}, size_t{1}, size_t{300}, size_t{20000}, size_t{131072}, size_t{131073},
                      size_t{700000}}) {
    for (bool known : {true, false}) {
      for (int shape = 0; shape < 4; ++shape) {
        std::string plain = shape == 3 ? random_body(size, size) : text_body(size, size + shape);
        start(known ? static_cast<int64_t>(size) : -1);
        ASSERT_EQ(head(), filter::Outcome::kProceed);
        if (known && size == 0) {  // an empty body stays empty: nothing to code
          EXPECT_EQ(header("Content-Encoding"), "<none>");
          continue;
        }
        ASSERT_EQ(header("Content-Encoding"), "gzip") << size;
        std::string gz;
        if (shape == 0) gz = body(plain, [&] { return std::max<size_t>(size, 1); });
        if (shape == 1) gz = body(plain, [] { return size_t{16384}; });
        if (shape == 2 || shape == 3) gz = body(plain, [&] { return 1 + rng.below(30000); });
        auto back = gunzip(gz);
        ASSERT_TRUE(back.has_value()) << size << " known " << known << " shape " << shape;
        EXPECT_TRUE(*back == plain) << size << " known " << known << " shape " << shape;
      }
    }
  }
}

TEST_F(Exchange, OneBytePieces) {
  std::string plain = text_body(3000);
  for (int64_t length : {int64_t{3000}, int64_t{-1}}) {
    start(length);
    head();
    EXPECT_EQ(gunzip(body(plain, [] { return size_t{1}; })), plain);
  }
}

TEST_F(Exchange, EmptyChunkedBody) {
  start(-1);
  head();
  EXPECT_EQ(gunzip(body("", [] { return size_t{0}; })), "");
}

// HEAD: the head a GET would get. The engine reports no body (length 0) and
// sends none; the Content-Length header decides against min_length.
TEST_F(Exchange, HeadRequestGetsTheHeadOfAGet) {
  request.method = "HEAD";
  start(-1);
  ctx.response.content_length = 0;
  ctx.response.headers.push_back({"Content-Length", "5000"});
  head();
  EXPECT_EQ(header("Content-Encoding"), "gzip");
  EXPECT_EQ(header("Content-Length"), "<none>");
  EXPECT_EQ(header("Vary"), "Accept-Encoding");
  EXPECT_EQ(header("ETag"), "W/\"v1\"");
  EXPECT_TRUE(ctx.response.body_rewritten);
  // An engine that ends the (empty) body gets a valid member, which it drops.
  EXPECT_EQ(gunzip(body("", [] { return size_t{0}; })), "");

  start(-1);
  ctx.response.content_length = 0;
  ctx.response.headers.push_back({"Content-Length", "100"});  // below min_length
  head();
  EXPECT_EQ(header("Content-Encoding"), "<none>");
  EXPECT_EQ(header("Content-Length"), "100");
  built.filter->on_log(ctx);
}

// A filter-made response answering HEAD: the engine passes the whole body
// through to learn the length it states; the filter compresses it as for GET.
TEST_F(Exchange, HeadOfALocalResponse) {
  request.method = "HEAD";
  start(4000);
  head();
  ASSERT_TRUE(watching());
  std::string plain = text_body(4000);
  EXPECT_EQ(gunzip(body(plain, [] { return size_t{4000}; })), plain);
}

TEST_F(Exchange, NoAcceptEncodingGetsVaryOnly) {
  request.headers.clear();
  head();
  EXPECT_EQ(header("Content-Encoding"), "<none>");
  EXPECT_EQ(header("Content-Length"), "5000");
  EXPECT_EQ(header("ETag"), "\"v1\"");
  EXPECT_EQ(header("Vary"), "Accept-Encoding");
  EXPECT_FALSE(ctx.response.body_rewritten);
  EXPECT_FALSE(watching());
  built.filter->on_log(ctx);
}

TEST_F(Exchange, NoTransformUntouched) {
  ctx.response.headers.push_back({"Cache-Control", "public, no-transform"});
  head();
  EXPECT_EQ(header("Content-Encoding"), "<none>");
  EXPECT_EQ(header("Vary"), "<none>");
  EXPECT_FALSE(ctx.response.body_rewritten);
  EXPECT_FALSE(watching());
}

TEST_F(Exchange, AlreadyEncodedUntouched) {
  ctx.response.headers.push_back({"Content-Encoding", "br"});
  head();
  EXPECT_EQ(header("Content-Encoding"), "br");
  EXPECT_EQ(header("Content-Length"), "5000");
  EXPECT_FALSE(ctx.response.body_rewritten);
  EXPECT_FALSE(watching());
}

TEST_F(Exchange, SmallKnownLengthUntouched) {
  start(100);
  head();
  EXPECT_EQ(header("Content-Encoding"), "<none>");
  EXPECT_EQ(header("Vary"), "<none>");
  EXPECT_FALSE(ctx.response.body_rewritten);
}

TEST_F(Exchange, ConfiguredTypesAndMinLength) {
  make("{ type: compress, level: 1, min_length: 10, types: [application/octet-stream] }");
  start(100);
  ctx.response.headers[0].value = "application/octet-stream";
  head();
  EXPECT_EQ(header("Content-Encoding"), "gzip");
  std::string plain(100, 'x');
  EXPECT_EQ(gunzip(body(plain, [] { return size_t{30}; })), plain);
  start(100);  // text/html is no longer listed
  head();
  EXPECT_EQ(header("Content-Encoding"), "<none>");
}

// Aborted mid-body: the log phase gives the stream back to the worker, and
// resetting the context frees the rest (LeakSanitizer checks in ASan builds).
TEST_F(Exchange, AbortedStreamIsReleased) {
  start(-1);
  head();
  ASSERT_TRUE(watching());
  built.filter->on_response_body(ctx, text_body(50000), false);
  ctx.aborted = true;
  built.filter->on_log(ctx);
  ctx.reset();
  // The worker's stream works for the next response.
  start(-1);
  head();
  std::string plain = text_body(40000, 3);
  EXPECT_EQ(gunzip(body(plain, [] { return size_t{8192}; })), plain);
}

TEST_F(Exchange, AbortedGatherIsReleased) {
  start(100000);
  head();
  built.filter->on_response_body(ctx, text_body(30000), false);
  ctx.aborted = true;
  built.filter->on_log(ctx);
  ctx.reset();
}

// No log phase at all (a context reset mid-body): the request state's
// destructor frees the zlib stream itself.
TEST_F(Exchange, ResetWithoutLogFrees) {
  start(-1);
  head();
  built.filter->on_response_body(ctx, text_body(50000), false);
  ctx.reset();
  worker.reset();  // and the worker's pool after it
  worker_ptr = nullptr;
}

// Pieces after the last one (an engine bug) produce nothing, not a second member.
TEST_F(Exchange, NothingAfterLast) {
  start(-1);
  head();
  std::string plain = text_body(1000);
  std::string gz = body(plain, [] { return size_t{1000}; });
  EXPECT_EQ(built.filter->on_response_body(ctx, "more", true), "");
  EXPECT_EQ(gunzip(gz), plain);
}

TEST_F(Exchange, ManyRequestsOnOneWorker) {
  TestRng rng{11};
  for (int i = 0; i < 50; ++i) {
    size_t size = 1000 + rng.below(200000);
    start(rng.below(2) ? static_cast<int64_t>(size) : -1);
    head();
    std::string plain = text_body(size, i);
    bool abort = rng.below(5) == 0;
    if (abort) {
      built.filter->on_response_body(ctx, std::string_view(plain).substr(0, size / 2), false);
      ctx.aborted = true;
      built.filter->on_log(ctx);
      continue;
    }
    EXPECT_EQ(gunzip(body(plain, [&] { return 1 + rng.below(20000); })), plain) << i;
  }
}

}  // namespace
}  // namespace ringway::filters
