#pragma once
// Streaming gzip with zlib: one z_stream per response, taken from a small
// per-worker pool and given back when the body ends or the exchange is
// aborted, so an idle worker holds at most kMaxIdleStreams of them.

#include <zlib.h>

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "filters/compress/out_buffer.h"

namespace ringway::filters::compress {

// A 32 KiB window (gzip's largest; HTML repeats itself over tens of KiB) and
// memLevel 8, zlib's default. Measured at level 6 on HTML/JSON in 16 KiB
// pieces (BM_MemLevel): 8 is the fastest; 7 saves 64 KiB per stream for 6%
// more CPU, 5 saves 112 KiB for 17% more, 9 costs 128 KiB more and is slower;
// the ratio moves by under 1% across all of them.
constexpr int kWindowBits = 15;
constexpr int kMemLevel = 8;
// zlib's own formula for deflate's state (zconf.h): window, hash chains,
// hash heads and the pending/symbol buffer. 256 KiB at 15/8.
constexpr size_t kStreamStateBytes = (size_t{1} << (kWindowBits + 2)) + (size_t{1} << (kMemLevel + 9));
// The most compressed output zlib can hold back from earlier calls and
// release in a later one (its pending buffer, 4 * lit_bufsize): 64 KiB at 8.
constexpr size_t kPendingBytes = size_t{1} << (kMemLevel + 8);
// Streams a worker keeps for reuse (1 MiB idle at most). Reuse measured up
// to 8% less CPU than deflateInit2/deflateEnd per body for streamed bodies
// of 4-16 KiB (BM_SmallStream), nothing measurable at 1 KiB or 64 KiB; more
// idle streams would only cost memory.
constexpr size_t kMaxIdleStreams = 4;

// Per-worker free list of initialised z_streams at one level.
class DeflatePool {
 public:
  explicit DeflatePool(int level, size_t max_idle = kMaxIdleStreams) : level_(level), max_idle_(max_idle) {}
  ~DeflatePool();
  DeflatePool(const DeflatePool&) = delete;
  DeflatePool& operator=(const DeflatePool&) = delete;

  // A stream ready for a new gzip member; nullptr when zlib cannot allocate.
  z_stream* acquire();
  // Takes a stream back: reset and kept if there is room, else freed.
  void release(z_stream* z);

  size_t idle() const { return idle_.size(); }
  int level() const { return level_; }

  // Frees a stream that never returns to a pool.
  static void destroy(z_stream* z);

 private:
  int level_;
  size_t max_idle_;
  std::vector<z_stream*> idle_;
};

// One response body being gzipped piece by piece.
class GzipStream {
 public:
  GzipStream() = default;
  ~GzipStream();  // frees a stream still held (never returned: no pool in reach)
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Takes a stream from `pool`; false when none could be made.
  bool begin(DeflatePool& pool);
  bool active() const { return z_ != nullptr; }

  // Compresses `piece`. Pieces are not flushed one by one (every flush costs
  // ratio and a few bytes), so the result is often empty; with `last` the
  // gzip member is finished and everything comes out. The view points into
  // this object's buffer and is valid until the next call. nullopt on a zlib
  // error (a corrupted stream; cannot happen with a well-formed state).
  std::optional<std::string_view> write(std::string_view piece, bool last);

  // Gives the stream back to `pool` (after `last`, or when aborted).
  void end(DeflatePool& pool);

  // Output buffer, kept for reuse across calls; freed here or at destruction.
  OutBuffer& buffer() { return out_; }

 private:
  z_stream* z_ = nullptr;
  OutBuffer out_;
};

}  // namespace ringway::filters::compress
