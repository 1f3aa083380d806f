#include "filters/query_param.h"

#include "config/text_util.h"

namespace ringway::filters {
namespace {

using config::detail::hex_value;

bool name_is(std::string_view pair, std::string_view name, std::string& scratch) {
  std::string_view raw = pair.substr(0, pair.find('='));
  if (raw.find('%') == std::string_view::npos) return raw == name;
  return percent_decode(raw, scratch) && scratch == name;
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

ParamLookup find_param(std::string_view query, std::string_view name) {
  ParamLookup result;
  if (query.empty()) return result;
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

std::string remove_param(std::string_view query, std::string_view name) {
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
