#pragma once
// Request-target splitting and path normalisation. This runs before routing
// and before any access rule is evaluated, so that every rule sees the one
// canonical spelling of a path: "/public/../admin", "/public/%2e%2e/admin" and
// "//admin" must all reach the router as "/admin", and spellings that an
// upstream could interpret differently from us (encoded slashes, backslashes,
// NULs, Tomcat-style "..;" segments) are refused with a 400 instead.

#include <string>
#include <string_view>

#include "config/route_syntax.h"

namespace ringway::routing {

struct TargetParts {
  std::string path;             // normalised, always starts with '/'
  std::string_view query;       // after '?', without it; points into the target
  std::string_view authority;   // absolute-form only ("host:port"); else empty
};

// Splits and normalises an origin-form ("/a/b?x") or absolute-form
// ("http://host/a?x") request-target.
// Returns nullptr on success, else a short reason (a static string) suitable
// for a 400 response. On failure `out` holds unspecified (but valid) values.
//
// Path rules:
//  - %XX of an unreserved character (ALPHA DIGIT - . _ ~) is decoded; every
//    other escape is kept, with its hex digits upper-cased;
//  - rejected: %2F (encoded slash), %5C (encoded backslash), %00, malformed
//    escapes, raw backslash, raw control characters and DEL, raw bytes >= 0x80,
//    raw space, '#' (a fragment), and "." / ".." segments followed by ';'
//    parameters (some servlet containers treat "..;" as "..");
//  - dot segments are removed (RFC 3986 5.2.4, after decoding so that encoded
//    dots count), repeated slashes are folded, ".." never climbs above root,
//    a trailing slash is kept.
// The query is passed through as received; only control characters and '#'
// (a fragment) are refused.
const char* normalize_target(std::string_view target, TargetParts& out);

// Checks a Host value against RFC 3986 `host [ ":" port ]`: nullptr if
// valid, else a short reason for a 400 (config/route_syntax.h, where the
// loader checks an upstream's `host:` with the same rule).
using config::check_host;

}  // namespace ringway::routing
