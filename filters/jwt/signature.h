#pragma once
// Checking a JWS signature with one Key, through OpenSSL 3's EVP interface.
//
// The algorithm is the key's own (Key::alg), never the token's: by the time
// this runs the caller has checked that the token names the same one.

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filters/jwt/key_set.h"

namespace ringway::filters::jwt {

// Reusable per-thread OpenSSL state for verify_signature().
class SignatureScratch {
 public:
  SignatureScratch();
  ~SignatureScratch();
  SignatureScratch(const SignatureScratch&) = delete;
  SignatureScratch& operator=(const SignatureScratch&) = delete;
  EVP_MD_CTX* md() { return md_; }

 private:
  EVP_MD_CTX* md_;
};

// True when `signature` (raw bytes, as decoded from the token) is `key`'s
// signature over `input` (the ASCII "header.payload").
bool verify_signature(const Key& key, std::string_view input, std::string_view signature,
                      SignatureScratch& scratch);

// Largest DER encoding ecdsa_der() writes (P-521).
inline constexpr size_t kMaxEcdsaDer = 3 + 2 * (2 + 67);

// A JWS ECDSA signature is R || S, each exactly `order.size()` bytes
// (RFC 7518 3.4); OpenSSL wants DER. Writes the DER form to `der` and returns
// its length, or 0 when the signature has the wrong length or R or S is not
// in [1, n-1] (`order` is n, big-endian, the same size).
size_t ecdsa_der(std::string_view raw, std::string_view order, unsigned char* der);

}  // namespace ringway::filters::jwt
