#include "filters/query_param.h"

#include <algorithm>

#include "config/text_util.h"

namespace ringway::filters {
namespace {

using config::detail::hex_value;

// A parameter name as PHP reads it, which many upstreams run: leading spaces
// dropped, then ' ', '.', '[' and '+' (a space in a query) taken for '_'.
// ("access.token" is its access_token.) Over-approximated: PHP keeps the
// characters after a first unmatched '[' as they are, and a matched one
// starts an array, which no credential is.
void php_fold(std::string& s) {
  std::replace(s.begin(), s.end(), '+', ' ');
  s.erase(0, s.find_first_not_of(' '));
  for (char& c : s)
    if (c == ' ' || c == '.' || c == '[') c = '_';
}

// Whether the pair's name is `name`: as sent, percent-decoded, or as PHP
// would read either (a copy of a credential under another spelling must not
// get past the checks for a credential given twice).
struct Name {
  explicit Name(std::string_view n) : name(n), folded(n) { php_fold(folded); }
  std::string_view name;
  std::string folded;  // as PHP reads it
};

bool name_is(std::string_view pair, const Name& name, std::string& scratch) {
  std::string_view raw = pair.substr(0, pair.find('='));
  if (raw == name.name || raw == name.folded) return true;
  if (raw.find_first_of("%+. [") == std::string_view::npos) return false;
  if (!percent_decode(raw, scratch)) return false;
  if (scratch == name.name) return true;
  php_fold(scratch);
  return scratch == name.folded;
}

// Calls f(pair) for each '&'-separated piece, empty ones included.
template <typename F>
void for_each_pair(std::string_view query, F f) {
  while (true) {
    size_t amp = query.find('&');
    f(query.substr(0, amp));
    if (amp == std::string_view::npos) return;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

ParamLookup find_param(std::string_view query, std::string_view param) {
  ParamLookup result;
  if (query.empty()) return result;
  const Name name(param);
  std::string scratch;
  for_each_pair(query, [&](std::string_view pair) {
    if (!name_is(pair, name, scratch)) return;
    if (result.count++ == 0) {
      size_t eq = pair.find('=');
      result.raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
  });
  return result;
}

std::string remove_param(std::string_view query, std::string_view param) {
  const Name name(param);
  std::string out;
  std::string scratch;
  bool first = true;
  for_each_pair(query, [&](std::string_view pair) {
    if (name_is(pair, name, scratch)) return;
    if (!first) out.push_back('&');
    out.append(pair);
    first = false;
  });
  return out;
}

}  // namespace ringway::filters
