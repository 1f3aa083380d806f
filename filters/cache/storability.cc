#include "filters/cache/storability.h"

#include "filters/cache/text.h"

namespace ringway::filters::cache {

std::string_view verdict_name(StoreVerdict v) {
  switch (v) {
    case StoreVerdict::kStore: return "store";
    case StoreVerdict::kMethod: return "method";
    case StoreVerdict::kStatus: return "status";
    case StoreVerdict::kNoStore: return "no-store";
    case StoreVerdict::kPrivate: return "private";
    case StoreVerdict::kAuthorization: return "authorization";
    case StoreVerdict::kSetCookie: return "set-cookie";
    case StoreVerdict::kVaryStar: return "vary-star";
    case StoreVerdict::kNotCacheable: return "not-cacheable";
  }
  return "?";
}

bool storable_status(int status) {
  if (status < 200 || status > 599) return false;
  return status != 206 && status != 304;
}

bool understood_status(int status) {
  switch (status) {
    case 200: case 201: case 202: case 203: case 204: case 205:
    case 300: case 301: case 302: case 303: case 307: case 308:
    case 421: case 422: case 426:
    case 500: case 501: case 502: case 503: case 504: case 505:
      return true;
    default:
      return status >= 400 && status <= 417;
  }
}

StoreVerdict storability(std::string_view method, bool request_authorized,
                         const CacheControl& request_cc, int status,
                         const http::HeaderList& response_headers, const ResponseFacts& facts,
                         int64_t response_time, const StorePolicy& policy) {
  const CacheControl& cc = facts.cc;
  if (method != "GET") return StoreVerdict::kMethod;
  if (!storable_status(status)) return StoreVerdict::kStatus;
  // must-understand (5.2.2.3): stored only with a status this cache
  // understands, whatever else the response says.
  if (cc.must_understand && !understood_status(status)) return StoreVerdict::kStatus;
  // must-understand overrides the response's no-store only for a
  // status this cache understands; otherwise no-store wins.
  if (request_cc.no_store || (cc.no_store && !(cc.must_understand && understood_status(status))))
    return StoreVerdict::kNoStore;
  if (cc.private_) return StoreVerdict::kPrivate;
  if (request_authorized &&
      !(policy.cache_authorized &&
        (cc.public_ || cc.must_revalidate || cc.s_maxage != CacheControl::kAbsent)))
    return StoreVerdict::kAuthorization;
  if (find_header(response_headers, "set-cookie") != nullptr) return StoreVerdict::kSetCookie;
  if (has_list_token(response_headers, "vary", "*")) return StoreVerdict::kVaryStar;
  // 3: explicit freshness, public, or a heuristically cacheable status. A
  // response that would be stale on arrival is kept only if it can be
  // revalidated (no-cache responses included), else it is useless.
  bool explicit_ok = has_explicit_freshness(facts) || cc.public_ || heuristically_cacheable_status(status);
  if (!explicit_ok) return StoreVerdict::kNotCacheable;
  bool has_validator = find_header(response_headers, "etag") != nullptr || facts.last_modified.has_value();
  int64_t lifetime = cc.no_cache ? 0 : freshness_lifetime(facts, status, response_time, policy.heuristic);
  if (lifetime <= 0 && !has_validator) return StoreVerdict::kNotCacheable;
  return StoreVerdict::kStore;
}

}  // namespace ringway::filters::cache
