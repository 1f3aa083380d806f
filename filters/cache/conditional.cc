#include "filters/cache/conditional.h"

#include <string>

#include "engine/http/http_date.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {
namespace {

// The opaque-tag of an entity-tag ("\"xyz\"", quotes kept), or "" if malformed.
std::string_view opaque_tag(std::string_view tag) {
  tag = trim_ows(tag);
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return {};
  if (tag.substr(1, tag.size() - 2).find('"') != std::string_view::npos) return {};
  return tag;
}

}  // namespace

bool weak_etag_match(std::string_view a, std::string_view b) {
  std::string_view x = opaque_tag(a), y = opaque_tag(b);
  return !x.empty() && x == y;
}

bool if_none_match_matches(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match, element;
  while (next_list_element(rest, element)) {
    if (element == "*") return true;
    if (!etag.empty() && weak_etag_match(element, etag)) return true;
  }
  return false;
}

bool has_cache_conditionals(const http::HeaderList& request_headers) {
  return find_header(request_headers, "if-none-match") != nullptr ||
         find_header(request_headers, "if-modified-since") != nullptr;
}

Conditional evaluate_conditionals(const http::HeaderList& request_headers, const Validators& v,
                                  int64_t now_unix) {
  if (find_header(request_headers, "if-none-match") != nullptr) {
    std::string inm = combined_value(request_headers, "if-none-match");
    return if_none_match_matches(inm, v.etag) ? Conditional::kNotModified : Conditional::kModified;
  }
  // If-Modified-Since is ignored unless it is exactly one valid HTTP-date (13.1.3).
  const http::Header* ims = nullptr;
  for (const auto& h : request_headers) {
    if (!http::iequals(h.name, "if-modified-since")) continue;
    if (ims != nullptr) return Conditional::kNone;
    ims = &h;
  }
  if (ims == nullptr) return Conditional::kNone;
  std::optional<int64_t> since = http::parse_http_date(trim_ows(ims->value), now_unix);
  if (!since) return Conditional::kNone;
  // 4.3.2: Last-Modified, else Date, else the time the response was received.
  int64_t modified = v.last_modified ? *v.last_modified : v.date ? *v.date : v.response_time;
  return modified <= *since ? Conditional::kNotModified : Conditional::kModified;
}

}  // namespace ringway::filters::cache
