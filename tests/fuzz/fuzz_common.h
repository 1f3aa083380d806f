#pragma once
// Helpers shared by the ringway fuzz targets.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "engine/http/head_reader.h"

namespace ringway::fuzz {

// Aborts (a crash to libFuzzer) with the failed condition.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, \
                   __LINE__);                                                       \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// An exact-size heap copy, so ASan reports a read one byte past it.
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  Buffer(const uint8_t* p, size_t n) : data(new char[n == 0 ? 1 : n]), size(n) {
    if (n != 0) std::memcpy(data.get(), p, n);
  }
  const char* begin() const { return data.get(); }
  bool holds(std::string_view v) const {
    return v.data() >= begin() && v.data() + v.size() <= begin() + size;
  }
};

// Feeds a head split into two buffers, checking the reader's contract on the
// way. On kComplete, *head_len is the head's length and rest[] the bytes after
// it, in order.
inline http::HeadStatus feed_in_two(http::HeadReader& r, const Buffer& a, const Buffer& b,
                                    size_t* head_len, std::string_view rest[2]) {
  size_t used = 0;
  http::HeadStatus st = r.feed(a.begin(), a.size, &used);
  if (st == http::HeadStatus::kIncomplete) {
    FUZZ_CHECK(used == a.size);
    FUZZ_CHECK(a.size == 0 || r.spilled());
    used = 0;
    st = r.feed(b.begin(), b.size, &used);
    if (st == http::HeadStatus::kIncomplete) FUZZ_CHECK(used == b.size);
    if (st == http::HeadStatus::kComplete) {
      FUZZ_CHECK(used <= b.size);
      *head_len = a.size + used;
      rest[0] = std::string_view(b.begin() + used, b.size - used);
    }
  } else if (st == http::HeadStatus::kComplete) {
    FUZZ_CHECK(used <= a.size);
    FUZZ_CHECK(!r.spilled());
    *head_len = used;
    rest[0] = std::string_view(a.begin() + used, a.size - used);
    rest[1] = std::string_view(b.begin(), b.size);
  }
  return st;
}

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 5.6.2 tchar.
inline bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Invariants of every header a completed head exposes. Regressions covered:
// an empty name (": v", which llhttp accepts even in strict mode) and
// whitespace before the colon ("Transfer-Encoding : chunked", accepted by
// loose llhttp): head_reader_test.cc HeadReaderStrict.*.
inline void check_header(const http::Header& h) {
  FUZZ_CHECK(!h.name.empty());
  for (char c : h.name) FUZZ_CHECK(is_tchar(static_cast<unsigned char>(c)));
  if (!h.value.empty()) {
    FUZZ_CHECK(!is_ows(h.value.front()));
    FUZZ_CHECK(!is_ows(h.value.back()));
  }
  for (char c : h.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
}

// `end` is one past the last byte of a head within `bytes`: the head ends in
// an empty line, "\r\n" or a bare "\n" (RFC 9112 2.2 lets a recipient accept
// a bare LF) after the LF of the line before (regression: loose llhttp took a
// CR + any byte as the final LF, head_reader_test.cc HeadEndRequiresCrlf).
inline void check_head_end(std::string_view bytes, size_t end) {
  FUZZ_CHECK(end >= 2 && end <= bytes.size());
  FUZZ_CHECK(bytes[end - 1] == '\n');
  const size_t blank = bytes[end - 2] == '\r' ? end - 2 : end - 1;  // the empty line
  FUZZ_CHECK(blank >= 1 && bytes[blank - 1] == '\n');
}

// A serialised head: exactly one CRLFCRLF, at the end, and no bare CR or LF.
inline void check_serialised_head(const std::string& out) {
  FUZZ_CHECK(out.size() >= 4);
  FUZZ_CHECK(out.find("\r\n\r\n") == out.size() - 4);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') FUZZ_CHECK(i + 1 < out.size() && out[i + 1] == '\n');
    if (out[i] == '\n') FUZZ_CHECK(i > 0 && out[i - 1] == '\r');
  }
}

// Feeds the pieces of a chunked body, each from its own buffer, and checks
// feed_chunked()'s contract. Regressions covered: trailers in a buffer other
// than the head's, or split across pieces, were read out of bounds
// (head_reader_test.cc TrailersInABufferBelowTheHead, TrailerSplitAcrossFeeds);
// loose llhttp ended a chunk on any two bytes (ChunkFramingRequiresCrlf).
// Returns false on a framing error.
inline bool feed_chunked_pieces(http::HeadReader& r, const std::string_view* pieces,
                                size_t count, uint64_t* body_bytes) {
  for (size_t i = 0; i < count; ++i) {
    std::string_view p = pieces[i];
    if (p.empty()) continue;  // (the proxy never feeds an empty buffer)
    const uint64_t payload_before = r.chunked_payload_bytes();
    long n = r.feed_chunked(p.data(), p.size());
    if (n < 0) {
      FUZZ_CHECK(n == -1);
      FUZZ_CHECK(!r.message_complete());
      return false;
    }
    FUZZ_CHECK(static_cast<size_t>(n) <= p.size());
    *body_bytes += static_cast<uint64_t>(n);
    FUZZ_CHECK(r.chunked_payload_bytes() >= payload_before);
    FUZZ_CHECK(r.chunked_payload_bytes() <= *body_bytes);
    if (r.message_complete()) {
      // The last byte of a chunked message is the LF of its final CRLF (the
      // CR may sit in the previous piece).
      FUZZ_CHECK(n > 0 && p[static_cast<size_t>(n) - 1] == '\n');
      return true;
    }
    FUZZ_CHECK(static_cast<size_t>(n) == p.size());
  }
  return true;
}

}  // namespace ringway::fuzz
