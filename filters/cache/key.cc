#include "filters/cache/key.h"

#include "engine/http/request_head.h"
#include "engine/routing/path.h"
#include "filters/cache/text.h"

namespace ringway::filters::cache {

std::string primary_key(std::string_view host, std::string_view path, std::string_view query,
                        bool ignore_query) {
  std::string key = to_lower_ascii(host);
  key.append(path.empty() ? std::string_view("/") : path);
  if (!ignore_query && !query.empty()) {
    key.push_back('?');
    key.append(query);
  }
  return key;
}

std::string reference_key(std::string_view reference, std::string_view request_host,
                          std::string_view request_path, bool ignore_query) {
  reference = trim_ows(reference);
  reference = reference.substr(0, reference.find('#'));
  if (reference.empty()) return {};
  std::string target;
  if (reference.starts_with("//")) {
    target = "http:";
    target.append(reference);
  } else if (reference[0] == '/') {
    target.assign(reference);
  } else if (reference.find("://") != std::string_view::npos) {
    target.assign(reference);
  } else {
    // A relative path: merge with the request path's directory (RFC 3986 5.2.3).
    std::string_view dir = request_path.substr(0, request_path.rfind('/') + 1);
    target.assign(dir.empty() ? std::string_view("/") : dir);
    target.append(reference);
  }
  routing::TargetParts parts;
  if (routing::normalize_target(target, parts) != nullptr) return {};
  if (!parts.authority.empty() && !http::iequals(parts.authority, request_host)) return {};
  return primary_key(request_host, parts.path, parts.query, ignore_query);
}

std::string_view key_host(std::string_view key) { return key.substr(0, key.find('/')); }

std::string_view key_path(std::string_view key) {
  size_t slash = key.find('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(slash);
}

}  // namespace ringway::filters::cache
