#pragma once
// Where a request carries its token: a header (by default "Authorization:
// Bearer <token>", RFC 6750 2.1), a cookie, or a query parameter.
//
// A source that appears twice (two Authorization headers, a header also
// under its '_' spelling, a cookie or query parameter repeated, also under a
// percent-encoded name), or different tokens in two configured sources, is
// ambiguous: intermediaries and upstreams disagree on which copy counts, so
// the request is refused rather than guessed at.

#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_head.h"

namespace ringway::filters::jwt {

struct TokenSource {
  enum class Kind { kHeader, kCookie, kQuery };
  Kind kind = Kind::kHeader;
  std::string name = "Authorization";
  // Header sources: the auth scheme before the token ("Bearer", compared
  // case-insensitively, RFC 9110 11.1), or "" for a header holding only the token.
  std::string scheme = "Bearer";
};

enum class Lookup {
  kAbsent,     // no source present: 401 without an error code
  kFound,      // *token set
  kAmbiguous,  // a source present more than once, or two different tokens: 400
  kEmpty,      // a source present but empty ("Bearer" alone): malformed
};

Lookup find_token(const std::vector<TokenSource>& sources, const http::RequestHead& request,
                  std::string_view* token);

// Whether `source` carries exactly `token` (and only once).
bool holds_token(const TokenSource& source, const http::RequestHead& request, std::string_view token);

// A Cookie header value without the cookie `name` ("a=1; b=2" without "a" is
// "b=2"); "" when nothing is left.
std::string cookie_header_without(std::string_view value, std::string_view name);

}  // namespace ringway::filters::jwt
