#include "tools/origin/pattern_body.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringway::origin {
namespace {

constexpr size_t kPatternSize = 64 * 1024;

const char* pattern() {
  // One shared read-only block; every /bytes and /chunked body points into it.
  static const std::array<char, kPatternSize> block = [] {
    std::array<char, kPatternSize> b;
    b.fill('x');
    return b;
  }();
  return block.data();
}

// Deterministic HTML-ish prose (a fixed word list picked by a fixed LCG):
// compressible like real pages (about 3-4x with gzip -6), unlike 'x' runs.
const char* text_pattern() {
  static const std::array<char, kPatternSize> block = [] {
    static const char* const kWords[] = {
        "the", "gateway", "request", "<p>", "</p>", "response", "cache", "of", "and", "latency",
        "edge", "<div class=\"item\">", "</div>", "upstream", "to", "a", "core", "ring", "buffer",
        "{\"id\":", "\"name\":", "}", "header", "route", "token", "is", "for", "with", "body",
        "connection", "worker", "<li>", "</li>", "compression", "in", "that", "client", "server"};
    constexpr size_t kCount = sizeof kWords / sizeof kWords[0];
    std::array<char, kPatternSize> b;
    uint32_t state = 12345;
    size_t i = 0;
    while (i < b.size()) {
      state = state * 1103515245u + 12345u;
      const char* w = kWords[(state >> 16) % kCount];
      for (; *w != 0 && i < b.size(); ++w) b[i++] = *w;
      if (i < b.size()) b[i++] = (state >> 8) % 13 == 0 ? '\n' : ' ';
    }
    return b;
  }();
  return block.data();
}

}  // namespace

PatternBody PatternBody::plain(uint64_t n, bool text) {
  PatternBody b;
  b.chunk_left_ = n;
  b.text_ = text;
  return b;
}

PatternBody PatternBody::chunked(uint64_t n, uint32_t chunk_size, bool text) {
  PatternBody b;
  b.text_ = text;
  b.data_left_ = n;
  b.chunk_size_ = chunk_size == 0 ? 1 : chunk_size;
  b.normalize();
  return b;
}

void PatternBody::normalize() {
  // Generates the next framing once the current frame and chunk are sent.
  while (chunk_size_ != 0 && !finished_ && frame_off_ == frame_len_ && chunk_left_ == 0) {
    int len = 0;
    if (started_) {
      frame_[len++] = '\r';
      frame_[len++] = '\n';
    }
    // A chunk is at most 2^32 - 1 bytes: 8 hex digits, so the frame
    // ("\r\n" + digits + "\r\n" [+ "\r\n"]) always fits in kFrameMax.
    const uint32_t c = static_cast<uint32_t>(std::min<uint64_t>(chunk_size_, data_left_));
    static constexpr char kDigits[] = "0123456789abcdef";
    int digits = 1;
    while (digits < 8 && (c >> (4 * digits)) != 0) ++digits;
    for (int i = digits - 1; i >= 0; --i) frame_[len++] = kDigits[(c >> (4 * i)) & 15];
    frame_[len++] = '\r';
    frame_[len++] = '\n';
    if (c == 0) {
      frame_[len++] = '\r';
      frame_[len++] = '\n';
      finished_ = true;
    }
    data_left_ -= c;
    chunk_left_ = c;
    started_ = true;
    frame_len_ = static_cast<uint8_t>(len);
    frame_off_ = 0;
  }
}

int PatternBody::fill(iovec* iov, int max_iov, char (*scratch)[kFrameMax],
                      size_t max_bytes) const {
  PatternBody s = *this;  // walk a copy: the real state moves only in consume()
  int n = 0;
  size_t bytes = 0;
  while (n < max_iov && bytes < max_bytes && !s.done()) {
    if (s.frame_off_ < s.frame_len_) {
      size_t len = s.frame_len_ - s.frame_off_;
      std::memcpy(scratch[n], s.frame_ + s.frame_off_, len);
      iov[n].iov_base = scratch[n];
      iov[n].iov_len = len;
      s.frame_off_ = s.frame_len_;
      bytes += len;
    } else {
      size_t at = s.offset_ % kPatternSize;
      size_t len = static_cast<size_t>(std::min<uint64_t>(s.chunk_left_, kPatternSize - at));
      iov[n].iov_base = const_cast<char*>((s.text_ ? text_pattern() : pattern()) + at);
      iov[n].iov_len = len;
      s.chunk_left_ -= len;
      s.offset_ += len;
      bytes += len;
    }
    ++n;
    s.normalize();
  }
  return n;
}

void PatternBody::consume(size_t n) {
  while (n > 0 && !done()) {
    if (frame_off_ < frame_len_) {
      size_t k = std::min<size_t>(n, frame_len_ - frame_off_);
      frame_off_ = static_cast<uint8_t>(frame_off_ + k);
      n -= k;
    } else {
      uint64_t k = std::min<uint64_t>(n, chunk_left_);
      chunk_left_ -= k;
      offset_ += k;
      n -= static_cast<size_t>(k);
    }
    normalize();
  }
}

void PatternBody::drain_into(ByteBuffer& out) {
  constexpr int kIov = 16;
  iovec iov[kIov];
  char scratch[kIov][kFrameMax];
  while (!done()) {
    int n = fill(iov, kIov, scratch, SIZE_MAX);
    size_t total = 0;
    for (int i = 0; i < n; ++i) {
      out.append(std::string_view(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len));
      total += iov[i].iov_len;
    }
    consume(total);
  }
}

}  // namespace ringway::origin
