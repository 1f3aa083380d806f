#include "filters/jwt/base64url.h"

#include <array>
#include <cstdint>

namespace ringway::filters::jwt {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
  return t;
}

constexpr std::array<uint8_t, 256> kTable = make_table();

}  // namespace

bool base64url_decode(std::string_view in, unsigned char* out, size_t* out_size) {
  const size_t n = in.size();
  if (n % 4 == 1) return false;  // 6 bits cannot make a byte
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t o = 0;
  size_t i = 0;
  // Whole quads: 4 characters -> 3 bytes. OR-ing the looked-up values catches
  // an invalid character (0xFF) in any position with one test per quad.
  for (; i + 4 <= n; i += 4) {
    const uint8_t a = kTable[p[i]], b = kTable[p[i + 1]], c = kTable[p[i + 2]], d = kTable[p[i + 3]];
    if ((a | b | c | d) & 0xC0) return false;
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    out[o++] = static_cast<unsigned char>(v >> 16);
    out[o++] = static_cast<unsigned char>(v >> 8);
    out[o++] = static_cast<unsigned char>(v);
  }
  const size_t rest = n - i;
  if (rest == 2) {
    const uint8_t a = kTable[p[i]], b = kTable[p[i + 1]];
    if ((a | b) & 0xC0) return false;
    if (b & 0x0F) return false;  // non-canonical: bits past the last byte set
    out[o++] = static_cast<unsigned char>((a << 2) | (b >> 4));
  } else if (rest == 3) {
    const uint8_t a = kTable[p[i]], b = kTable[p[i + 1]], c = kTable[p[i + 2]];
    if ((a | b | c) & 0xC0) return false;
    if (c & 0x03) return false;
    out[o++] = static_cast<unsigned char>((a << 2) | (b >> 4));
    out[o++] = static_cast<unsigned char>((b << 4) | (c >> 2));
  }
  *out_size = o;
  return true;
}

bool base64url_decode(std::string_view in, std::string* out) {
  out->resize(base64url_decoded_size(in.size()));
  size_t size = 0;
  if (!base64url_decode(in, reinterpret_cast<unsigned char*>(out->data()), &size)) {
    out->clear();
    return false;
  }
  out->resize(size);
  return true;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

}  // namespace ringway::filters::jwt
