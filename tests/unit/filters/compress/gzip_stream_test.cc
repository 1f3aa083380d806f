// The zlib streaming path on its own: round trips over many piece shapes,
// the output buffer's bound, and the pool's reuse and freeing.

#include "filters/compress/gzip_stream.h"

#include <gtest/gtest.h>

#include "filters/compress/whole_body.h"
#include "tests/unit/filters/compress/gzip_test_util.h"

namespace ringway::filters::compress {
namespace {

using testing::gunzip;
using testing::random_body;
using testing::text_body;
using testing::TestRng;

// Streams `body` in pieces of the sizes `next_size` gives; returns the gzip.
template <typename NextSize>
std::string stream(DeflatePool& pool, std::string_view body, NextSize next_size,
                   size_t* max_capacity = nullptr, size_t* max_piece = nullptr) {
  GzipStream gz;
  EXPECT_TRUE(gz.begin(pool));
  std::string out;
  size_t off = 0;
  do {
    size_t n = std::min(next_size(), body.size() - off);
    bool last = off + n == body.size();
    auto piece = gz.write(body.substr(off, n), last);
    EXPECT_TRUE(piece.has_value());
    if (!piece) break;
    out.append(*piece);
    if (max_capacity) *max_capacity = std::max(*max_capacity, gz.buffer().capacity());
    if (max_piece) *max_piece = std::max(*max_piece, n);
    off += n;
    if (last) break;
  } while (true);
  gz.end(pool);
  return out;
}

TEST(GzipStream, RandomPieceSizes) {
  DeflatePool pool(6);
  TestRng rng{99};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::string body = seed % 3 == 0 ? random_body(1 + rng.below(300000), seed)
                                     : text_body(1 + rng.below(300000), seed);
    std::string gz = stream(pool, body, [&] { return 1 + rng.below(40000); });
    auto back = gunzip(gz);
    ASSERT_TRUE(back.has_value()) << "seed " << seed;
    EXPECT_EQ(*back, body) << "seed " << seed;
  }
}

TEST(GzipStream, OneBytePieces) {
  DeflatePool pool(6);
  std::string body = text_body(20000);
  std::string gz = stream(pool, body, [] { return size_t{1}; });
  EXPECT_EQ(gunzip(gz), body);
  EXPECT_LT(gz.size(), body.size() / 2);  // no flush per piece: still compresses
}

TEST(GzipStream, EmptyBody) {
  DeflatePool pool(6);
  GzipStream gz;
  ASSERT_TRUE(gz.begin(pool));
  auto out = gz.write("", true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(gunzip(*out), "");
  gz.end(pool);
}

TEST(GzipStream, EmptyPiecesInTheMiddle) {
  DeflatePool pool(1);
  GzipStream gz;
  ASSERT_TRUE(gz.begin(pool));
  std::string out;
  for (std::string_view p : {"hello ", "", "world", ""}) out.append(*gz.write(p, false));
  out.append(*gz.write("", true));
  EXPECT_EQ(gunzip(out), "hello world");
  gz.end(pool);
}

TEST(GzipStream, EveryLevel) {
  std::string body = text_body(100000);
  for (int level = 1; level <= 9; ++level) {
    DeflatePool pool(level);
    std::string gz = stream(pool, body, [] { return size_t{16384}; });
    EXPECT_EQ(gunzip(gz), body) << level;
  }
}

// A large body through one stream: the output buffer stays within one
// piece's deflateBound plus what zlib can hold back, however long the body.
TEST(GzipStream, LargeBodyBoundedBuffer) {
  DeflatePool pool(6);
  constexpr size_t kPiece = 16384;
  z_stream probe{};
  ASSERT_EQ(deflateInit2(&probe, 6, Z_DEFLATED, kWindowBits + 16, kMemLevel, Z_DEFAULT_STRATEGY), Z_OK);
  const size_t limit = deflateBound(&probe, kPiece) + kPendingBytes;
  deflateEnd(&probe);
  for (bool incompressible : {false, true}) {
    std::string body = incompressible ? random_body(4 << 20) : text_body(12 << 20);
    size_t max_capacity = 0;
    std::string gz = stream(pool, body, [] { return kPiece; }, &max_capacity);
    EXPECT_LE(max_capacity, limit) << (incompressible ? "random" : "text");
    auto back = gunzip(gz);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == body);
  }
}

TEST(DeflatePool, ReusesAndCaps) {
  DeflatePool pool(6, 2);
  z_stream* a = pool.acquire();
  z_stream* b = pool.acquire();
  z_stream* c = pool.acquire();
  ASSERT_TRUE(a && b && c);
  pool.release(a);
  pool.release(b);
  pool.release(c);  // over the cap: freed
  EXPECT_EQ(pool.idle(), 2u);
  EXPECT_EQ(pool.acquire(), b);  // most recently returned first
  pool.release(b);
  pool.release(nullptr);
  EXPECT_EQ(pool.idle(), 2u);
}

// A stream given back halfway through a body starts the next one clean.
TEST(DeflatePool, ResetAfterAbort) {
  DeflatePool pool(6, 1);
  GzipStream first;
  ASSERT_TRUE(first.begin(pool));
  ASSERT_TRUE(first.write(text_body(50000), false).has_value());
  first.end(pool);  // aborted: no last piece
  ASSERT_EQ(pool.idle(), 1u);
  std::string body = text_body(30000, 7);
  std::string gz = stream(pool, body, [] { return size_t{4096}; });
  EXPECT_EQ(gunzip(gz), body);
}

// Freed without a pool (the request state destroyed mid-body, no log
// phase): the destructor frees the stream; LeakSanitizer checks in ASan builds.
TEST(GzipStream, DestroyedMidBody) {
  DeflatePool pool(6, 0);
  auto gz = std::make_unique<GzipStream>();
  ASSERT_TRUE(gz->begin(pool));
  ASSERT_TRUE(gz->write(text_body(100000), false).has_value());
  gz.reset();
  EXPECT_EQ(pool.idle(), 0u);
}

TEST(WholeBodyGzip, RoundTrip) {
  OutBuffer out;
  for (int level : {1, 6, 9}) {
    WholeBodyGzip whole(level);
    for (const std::string& body : {std::string(), std::string("x"), text_body(1000), text_body(300000),
                                    random_body(70000)}) {
      auto gz = whole.compress(body, out);
      ASSERT_TRUE(gz.has_value());
      EXPECT_EQ(gunzip(*gz), body) << level << " " << body.size();
    }
  }
}

}  // namespace
}  // namespace ringway::filters::compress
