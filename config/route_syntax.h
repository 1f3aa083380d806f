#pragma once
// Syntax of the strings a route matches on. The router compares them with
// requests that engine/routing/path.h has already normalised, so a pattern
// that no normalised request can equal is refused here rather than left to
// silently never match.

#include <string>
#include <string_view>

namespace ringway::config::detail {

// A path, prefix or rewrite as the normaliser would produce it: starts with
// "/"; %XX of an unreserved character is decoded and other escapes get
// upper-case hex; refused: raw spaces, controls and non-ASCII, "?", "#", "\",
// %2F, %5C, %00, "//" and "." or ".." segments. `allow_empty` admits "".
// Returns false and sets `error` to the problem.
bool canonical_path(std::string_view text, bool allow_empty, std::string& out, std::string& error);

// A Host pattern, lower-cased with a trailing dot dropped: "api.example.com",
// "*.example.com" (subdomains only, not the apex), "*" (any non-empty Host)
// or a bracketed IPv6 literal; no port (the router ignores the port of the
// request's Host).
bool canonical_host_pattern(std::string_view text, std::string& out, std::string& error);

}  // namespace ringway::config::detail

namespace ringway::config {

// Checks a Host field value, or an absolute-form authority without userinfo,
// against RFC 3986's `host [ ":" port ]` (IP-literal, IPv4 or reg-name:
// unreserved, sub-delims and %XX). Returns nullptr if valid, else a short
// reason. The router checks every request's Host with it (RFC 9112 3.2: an
// invalid one is answered 400), the loader an upstream's `host:`.
const char* check_host(std::string_view host);

}  // namespace ringway::config
