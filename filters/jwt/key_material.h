#pragma once
// Turning key material into Keys: PEM public keys, raw public key parameters
// (from JWKs) and HMAC secrets, each checked against the one algorithm it
// will be allowed to verify. Shared by the PEM and JWKS loaders.
//
// Errors are returned as text for the config reader to place; they describe
// the key (type, size, curve), never secret bytes.

#include <optional>
#include <string>
#include <string_view>

#include "filters/jwt/key_set.h"

namespace ringway::filters::jwt {

// A public key from PEM text: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC
// KEY" or a certificate (its subject key; the certificate itself is not
// checked: it is only a container here). nullptr and *error on failure; a
// private key is refused by name.
PkeyPtr pem_public_key(std::string_view pem, std::string* error);

// RSA public key from big-endian n and e; EC public key from a curve name
// ("P-256") and fixed-size big-endian x and y; Ed25519 from its 32 bytes.
PkeyPtr rsa_public_key(std::string_view n, std::string_view e, std::string* error);
PkeyPtr ec_public_key(std::string_view curve, std::string_view x, std::string_view y,
                      std::string* error);
PkeyPtr ed25519_public_key(std::string_view x, std::string* error);

// The algorithm a key implies when none is given: ES256/384/512 by curve,
// EdDSA for Ed25519, RS256 for RSA when `rsa_default` is set; nullopt when the
// key is of a kind that needs an explicit alg.
std::optional<Alg> implied_alg(EVP_PKEY* pkey, bool rsa_default);

// Checks that `pkey` can verify `alg` (RSA of at least 2048 bits for RS/PS,
// the matching curve for ES, Ed25519 for EdDSA; never HS) and fills `key`.
// Returns "" or the problem.
std::string make_public_key(PkeyPtr pkey, Alg alg, Key* key);

// An HMAC key; the secret must be at least as long as the hash (RFC 7518 3.2).
std::string make_hmac_key(std::string_view secret, Alg alg, Key* key);

// "RSA 2048-bit", "EC P-256", "Ed25519", for messages.
std::string describe_key(EVP_PKEY* pkey);

}  // namespace ringway::filters::jwt
