#include "filters/cache/text.h"


namespace ringway::filters::cache {

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string combined_value(const http::HeaderList& headers, std::string_view name) {
  std::string out;
  for (const auto& h : headers) {
    if (!http::iequals(h.name, name)) continue;
    if (!out.empty()) out.append(", ");
    out.append(h.value);
  }
  return out;
}

bool has_list_token(const http::HeaderList& headers, std::string_view name, std::string_view token) {
  for (const auto& h : headers) {
    if (!http::iequals(h.name, name)) continue;
    std::string_view rest = h.value, element;
    while (next_list_element(rest, element))
      if (http::iequals(element, token)) return true;
  }
  return false;
}

bool parse_delta_seconds(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (value < kMaxDeltaSeconds) value = value * 10 + (c - '0');
  }
  out = value > kMaxDeltaSeconds ? kMaxDeltaSeconds : value;
  return true;
}

}  // namespace ringway::filters::cache
