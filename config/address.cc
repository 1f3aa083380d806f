#include "config/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

// Splits "host:port" at the last colon, unbracketing "[v6]". A colon inside
// an unbracketed host means an IPv6 literal written without brackets, which
// is ambiguous with the port and refused.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port,
                     bool& bracketed, std::string& error) {
  bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "invalid address " + quote(text) + ": missing \"]\"";
      return false;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      error = "invalid address " + quote(text) + ": expected \":port\" after \"]\"";
      return false;
    }
    port = rest.substr(1);
    bracketed = true;
    return true;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = "invalid address " + quote(text) + ": missing \":port\"";
    return false;
  }
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) {
    error = "invalid address " + quote(text) + ": write IPv6 addresses in brackets, as \"[::1]:8080\"";
    return false;
  }
  return true;
}

bool parse_port(std::string_view text, std::string_view port, int min, int& out, std::string& error) {
  int value = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) {
    if (c < '0' || c > '9') digits = false;
    else value = value * 10 + (c - '0');
  }
  if (!digits) {
    error = "invalid port " + quote(port) + " in " + quote(text);
    return false;
  }
  if (value < min || value > 65535) {
    error = "port must be between " + std::to_string(min) + " and 65535, got " + std::to_string(value);
    return false;
  }
  out = value;
  return true;
}

bool fill_ipv4(std::string_view host, int port, SocketAddress& out) {
  sockaddr_in sin{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &sin.sin_addr) != 1) return false;
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&out.storage, &sin, sizeof sin);
  out.length = sizeof sin;
  return true;
}

bool fill_ipv6(std::string_view host, int port, SocketAddress& out) {
  sockaddr_in6 sin6{};
  if (inet_pton(AF_INET6, std::string(host).c_str(), &sin6.sin6_addr) != 1) return false;
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&out.storage, &sin6, sizeof sin6);
  out.length = sizeof sin6;
  return true;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', with
// '_' tolerated because internal DNS names often use it.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

bool resolve(std::string_view host, int port, SocketAddress& out, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = getaddrinfo(std::string(host).c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve " + quote(host) + ": " + (rc != 0 ? gai_strerror(rc) : "no address");
    return false;
  }
  std::memcpy(&out.storage, result->ai_addr, result->ai_addrlen);
  out.length = static_cast<socklen_t>(result->ai_addrlen);
  freeaddrinfo(result);
  return true;
}

}  // namespace

namespace {

// What listen and endpoint addresses share: "host:port" or "[v6]:port" split,
// the port checked, IPv6 literals filled in. Returns true when `out` is done
// or `error` is set (check error.empty()); false leaves an unbracketed host
// for the caller's own rules.
bool parse_common(std::string_view text, int min_port, SocketAddress& out, std::string& error,
                  std::string_view& host, int& port) {
  std::string_view port_text;
  bool bracketed = false;
  if (!split_host_port(text, host, port_text, bracketed, error)) return true;
  if (!parse_port(text, port_text, min_port, port, error)) return true;
  out = SocketAddress{};
  out.text = std::string(text);
  if (!bracketed) return false;
  if (!fill_ipv6(host, port, out))
    error = "invalid IPv6 address " + quote(host) + " in " + quote(text);
  return true;
}

}  // namespace

bool parse_listen_address(std::string_view text, SocketAddress& out, std::string& error) {
  std::string_view host;
  int port = 0;
  error.clear();
  if (parse_common(text, 0, out, error, host, port)) return error.empty();
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (fill_ipv4(host, port, out)) return true;
  error = "invalid listen address " + quote(text) +
          " (expected \"a.b.c.d:port\", \"[ipv6]:port\" or \"*:port\")";
  return false;
}

bool parse_endpoint_address(std::string_view text, SocketAddress& out, std::string& error) {
  std::string_view host;
  int port = 0;
  error.clear();
  if (parse_common(text, 1, out, error, host, port)) return error.empty();
  if (fill_ipv4(host, port, out)) return true;
  if (host == "*" || host.empty()) {
    error = "an endpoint needs a host: " + quote(text);
    return false;
  }
  // getaddrinfo would read "10.1" or "010.0.0.1" as IPv4 in inet_aton's
  // legacy forms; a numeric host that inet_pton refused is a typo, not a name.
  if (!is_host_name(host) || host.find_first_not_of("0123456789.") == std::string_view::npos) {
    error = "invalid endpoint address " + quote(text) +
            " (expected \"a.b.c.d:port\", \"[ipv6]:port\" or \"hostname:port\")";
    return false;
  }
  return resolve(host, port, out, error);
}

int port_of(const SocketAddress& address) {
  if (address.storage.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(address.storage).sin_port);
  if (address.storage.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address.storage).sin6_port);
  return 0;
}

bool same_address(const SocketAddress& a, const SocketAddress& b) {
  if (a.storage.ss_family != b.storage.ss_family) return false;
  if (a.storage.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a.storage);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b.storage);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.storage.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a.storage);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b.storage);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

}  // namespace ringway::config::detail
