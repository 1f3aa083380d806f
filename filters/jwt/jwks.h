#pragma once
// JSON Web Key Sets (RFC 7517) to Keys.
//
// Accepts {"keys": [...]} or one bare JWK object. Public keys: RSA (n, e),
// EC (P-256/384/521: crv, x, y), OKP (Ed25519: crv, x); secrets: oct (k, with
// an explicit alg). Following RFC 7517 section 5, keys this filter cannot use
// are skipped rather than refused: "use": "enc", key_ops without "verify", an
// unknown kty, curve or alg (an IdP's set often holds encryption keys too).
// A key of a supported kind that is broken, or that carries private
// parameters ("d", "p", ...), is an error: that is a config mistake, not
// something to pass over silently.

#include <string>
#include <string_view>
#include <vector>

#include "filters/jwt/key_set.h"

namespace ringway::filters::jwt {

struct JwksResult {
  std::vector<Key> keys;
  size_t skipped = 0;  // keys passed over (see above)
  std::string error;   // set on failure; "key 2 (kid \"a\"): ..." style
};

// `origin` names the source in Key::origin ("keys.json").
JwksResult parse_jwks(std::string_view json, std::string_view origin);

}  // namespace ringway::filters::jwt
