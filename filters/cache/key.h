#pragma once
// Primary cache keys (RFC 9111 2, 4.1): the target URI as host, normalised
// path and query. The request method is not part of the key because only GET
// responses are stored, and HEAD is answered from them (4.3.5 allows it).
// Format: lower-cased host, then the path (which always starts with '/'),
// then "?query" when there is one: "example.com:8080/a/b?x=1". The host ends
// at the first '/', so host and path can be matched separately by purges.

#include <string>
#include <string_view>

namespace ringway::filters::cache {

std::string primary_key(std::string_view host, std::string_view path, std::string_view query,
                        bool ignore_query);

// The key of a URI reference from Location or Content-Location (4.4): "" when
// it names another host (those must not be invalidated, to prevent denial of
// service) or is not a usable http(s) reference. Relative references are
// resolved against the request path; the path is normalised like request
// targets (engine/routing/path.h).
std::string reference_key(std::string_view reference, std::string_view request_host,
                          std::string_view request_path, bool ignore_query);

// Splits a key into host and path-with-query.
std::string_view key_host(std::string_view key);
std::string_view key_path(std::string_view key);

}  // namespace ringway::filters::cache
