#include "config/route_syntax.h"

#include <arpa/inet.h>

#include <cstring>

#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

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

bool sub_delim(unsigned char c) {
  return c != 0 && std::strchr("!$&'()*+,;=", c) != nullptr;
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

namespace ringway::config {

using detail::hex_value;
using detail::is_unreserved;
using detail::sub_delim;

const char* check_host(std::string_view host) {
  size_t i = 0;
  if (!host.empty() && host[0] == '[') {
    // IP-literal: an IPv6 address or IPvFuture; their exact syntax is left to
    // the resolver, the characters are checked here.
    const size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return "invalid IP literal in host";
    for (i = 1; i < close; ++i) {
      const unsigned char c = static_cast<unsigned char>(host[i]);
      if (!is_unreserved(c) && !sub_delim(c) && c != ':') return "invalid IP literal in host";
    }
    i = close + 1;
  } else {
    for (; i < host.size() && host[i] != ':'; ++i) {
      const unsigned char c = static_cast<unsigned char>(host[i]);
      if (c == '%') {
        if (i + 2 >= host.size() || hex_value(host[i + 1]) < 0 ||
            hex_value(host[i + 2]) < 0)
          return "invalid percent-encoding in host";
        i += 2;
      } else if (!is_unreserved(c) && !sub_delim(c)) {
        return "invalid character in host";
      }
    }
  }
  if (i == 0) return "empty host";
  if (i < host.size()) {
    if (host[i] != ':') return "invalid character in host";
    if (host.size() - i - 1 > 5) return "invalid port in host";
    int port = 0;
    for (++i; i < host.size(); ++i) {
      if (host[i] < '0' || host[i] > '9') return "invalid port in host";
      port = port * 10 + (host[i] - '0');
    }
    if (port > 65535) return "invalid port in host";
  }
  return nullptr;
}

}  // namespace ringway::config
