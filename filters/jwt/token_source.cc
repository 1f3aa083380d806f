#include "filters/jwt/token_source.h"

#include "filters/query_param.h"

namespace ringway::filters::jwt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Counts occurrences of the source; *value is the first one's.
size_t from_header(const TokenSource& src, const http::RequestHead& request,
                   std::string_view* value) {
  size_t count = 0;
  for (const http::Header& h : request.headers) {
    // Also a '_' spelling: CGI-style upstreams read X_Auth as X-Auth.
    if (!http::same_cgi_name(h.name, src.name)) continue;
    if (++count > 1) return count;
    *value = h.value;
  }
  if (count == 1 && !src.scheme.empty()) {
    // "<scheme> <token>": a different scheme (Basic, ...) is not ours, which
    // RFC 6750 3.1 treats like no credentials at all.
    std::string_view v = *value;
    if (v.size() < src.scheme.size() || !http::iequals(v.substr(0, src.scheme.size()), src.scheme))
      return 0;
    v.remove_prefix(src.scheme.size());
    if (!v.empty() && v.front() != ' ' && v.front() != '\t') return 0;  // "Bearerx"
    *value = trim(v);
  }
  return count;
}

size_t from_cookie(const TokenSource& src, const http::RequestHead& request,
                   std::string_view* value) {
  size_t count = 0;
  for (const http::Header& h : request.headers) {
    if (!http::iequals(h.name, "Cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != src.name) continue;
      if (++count > 1) return count;
      std::string_view v = trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      *value = v;
    }
  }
  return count;
}

size_t from_query(const TokenSource& src, const http::RequestHead& request,
                  std::string_view* value) {
  // Names are compared percent-decoded ("access%5Ftoken" is access_token to
  // most upstreams); the value is taken as is: a JWT's characters are all
  // unreserved, so an escaped one can only make the token invalid.
  ParamLookup found = find_param(request.query, src.name);
  if (found.count == 1) *value = found.raw;
  return found.count;
}

size_t count_in(const TokenSource& src, const http::RequestHead& request,
                std::string_view* value) {
  switch (src.kind) {
    case TokenSource::Kind::kHeader:
      return from_header(src, request, value);
    case TokenSource::Kind::kCookie:
      return from_cookie(src, request, value);
    case TokenSource::Kind::kQuery:
      return from_query(src, request, value);
  }
  return 0;
}

}  // namespace

bool holds_token(const TokenSource& source, const http::RequestHead& request, std::string_view token) {
  std::string_view value;
  return count_in(source, request, &value) == 1 && value == token;
}

Lookup find_token(const std::vector<TokenSource>& sources, const http::RequestHead& request,
                  std::string_view* token) {
  for (size_t i = 0; i < sources.size(); ++i) {
    std::string_view value;
    const size_t count = count_in(sources[i], request, &value);
    if (count == 0) continue;
    if (count > 1) return Lookup::kAmbiguous;
    // RFC 6750 2: one method per request. A different token in a later
    // source would travel upstream unverified next to the checked one (the
    // same token twice, a browser's cookie and header, is no ambiguity).
    for (size_t j = i + 1; j < sources.size(); ++j) {
      std::string_view other;
      const size_t n = count_in(sources[j], request, &other);
      if (n > 1 || (n == 1 && other != value)) return Lookup::kAmbiguous;
    }
    if (value.empty()) return Lookup::kEmpty;
    *token = value;
    return Lookup::kFound;
  }
  return Lookup::kAbsent;
}

std::string cookie_header_without(std::string_view value, std::string_view name) {
  std::string out;
  while (!value.empty()) {
    const size_t semi = value.find(';');
    const std::string_view pair = trim(value.substr(0, semi));
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (pair.empty() || (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name)) continue;
    if (!out.empty()) out += "; ";
    out.append(pair);
  }
  return out;
}

}  // namespace ringway::filters::jwt
