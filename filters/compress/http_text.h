#pragma once
// Header-value helpers shared by the compress filter's parsers.

#include <string_view>

namespace ringway::filters::compress {

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

// `s` without leading and trailing optional whitespace (SP, HTAB).
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace ringway::filters::compress
