#include "engine/http/field_value.h"

namespace ringway::http {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
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

const Header* find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

int64_t parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return -1;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace ringway::http
