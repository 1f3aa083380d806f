#pragma once
// The secondary cache key (RFC 9111 4.1): the request header fields a stored
// response's Vary names, normalised so that requests with semantically equal
// values share a stored response.

#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_head.h"

namespace ringway::filters::cache {

// The field names a response's Vary lists: lower-cased, without duplicates,
// in order. "*" is returned as an element (the caller refuses to store).
std::vector<std::string> vary_names(const http::HeaderList& response_headers);

// The normalised value of request field `lower_name` for matching. An absent
// field yields a value no present field can have (4.1: absent only matches
// absent). All field lines are combined; list elements are trimmed and
// rejoined with "," for list-valued fields (Accept, Accept-Language,
// Accept-Charset; the last two lower-cased), other fields compared as sent;
// Accept-Encoding gets normalize_accept_encoding.
std::string vary_value(const http::HeaderList& request_headers, std::string_view lower_name);

// Accept-Encoding as the set of codings it accepts: codings lower-cased,
// x-gzip/x-compress aliased (RFC 9110 8.4.1), parameters other than q
// dropped, codings with q=0 written "!coding", sorted and de-duplicated:
// "gzip, deflate, br" and "br,gzip;q=0.8, deflate" both give "br,deflate,gzip".
std::string normalize_accept_encoding(std::string_view combined);

// The secondary key of a request for a list of Vary names: the values joined
// with '\n' (a byte no field value contains).
std::string secondary_key(const http::HeaderList& request_headers, const std::vector<std::string>& names);

}  // namespace ringway::filters::cache
