#pragma once
// Accept-Encoding negotiation for gzip (RFC 9110 section 12.5.3).
//
// The filter asks one question: may this response go out gzip-coded? The
// answer is yes when gzip has a non-zero weight (from a "gzip" or "x-gzip"
// entry, else from "*") and the client does not rank identity above it.
// Everything else, including a header we cannot parse, means "send it as is":
// a gateway never answers 406 on the origin's behalf, and a client whose
// header we do not understand is safest with the uncoded bytes.

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/http/request_head.h"

namespace ringway::filters::compress {

// Weights in thousandths (qvalue "0.5" is 500), so comparisons are exact.
constexpr int kUnlisted = -1;

// A name listed twice gets its lower weight: an explicit q=0 is not
// overridden by another entry for the same name.
struct AcceptEncoding {
  int gzip = kUnlisted;      // weight of "gzip"
  int x_gzip = kUnlisted;    // weight of "x-gzip", its alias (RFC 9110 8.4.1.3)
  int identity = kUnlisted;  // weight of "identity"
  int any = kUnlisted;       // weight of "*"

  // Weight gzip ends up with: the higher of its two names' (one alias
  // accepted is enough), which wins over "*"; unlisted is 0.
  int gzip_weight() const;
  // True when gzip may be sent and is not ranked below identity. Identity
  // that is neither listed nor covered by "*" has no rank: the client named
  // gzip and nothing it prefers.
  bool prefers_gzip() const;
};

// Adds the entries of one header value to `into`; false when the value is
// not a valid Accept-Encoding list (then `into` is unspecified). An empty
// value is valid and lists nothing.
bool parse_accept_encoding(std::string_view value, AcceptEncoding& into);

// The decision for a request: all Accept-Encoding lines taken together (as
// one comma-joined list). No header at all means no compression: RFC 9110
// lets a server pick any coding then, but clients that send nothing (old
// tools, health checks) are exactly the ones that do not decode gzip.
bool client_accepts_gzip(const http::HeaderList& request_headers);

}  // namespace ringway::filters::compress
