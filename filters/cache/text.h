#pragma once
// Small helpers for reading HTTP field values: list splitting (RFC 9110 5.6.1),
// trimming and case folding. Shared by the Cache-Control, Vary, ETag and
// Accept-Encoding parsers so they agree on what a list element is.

#include <string>
#include <string_view>

#include "engine/http/field_value.h"
#include "engine/http/request_head.h"

namespace ringway::filters::cache {

using http::find_header;
using http::next_list_element;
using http::trim_ows;

std::string to_lower_ascii(std::string_view s);

// All field lines named `name` joined with ", " (RFC 9110 5.3); "" if none.
std::string combined_value(const http::HeaderList& headers, std::string_view name);

// True when some header `name` holds `token` as a list element (case-insensitive).
bool has_list_token(const http::HeaderList& headers, std::string_view name, std::string_view token);

// delta-seconds (RFC 9111 1.2.2): digits only. Values beyond 2^31 saturate to
// 2^31 as the RFC asks. Returns false for anything that is not all digits.
bool parse_delta_seconds(std::string_view s, int64_t& out);

constexpr int64_t kMaxDeltaSeconds = int64_t{1} << 31;

}  // namespace ringway::filters::cache
