#pragma once
// Small string helpers shared by the config parsers: case folding, HTTP token
// checks and "did you mean" suggestions for misspelt names.

#include <string>
#include <string_view>
#include <vector>

namespace ringway::config::detail {

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

// The value of a hex digit, or -1 for any other byte (percent-decoding, hashes).
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 5.5 field value: no control characters but HTAB (CR, LF, NUL
// would split or cut a header; the others are invalid and some upstreams
// refuse the request for them).
constexpr bool is_field_value(std::string_view s) {
  for (char c : s)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}
constexpr const char* kFieldValueRule = "header values cannot contain control characters (CR, LF, NUL...)";

// RFC 9110 5.6.2 tchar, and a token: one or more of them (method names,
// header field names, coding names).
constexpr bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
}
bool is_http_token(std::string_view s);

// Optimal-string-alignment distance: insertions, deletions, substitutions and
// adjacent transpositions each cost 1 ("endpont" -> "endpoints" is 2).
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within edit distance 2 (first one wins a tie), or ""
// when nothing is close enough to be a plausible typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean "x"?)" or "" -- ready to append to an error message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// `s` in double quotes, with control characters escaped and long values cut,
// so that an error message stays on one line.
std::string quote(std::string_view s);

}  // namespace ringway::config::detail
