#pragma once
// A parsed request head. Views point into memory owned by the connection that
// parsed it (a receive buffer or the connection's head buffer) and stay valid
// until that request's response has been sent.

#include <absl/container/inlined_vector.h>

#include <string>
#include <string_view>

namespace ringway::http {

struct Header {
  std::string_view name;   // as received (case preserved)
  std::string_view value;  // leading/trailing whitespace trimmed
};

// ASCII case-insensitive comparison for header names.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (static_cast<unsigned>(x - 'A') < 26u) x += 32;
    if (static_cast<unsigned>(y - 'A') < 26u) y += 32;
    if (x != y) return false;
  }
  return true;
}

// Header names as CGI-style upstreams (CGI, WSGI, Rack, PHP) see them: case
// ignored and '_' taken for '-', since X-User-Id and X_User_Id both become
// HTTP_X_USER_ID there. A header the gateway asserts must be matched this
// way wherever a client's copy is removed.
inline bool same_cgi_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
    if (static_cast<unsigned>(x - 'A') < 26u) x += 32;
    if (static_cast<unsigned>(y - 'A') < 26u) y += 32;
    if (x != y) return false;
  }
  return true;
}

using HeaderList = absl::InlinedVector<Header, 24>;

struct RequestHead {
  std::string_view method;  // e.g. "GET"
  std::string_view target;  // request-target as received
  std::string path;         // normalised path (engine/routing/path.h), no query
  std::string_view query;   // after '?', without it; empty if none
  int version_minor = 1;    // HTTP/1.<minor>
  std::string_view host;    // Host header value, or authority from an absolute-form target
  HeaderList headers;
  // A WebSocket handshake the route lets through (its Upgrade and Connection
  // are already gone from `headers`; the gateway sends its own).
  bool upgrade = false;

  // First header with this name (case-insensitive), or nullptr.
  const Header* find(std::string_view name) const;
};

// RFC 9110 9.2.2: methods whose repetition has the effect of one request,
// the only ones a proxy may retry on its own (RFC 9112 9.3.1).
inline bool idempotent_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" ||
         m == "DELETE";
}

// First header in `headers` with this name (case-insensitive), or nullptr.
const Header* find_header(const HeaderList& headers, std::string_view name);

inline const Header* RequestHead::find(std::string_view name) const {
  return find_header(headers, name);
}

}  // namespace ringway::http
