#pragma once
// The JWS layer of a JWT (RFC 7515 compact serialization): shape, protected
// header, key selection and signature. Claims are claims.h's business; the
// payload is only decoded once the signature has verified, so unauthenticated
// bytes never reach the claims parser.
//
// What the header may and may not do:
//   alg   must be present and equal the selected key's one algorithm; "none"
//         and anything unknown fail (an HS alg can never meet an RSA/EC key).
//   kid   selects the key; absent, the only key is used if there is one.
//   crit  any value fails: no extension is implemented (RFC 7515 4.1.11).
//   b64   anything but true fails (RFC 7797 unencoded payloads unsupported).
//   jwk, jku, x5u, x5c, x5t  ignored. Keys come from the config only; a key
//         or URL inside the token it is supposed to authenticate proves
//         nothing.
//   enc   present means a JWE (encrypted token): refused as malformed.
// Duplicate member names in the header fail: parsers disagree on which copy
// wins, and "alg" twice is a classic way to make them.

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "filters/jwt/failure.h"
#include "filters/jwt/key_set.h"
#include "filters/jwt/signature.h"

namespace ringway::filters::jwt {

// Most members a header or claims object may have (duplicate detection is
// O(n log n); this bounds the work a token can ask for).
inline constexpr size_t kMaxJsonMembers = 256;
// Deepest JSON nesting accepted in a header or payload.
inline constexpr size_t kMaxJsonDepth = 32;

// Per-worker buffers and parsers for verifying tokens of at most
// `max_token_bytes`; sized once, reused for every token.
struct TokenScratch {
  explicit TokenScratch(size_t max_token_bytes);
  simdjson::dom::parser parser;
  std::string json;       // a decoded header or payload, then SIMDJSON_PADDING bytes
  std::string signature;  // decoded signature
  std::vector<std::string_view> names;  // member names, for duplicate detection
  SignatureScratch crypto;
};

// Decodes `segment` into scratch.json (keeping simdjson's padding after it)
// and parses it as a JSON object. False for bad base64url, bad JSON, a
// non-object, too deep, too many members or duplicate member names.
bool parse_segment_object(std::string_view segment, TokenScratch& s,
                          simdjson::dom::object* object);

// Checks shape, header and signature. On success returns kNone and sets
// *payload_segment to the (still encoded) payload segment; *key to the key used.
Failure verify_jws(std::string_view token, const KeySet& keys, TokenScratch& s,
                   std::string_view* payload_segment, const Key** key);

}  // namespace ringway::filters::jwt
