// body_limit: a declared Content-Length above max_bytes is answered 413 in
// the request-head phase; a streamed (chunked) body is counted piece by
// piece and answered 413 as soon as it passes the limit; config errors.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "filters/body_limit/body_limit_filter.h"
#include "tests/unit/filters/compile_one.h"

namespace ringway::filters {
namespace {

using testing::kFile;

testing::Compiled compile(const std::string& body) {
  return testing::compile_one(compile_body_limit, "body_limit", "small", body);
}

std::shared_ptr<const filter::Filter> must(const std::string& body) {
  return testing::must_compile(compile_body_limit, "body_limit", "small", body);
}

// One request through a one-filter chain.
struct Exchange {
  http::RequestHead head;
  filter::Context ctx;
  filter::WorkerState* ws = nullptr;

  explicit Exchange(std::string_view content_length = {}) {
    head.method = "POST";
    head.path = "/upload";
    if (!content_length.empty()) head.headers.push_back({"Content-Length", content_length});
    ctx.request = &head;
    ctx.begin(1, &ws, nullptr, nullptr, 0);
    ctx.enter(0);
  }
};

void expect_413(Exchange& x) {
  EXPECT_EQ(x.ctx.local().status, 413);
  EXPECT_EQ(x.ctx.local().body, "request body too large for this route\n");
  ASSERT_EQ(x.ctx.local().headers.size(), 1u);
  EXPECT_EQ(x.ctx.local().headers[0].name, "Content-Type");
  EXPECT_EQ(x.ctx.local().headers[0].value, "text/plain");
}

TEST(BodyLimitFilter, RequestHeadAndBodyPhases) {
  EXPECT_EQ(must("    max_bytes: 1KiB\n")->phases(), filter::kRequestHead | filter::kRequestBody);
}

TEST(BodyLimitFilter, ContentLengthAtTheLimitPasses) {
  auto f = must("    max_bytes: 1KiB\n");  // sizes are 1024-based
  Exchange x("1024");
  EXPECT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(x.ctx.local().status, 0);
  Exchange zero("0");
  EXPECT_EQ(f->on_request_head(zero.ctx), filter::Outcome::kProceed);
}

TEST(BodyLimitFilter, ContentLengthOverTheLimitIs413) {
  auto f = must("    max_bytes: 1KiB\n");
  Exchange x("1025");
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kRespond);
  expect_413(x);
  // Any spelling of the name; a length too big for 64 bits is over any limit.
  Exchange lower;
  lower.head.headers.push_back({"content-length", "5000"});
  ASSERT_EQ(f->on_request_head(lower.ctx), filter::Outcome::kRespond);
  Exchange huge("99999999999999999999999");
  ASSERT_EQ(f->on_request_head(huge.ctx), filter::Outcome::kRespond);
  expect_413(huge);
}

TEST(BodyLimitFilter, NoContentLengthWaitsForTheBody) {
  auto f = must("    max_bytes: 10\n");
  Exchange x;
  x.head.headers.push_back({"Transfer-Encoding", "chunked"});
  EXPECT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
}

TEST(BodyLimitFilter, ChunkedBodyIsCountedAcrossPieces) {
  auto f = must("    max_bytes: 1KiB\n");
  Exchange x;
  x.head.headers.push_back({"Transfer-Encoding", "chunked"});
  ASSERT_EQ(f->on_request_head(x.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_body(x.ctx, std::string(600, 'a'), false), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_body(x.ctx, std::string(424, 'b'), false), filter::Outcome::kProceed);  // 1024
  EXPECT_EQ(x.ctx.local().status, 0);
  // One more byte passes the limit, though no single piece is large.
  ASSERT_EQ(f->on_request_body(x.ctx, "c", false), filter::Outcome::kRespond);
  expect_413(x);
}

TEST(BodyLimitFilter, BodyExactlyAtTheLimitPasses) {
  auto f = must("    max_bytes: 16\n");
  Exchange x;
  EXPECT_EQ(f->on_request_body(x.ctx, std::string(10, 'a'), false), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_body(x.ctx, std::string(6, 'a'), false), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_body(x.ctx, "", true), filter::Outcome::kProceed);  // the empty last piece
}

TEST(BodyLimitFilter, ALastPieceOverTheLimitIsRefused) {
  auto f = must("    max_bytes: 16\n");
  Exchange x;
  ASSERT_EQ(f->on_request_body(x.ctx, std::string(17, 'a'), true), filter::Outcome::kRespond);
  expect_413(x);
}

TEST(BodyLimitFilter, CountsArePerRequest) {
  auto f = must("    max_bytes: 16\n");
  for (int i = 0; i < 3; ++i) {
    Exchange x;
    EXPECT_EQ(f->on_request_body(x.ctx, std::string(16, 'a'), true), filter::Outcome::kProceed) << i;
  }
}

TEST(BodyLimitFilter, ZeroAllowsOnlyEmptyBodies) {
  auto f = must("    max_bytes: 0\n");
  Exchange empty("0");
  EXPECT_EQ(f->on_request_head(empty.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_body(empty.ctx, "", true), filter::Outcome::kProceed);
  Exchange one("1");
  EXPECT_EQ(f->on_request_head(one.ctx), filter::Outcome::kRespond);
  Exchange chunked;
  EXPECT_EQ(f->on_request_body(chunked.ctx, "x", false), filter::Outcome::kRespond);
}

TEST(BodyLimitFilter, SizeUnits) {
  auto f = must("    max_bytes: 1MiB\n");
  Exchange at("1048576"), over("1048577");
  EXPECT_EQ(f->on_request_head(at.ctx), filter::Outcome::kProceed);
  EXPECT_EQ(f->on_request_head(over.ctx), filter::Outcome::kRespond);
}

// ---- config errors ---------------------------------------------------------

TEST(BodyLimitConfig, Errors) {
  EXPECT_EQ(compile("").error, kFile + ":3:5: missing required key \"max_bytes\" in filter \"small\"");
  EXPECT_EQ(compile("    max_bytes: 1MB\n").error,
            kFile + ":4:16: filters.small.max_bytes: ambiguous size unit in \"1MB\"; sizes are "
                    "1024-based, write KiB, MiB or GiB");
  EXPECT_EQ(compile("    max_bytes: lots\n").error,
            kFile + ":4:16: filters.small.max_bytes: expected a size such as 4096 or 16KiB (units B, "
                    "KiB, MiB, GiB), got \"lots\"");
  EXPECT_EQ(compile("    max_bytes: -1\n").error.rfind(kFile + ":4:16: filters.small.max_bytes: ", 0), 0u);
  // The ceiling is 2^50 bytes.
  EXPECT_TRUE(compile("    max_bytes: 1125899906842624\n").filter);
  EXPECT_EQ(compile("    max_bytes: 1125899906842625\n").error,
            kFile + ":4:16: filters.small.max_bytes: must be between 0B and 1048576GiB, got 1125899906842625");
  EXPECT_EQ(compile("    max_bytes: 1KiB\n    max_byte: 2KiB\n").error,
            kFile + ":5:5: unknown key \"max_byte\" in filter \"small\" (did you mean \"max_bytes\"?)");
}

}  // namespace
}  // namespace ringway::filters
