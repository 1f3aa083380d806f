#pragma once
// Strict base64url (RFC 4648 section 5, as JWS uses it: RFC 7515 section 2).
//
// Decoding accepts exactly one spelling of each byte string: the URL-safe
// alphabet only, no '=' padding, no whitespace, and the unused low bits of the
// last character zero. A lenient decoder would let one signed token be written
// many ways, which defeats exact-token caching and makes "is this the token
// that was signed" a harder question than it needs to be.

#include <cstddef>
#include <string>
#include <string_view>

namespace ringway::filters::jwt {

// Decoded size of `encoded_size` characters (an upper bound for invalid input).
constexpr size_t base64url_decoded_size(size_t encoded_size) {
  return encoded_size / 4 * 3 + (encoded_size % 4 == 0 ? 0 : encoded_size % 4 - 1);
}

// Decodes `in` into `out` (which needs base64url_decoded_size(in.size()) bytes)
// and returns true with the byte count in *out_size; false on any character
// outside the alphabet, a length of 4n+1, or non-zero trailing bits.
bool base64url_decode(std::string_view in, unsigned char* out, size_t* out_size);

// Convenience for non-hot paths (key loading, tests): false on invalid input.
bool base64url_decode(std::string_view in, std::string* out);

std::string base64url_encode(std::string_view bytes);

}  // namespace ringway::filters::jwt
