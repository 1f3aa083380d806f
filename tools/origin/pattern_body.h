#pragma once
// Generated response bodies for /bytes and /chunked.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "tools/origin/buffer.h"

namespace ringway::origin {

// Body made of a static pattern ('x' bytes, or for /text a block of
// HTML-like prose that compresses like real pages do), framed plainly (the length is in
// Content-Length) or as chunked. It is sent straight from the static pattern
// with writev, so a 1 GB body costs no memory. Chunk framing is generated on
// the fly; fill() describes the next bytes without changing the state and
// consume() advances by what the kernel accepted.
class PatternBody {
 public:
  static constexpr int kFrameMax = 24;

  static PatternBody plain(uint64_t n, bool text = false);
  static PatternBody chunked(uint64_t n, uint32_t chunk_size, bool text = false);

  bool done() const {
    return frame_off_ == frame_len_ && chunk_left_ == 0 && (chunk_size_ == 0 || finished_);
  }
  // Payload bytes still to send (framing excluded).
  uint64_t payload_left() const { return data_left_ + chunk_left_; }

  // Fills up to max_iov entries covering at most about max_bytes. Framing
  // bytes are copied into scratch[i] (one slot per iovec), which must outlive
  // the write.
  int fill(iovec* iov, int max_iov, char (*scratch)[kFrameMax], size_t max_bytes) const;
  void consume(size_t n);
  // Copies the whole remaining body into `out` (for small bodies, so that
  // pipelined responses can share one write).
  void drain_into(ByteBuffer& out);

 private:
  void normalize();

  uint64_t data_left_ = 0;   // payload not yet assigned to a chunk
  uint64_t chunk_left_ = 0;  // payload of the current chunk not yet sent
  uint32_t chunk_size_ = 0;  // 0: plain body
  uint8_t frame_len_ = 0;
  uint8_t frame_off_ = 0;
  bool started_ = false;
  bool finished_ = false;  // the last chunk's framing has been generated
  bool text_ = false;
  uint64_t offset_ = 0;  // payload bytes consumed: the same N always gives the same bytes
  char frame_[kFrameMax] = {};
};

}  // namespace ringway::origin
