#include "filters/cache/vary.h"

#include <algorithm>

#include "filters/cache/text.h"

namespace ringway::filters::cache {
namespace {

// Marks an absent field; field values never contain a NUL.
constexpr std::string_view kAbsent("\0absent", 7);

// Fields whose values are lists with case-insensitive elements (RFC 9110
// 12.5): normalised element by element. Other fields are compared as sent
// (all lines combined), since reformatting a value whose syntax we do not
// know could make two different values equal.
bool case_insensitive_list(std::string_view lower_name) {
  return lower_name == "accept-language" || lower_name == "accept-charset";
}

bool list_valued(std::string_view lower_name) {
  return lower_name == "accept" || case_insensitive_list(lower_name);
}

// True when a weight parameter value means "not acceptable" (q=0, 0.0, 0.000).
bool zero_weight(std::string_view q) {
  if (q.empty() || q[0] != '0') return false;
  q.remove_prefix(1);
  if (q.empty()) return true;
  if (q[0] != '.') return false;
  for (char c : q.substr(1))
    if (c != '0') return false;
  return true;
}

}  // namespace

std::vector<std::string> vary_names(const http::HeaderList& response_headers) {
  std::vector<std::string> names;
  for (const auto& h : response_headers) {
    if (!http::iequals(h.name, "vary")) continue;
    std::string_view rest = h.value, element;
    while (next_list_element(rest, element)) {
      std::string name = to_lower_ascii(element);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    }
  }
  return names;
}

std::string normalize_accept_encoding(std::string_view combined) {
  std::vector<std::string> codings;
  std::string_view rest = combined, element;
  while (next_list_element(rest, element)) {
    size_t semi = element.find(';');
    std::string coding = to_lower_ascii(trim_ows(element.substr(0, semi)));
    if (coding.empty()) continue;
    bool zero = false;
    std::string_view params = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    while (!params.empty()) {
      size_t next = params.find(';');
      std::string_view param = trim_ows(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
        zero = zero_weight(trim_ows(param.substr(2)));
    }
    if (coding == "x-gzip") coding = "gzip";
    if (coding == "x-compress") coding = "compress";
    codings.push_back(zero ? "!" + coding : coding);
  }
  std::sort(codings.begin(), codings.end());
  codings.erase(std::unique(codings.begin(), codings.end()), codings.end());
  std::string out;
  for (const auto& c : codings) {
    if (!out.empty()) out.push_back(',');
    out.append(c);
  }
  return out;
}

std::string vary_value(const http::HeaderList& request_headers, std::string_view lower_name) {
  if (find_header(request_headers, lower_name) == nullptr) return std::string(kAbsent);
  std::string combined = combined_value(request_headers, lower_name);
  if (lower_name == "accept-encoding") return normalize_accept_encoding(combined);
  if (!list_valued(lower_name)) return std::string(trim_ows(combined));
  std::string out;
  std::string_view rest = combined, element;
  while (next_list_element(rest, element)) {
    if (!out.empty()) out.push_back(',');
    out.append(element);
  }
  if (case_insensitive_list(lower_name)) out = to_lower_ascii(out);
  return out;
}

std::string secondary_key(const http::HeaderList& request_headers, const std::vector<std::string>& names) {
  std::string key;
  for (const auto& name : names) {
    key.append(vary_value(request_headers, name));
    key.push_back('\n');
  }
  return key;
}

}  // namespace ringway::filters::cache
