#pragma once
// The JWS signature algorithms this filter verifies (RFC 7518 section 3,
// RFC 8037 section 3.1) and what each needs of a key.
//
// "none" is deliberately not an Alg: it cannot be configured, so no key can
// ever accept it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringway::filters::jwt {

enum class Alg : uint8_t {
  kHS256, kHS384, kHS512,
  kRS256, kRS384, kRS512,
  kPS256, kPS384, kPS512,
  kES256, kES384, kES512,
  kEdDSA,  // Ed25519 keys only
};

enum class AlgFamily : uint8_t { kHmac, kRsa, kRsaPss, kEcdsa, kEdDSA };

AlgFamily alg_family(Alg alg);

// "RS256". EdDSA is "EdDSA".
std::string_view alg_name(Alg alg);

// The digest: "SHA256", "SHA384", "SHA512"; "" for EdDSA (hashes internally).
const char* alg_digest(Alg alg);

// HMAC output / minimum HMAC key length in bytes (RFC 7518 3.2): 32, 48, 64.
size_t alg_hash_size(Alg alg);

// ECDSA: the size of each of R and S in a JWS signature (32, 48, 66), and the
// curve's JWK name ("P-256") and OpenSSL group name ("prime256v1").
size_t alg_ecdsa_coordinate_size(Alg alg);
std::string_view alg_curve(Alg alg);
const char* alg_openssl_group(Alg alg);

// Exact, case-sensitive names as they appear in "alg" (RFC 7515 4.1.1: the
// value is case-sensitive). "Ed25519" (RFC 9864's fully-specified name) is
// read as EdDSA, since the only EdDSA keys accepted are Ed25519 keys.
std::optional<Alg> parse_alg(std::string_view name);

// The list of accepted names, for config error messages.
std::string_view alg_names_for_messages();

}  // namespace ringway::filters::jwt
