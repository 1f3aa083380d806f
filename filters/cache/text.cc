#include "filters/cache/text.h"

#include <cstring>

namespace ringway::filters::cache {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

bool next_list_element(std::string_view& rest, std::string_view& element) {
  while (!rest.empty()) {
    bool quoted = false;
    size_t i = 0;
    for (; i < rest.size(); ++i) {
      char c = rest[i];
      if (quoted) {
        if (c == '\\') ++i;  // quoted-pair: skip the escaped character
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        break;
      }
    }
    std::string_view piece = trim_ows(rest.substr(0, i));
    rest = i >= rest.size() ? std::string_view() : rest.substr(i + 1);
    if (!piece.empty()) {
      element = piece;
      return true;
    }
  }
  return false;
}

const http::Header* find_header(const http::HeaderList& headers, std::string_view name) {
  for (const auto& h : headers)
    if (http::iequals(h.name, name)) return &h;
  return nullptr;
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

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
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
