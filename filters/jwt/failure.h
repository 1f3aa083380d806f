#pragma once
// Why a request was refused, and how each reason is answered (RFC 6750 3.1).
//
// The descriptions are fixed strings: nothing from the token or the request
// ever reaches a response header or body, so a crafted token cannot inject
// text into WWW-Authenticate.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringway::filters::jwt {

enum class Failure : uint8_t {
  kNone = 0,
  kMissingToken,       // no credentials at all: 401 without an error code
  kAmbiguousToken,     // several credentials (two Authorization headers): 400
  kEmptyToken,         // a source present but empty ("Bearer " alone): 400
  kTooLarge,           // longer than max_token_size
  kMalformed,          // not three strict base64url segments of JSON objects
  kAlgorithm,          // alg none, unknown, or not the key's own alg
  kCritical,           // a "crit" (or "b64") header we do not implement
  kUnknownKey,         // kid matches no key (or no kid and several keys)
  kSignature,          // the signature does not verify
  kExpired,            // exp passed (beyond leeway)
  kNotYetValid,        // nbf in the future (beyond leeway)
  kIssuedInFuture,     // iat in the future (beyond leeway)
  kIssuer,             // iss missing or not one of the configured issuers
  kAudience,           // aud missing or none of the configured audiences
  kMissingClaim,       // a required claim (or exp) is absent
  kClaimValue,         // a registered claim of the wrong type, or a forwarded
                       // claim whose value cannot be a header value
  kInsufficientScope,  // valid token without the required scopes: 403
};

inline constexpr size_t kFailureCount = static_cast<size_t>(Failure::kInsufficientScope) + 1;

// Short stable name for counters and logs ("expired", "bad_signature").
std::string_view failure_name(Failure f);

// The error_description sent to the client ("token expired").
std::string_view failure_description(Failure f);

// The RFC 6750 error code ("invalid_token"), or "" for a missing token.
std::string_view failure_error_code(Failure f);

// 400, 401 or 403.
int failure_status(Failure f);

}  // namespace ringway::filters::jwt
