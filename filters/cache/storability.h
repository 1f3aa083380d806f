#pragma once
// May a response be stored? RFC 9111 section 3 for a shared cache, plus the
// choices this cache makes where the RFC leaves room (see docs/filters/cache.md).

#include <cstdint>
#include <string_view>

#include "engine/http/request_head.h"
#include "filters/cache/cache_control.h"
#include "filters/cache/freshness.h"

namespace ringway::filters::cache {

enum class StoreVerdict : uint8_t {
  kStore,
  kMethod,          // only GET responses are stored (HEAD is served from them)
  kStatus,          // not a final status this cache understands (206, 304, 1xx, ...)
  kNoStore,         // no-store in the request or the response
  kPrivate,         // private: a shared cache must not store it
  kAuthorization,   // request had Authorization and 3.5 does not allow storing
  kSetCookie,       // Set-Cookie: per-client state, never stored (our choice)
  kVaryStar,        // Vary: * can never match a later request
  kNotCacheable,    // no explicit freshness, not heuristically cacheable, no validator
};

std::string_view verdict_name(StoreVerdict v);

struct StorePolicy {
  // Requests with Authorization may have their responses stored when the
  // response says public, s-maxage or must-revalidate (3.5). Off by default.
  bool cache_authorized = false;
  HeuristicPolicy heuristic;
};

// `request_authorized`: the request had Authorization or was authenticated
// by an earlier filter (3.5); `request_cc` is the request's Cache-Control;
// `facts` the response's.
StoreVerdict storability(std::string_view method, bool request_authorized,
                         const CacheControl& request_cc, int status,
                         const http::HeaderList& response_headers, const ResponseFacts& facts,
                         int64_t response_time, const StorePolicy& policy);

// Statuses this cache stores (a subset of what it understands: everything
// final except 206, which needs range handling, and 304, which only
// updates, and 1xx).
bool storable_status(int status);

// Final statuses whose meaning RFC 9110 defines, the ones this cache
// understands for must-understand (5.2.2.3).
bool understood_status(int status);

}  // namespace ringway::filters::cache
