#include "filters/compress/content_types.h"

#include "config/text_util.h"
#include "engine/http/request_head.h"
#include "engine/http/field_value.h"

namespace ringway::filters::compress {

TypeList TypeList::defaults() {
  TypeList list;
  for (const char* type : {
           "text/html", "text/plain", "text/css", "text/javascript", "text/xml", "text/csv",
           "text/markdown", "application/javascript", "application/x-javascript",
           "application/json", "application/ld+json", "application/manifest+json",
           "application/problem+json", "application/geo+json", "application/xml",
           "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
           "application/wasm", "image/svg+xml", "image/x-icon", "font/ttf", "font/otf"})
    list.add(type);
  return list;
}

std::optional<std::string> TypeList::normalize(std::string_view entry) {
  entry = http::trim_ows(entry);
  size_t slash = entry.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view type = entry.substr(0, slash), subtype = entry.substr(slash + 1);
  if (type == "*") {
    if (subtype != "*") return std::nullopt;  // "*/html" means nothing
  } else if (!config::detail::is_http_token(type) ||
             (subtype != "*" && !config::detail::is_http_token(subtype))) {
    return std::nullopt;
  }
  return config::detail::to_lower(entry);
}

void TypeList::add(std::string entry) {
  if (entry == "*/*") {
    any_ = true;
  } else if (entry.ends_with("/*")) {
    families_.push_back(entry.substr(0, entry.size() - 1));
  } else {
    exact_.push_back(entry);
  }
  entries_.push_back(std::move(entry));
}

bool TypeList::matches(std::string_view content_type) const {
  std::string_view media = http::trim_ows(content_type.substr(0, content_type.find(';')));
  if (media.empty()) return false;
  if (any_) return true;
  for (const std::string& e : exact_)
    if (http::iequals(media, e)) return true;
  for (const std::string& f : families_)
    if (media.size() > f.size() && http::iequals(media.substr(0, f.size()), f)) return true;
  return false;
}

}  // namespace ringway::filters::compress
