#pragma once
// Helpers for the compress filter's tests: gunzip with zlib (independent of
// the code under test's output path) and deterministic test bodies.

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringway::filters::compress::testing {

// The decompressed bytes of exactly one gzip member filling `gz`; nullopt
// when it is not one (corrupt, truncated, or trailing bytes).
inline std::optional<std::string> gunzip(std::string_view gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  bool whole = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

struct TestRng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

// Compressible text: markup-ish lines with varying numbers.
inline std::string text_body(size_t n, uint64_t seed = 1) {
  TestRng rng{seed};
  static const char* kWords[] = {"<div class=\"item\">", "</div>\n", "lorem", "ipsum", "dolor",
                                 "sit", "amet", "<a href=\"/p/", "\">", "</a>", "price", "{\"id\":"};
  std::string s;
  while (s.size() < n) {
    s += kWords[rng.below(12)];
    s += ' ';
    if (rng.below(5) == 0) s += std::to_string(rng.below(100000));
  }
  s.resize(n);
  return s;
}

// Incompressible bytes: the worst case for output size.
inline std::string random_body(size_t n, uint64_t seed = 2) {
  TestRng rng{seed};
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.next());
  return s;
}

}  // namespace ringway::filters::compress::testing
