#include "filters/jwt/failure.h"

namespace ringway::filters::jwt {
namespace {

struct Info {
  std::string_view name;
  std::string_view description;
};

// Indexed by Failure.
constexpr Info kInfo[kFailureCount] = {
    {"none", ""},
    {"missing_token", "missing token"},
    {"ambiguous_token", "more than one token in the request"},
    {"empty_token", "empty token"},
    {"too_large", "token too large"},
    {"malformed", "malformed token"},
    {"algorithm", "signature algorithm not allowed"},
    {"critical_header", "unsupported critical header"},
    {"unknown_key", "unknown signing key"},
    {"bad_signature", "invalid signature"},
    {"expired", "token expired"},
    {"not_yet_valid", "token not yet valid"},
    {"issued_in_future", "token issued in the future"},
    {"issuer", "invalid issuer"},
    {"audience", "invalid audience"},
    {"missing_claim", "missing required claim"},
    {"claim_value", "invalid claim value"},
    {"insufficient_scope", "insufficient scope"},
};

}  // namespace

std::string_view failure_name(Failure f) { return kInfo[static_cast<size_t>(f)].name; }

std::string_view failure_description(Failure f) {
  return kInfo[static_cast<size_t>(f)].description;
}

std::string_view failure_error_code(Failure f) {
  switch (f) {
    case Failure::kNone:
    case Failure::kMissingToken:
      return "";
    case Failure::kAmbiguousToken:
    case Failure::kEmptyToken:
      return "invalid_request";
    case Failure::kInsufficientScope:
      return "insufficient_scope";
    default:
      return "invalid_token";
  }
}

int failure_status(Failure f) {
  switch (f) {
    case Failure::kAmbiguousToken:
    case Failure::kEmptyToken:
      return 400;
    case Failure::kInsufficientScope:
      return 403;
    default:
      return 401;
  }
}

}  // namespace ringway::filters::jwt
