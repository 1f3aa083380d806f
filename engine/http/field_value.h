#pragma once
// Reading HTTP field values (RFC 9110 5.6): optional whitespace, comma-
// separated lists. One list splitter for the engine (Connection), the
// filters (Cache-Control, Vary, Accept-Encoding, CORS) and the origin, so
// they agree on what a list element is.

#include <cstdint>
#include <string_view>

#include "engine/http/request_head.h"

namespace ringway::http {

// Optional whitespace (SP / HTAB) removed from both ends.
std::string_view trim_ows(std::string_view s);

// The next element of a comma-separated list, trimmed; commas inside quoted
// strings do not split (Cache-Control: no-cache="a, b"). Empty elements are
// skipped, as RFC 9110 5.6.1 requires of recipients. Returns false at the end.
bool next_list_element(std::string_view& rest, std::string_view& element);

// A value of digits only (Content-Length, Max-Forwards: 1*DIGIT) as a
// number, or -1 when it is empty, holds anything else or has more than 18
// digits (past what any length or count here can mean).
int64_t parse_digits(std::string_view s);

}  // namespace ringway::http
