#include "config/route_syntax.h"

#include <arpa/inet.h>

#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool has_dot_segment(std::string_view path) {
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start + 1);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start + 1, end - start - 1);
    if (segment == "." || segment == "..") return true;
    start = end;
  }
  return false;
}

bool is_host_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

bool canonical_path(std::string_view text, bool allow_empty, std::string& out, std::string& error) {
  out.clear();
  if (text.empty() && allow_empty) return true;
  if (text.empty() || text.front() != '/') {
    error = "must start with \"/\", got " + quote(text);
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '%') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        error = "malformed percent-escape in " + quote(text);
        return false;
      }
      unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (decoded == '/' || decoded == '\\' || decoded == 0) {
        error = quote(text.substr(i, 3)) + " in " + quote(text) +
                " can never match: requests containing it are refused";
        return false;
      }
      if (is_unreserved(decoded)) {
        out += static_cast<char>(decoded);
      } else {
        out += '%';
        out += "0123456789ABCDEF"[hi];
        out += "0123456789ABCDEF"[lo];
      }
      i += 2;
      continue;
    }
    if (c <= 0x20 || c >= 0x7f) {
      error = "must not contain spaces, control characters or non-ASCII bytes (percent-encode them), got " +
              quote(text);
      return false;
    }
    if (c == '?' || c == '#' || c == '\\') {
      error = "must not contain \"" + std::string(1, static_cast<char>(c)) + "\"" +
              (c == '?' ? " (routes match the path, not the query)" : "") + ", got " + quote(text);
      return false;
    }
    out += static_cast<char>(c);
  }
  if (out.find("//") != std::string::npos || has_dot_segment(out)) {
    error = quote(text) + " can never match: request paths are normalised (no \"//\", \".\" or \"..\" segments)";
    return false;
  }
  return true;
}

bool canonical_host_pattern(std::string_view text, std::string& out, std::string& error) {
  out = to_lower(text);
  if (!out.empty() && out.back() == '.') out.pop_back();
  const std::string expected =
      " (expected a host name such as \"api.example.com\", \"*.example.com\" or \"[::1]\")";
  if (!out.empty() && out.front() == '[') {
    in6_addr addr;
    if (out.back() == ']' && inet_pton(AF_INET6, out.substr(1, out.size() - 2).c_str(), &addr) == 1)
      return true;
    error = "invalid host pattern " + quote(text) + expected;
    return false;
  }
  if (out.find(':') != std::string::npos) {
    error = "host pattern " + quote(text) + " must not include a port (the port in Host is ignored when matching)";
    return false;
  }
  if (out == "*") return true;  // any (non-empty) Host
  std::string_view name = out;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  bool ok = !name.empty() && name.size() <= 253 && name.front() != '.';
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      ok = ok && label > 0;
      label = 0;
    } else {
      ok = ok && is_host_label_char(c) && ++label <= 63;
    }
  }
  if (!ok || label == 0) {
    error = "invalid host pattern " + quote(text) + expected;
    return false;
  }
  return true;
}

}  // namespace ringway::config::detail
