#include "engine/http/head_writer.h"

#include <algorithm>
#include <charconv>

#include "engine/http/field_value.h"

namespace ringway::http {

namespace {

// The only protocol switch the gateway passes on (RFC 6455 4.1, 4.2.2).
constexpr std::string_view kUpgradeFields = "Connection: upgrade\r\nUpgrade: websocket\r\n";

void append_number(std::string& out, uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

// "Name: v1, v2, extra\r\n": every field line called `name` joined (RFC 9110
// 5.3), then our own value. Keeps every earlier hop of Via/X-Forwarded-For.
void append_joined(std::string& out, const HeaderList& headers, std::string_view name,
                   std::string_view extra) {
  out.append(name);
  out.append(": ", 2);
  for (const auto& h : headers) {
    if (h.name.size() == name.size() && iequals(h.name, name) && !h.value.empty()) {
      out.append(h.value);
      out.append(", ", 2);
    }
  }
  out.append(extra);
  out.append("\r\n", 2);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// "HTTP/1.1 <status> <reason>\r\n": every response the gateway sends speaks 1.1.
void append_status_line(std::string& out, int status) {
  out.append("HTTP/1.1 ", 9);
  append_number(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n", 2);
}

// The start of a response of the gateway's own: status line, Date, Server.
void append_local_start(std::string& out, int status, std::string_view date) {
  append_status_line(out, status);
  if (!date.empty()) append_header(out, "Date", date);
  out.append("Server: ringway\r\n");
}

// The gateway's Via entry names the version the message came in with
// (RFC 9110 7.6.3).
std::string_view via_entry(bool received_http10) {
  return received_http10 ? "1.0 ringway" : "1.1 ringway";
}

// ASCII case-insensitive order, for the sorted list of Connection tokens.
bool iless(std::string_view a, std::string_view b) {
  auto lower = [](unsigned char c) { return static_cast<unsigned>(c - 'A') < 26u ? c + 32 : c; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return lower(x) < lower(y); });
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

bool is_hop_by_hop(std::string_view n) {
  if (n.size() > 6 && starts_with_ci(n, "proxy-")) return true;
  switch (n.size()) {
    case 2: return iequals(n, "te");
    case 7: return iequals(n, "trailer") || iequals(n, "upgrade");
    case 10: return iequals(n, "connection") || iequals(n, "keep-alive");
    case 14: return iequals(n, "content-length");
    case 17: return iequals(n, "transfer-encoding");
    default: return false;
  }
}

void ConnectionTokens::parse(const HeaderList& headers) {
  for (const auto& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    std::string_view v = h.value, tok;
    while (next_list_element(v, tok)) {
      if (iequals(tok, "close")) close = true;
      else if (iequals(tok, "keep-alive")) keep_alive = true;
      else named.push_back(tok);
    }
  }
  // Every named header must go (RFC 9110 7.6.1), however many there are;
  // a long list is sorted so that checking each header stays cheap.
  if (named.size() > kScanLimit) std::sort(named.begin(), named.end(), iless);
}

bool ConnectionTokens::names(std::string_view header) const {
  if (named.size() > kScanLimit) return std::binary_search(named.begin(), named.end(), header, iless);
  for (auto n : named)
    if (iequals(n, header)) return true;
  return false;
}

void ConnectionTokens::remove_named(HeaderList& headers) const {
  if (named.empty()) return;
  // Framing and Host stay: the gateway reads them itself and re-emits them,
  // and filters judge the request by them (a cache must see that a GET has
  // a body even when "Connection: content-length" names it). So do the
  // client-address fields a trusted proxy adds (ip_rules reads them): a
  // client whose Connection such a proxy passed on must not name away its
  // own address (CVE-2022-31813 in Apache, CVE-2024-45410 in Traefik).
  auto removed = [&](const Header& h) {
    return names(h.name) && !iequals(h.name, "content-length") &&
           !iequals(h.name, "transfer-encoding") && !iequals(h.name, "host") &&
           !iequals(h.name, "x-forwarded-for") && !iequals(h.name, "x-real-ip");
  };
  headers.erase(std::remove_if(headers.begin(), headers.end(), removed), headers.end());
}

void drop_client_forwarding(HeaderList& headers) {
  auto forged = [](const Header& h) {
    const std::string_view n = h.name;
    if (iequals(n, "forwarded") || same_cgi_name(n, "x-forwarded-port")) return true;
    // Path overrides some frameworks (Symfony, IIS URL Rewrite, Spring)
    // route by instead of the request line: a client's would reach a path
    // the gateway routed and authorised as another.
    if (same_cgi_name(n, "x-original-url") || same_cgi_name(n, "x-rewrite-url") ||
        same_cgi_name(n, "x-forwarded-prefix"))
      return true;
    // The others the writer extends or replaces: only their '_' spellings.
    return n.find('_') != std::string_view::npos &&
           (same_cgi_name(n, "x-forwarded-for") || same_cgi_name(n, "x-forwarded-host") ||
            same_cgi_name(n, "x-forwarded-proto"));
  };
  headers.erase(std::remove_if(headers.begin(), headers.end(), forged), headers.end());
}

void write_upstream_request(const RequestHead& head, const UpstreamRequest& req, std::string& out) {
  out.append(head.method);
  out.push_back(' ');
  out.append(req.path);
  if (!req.query.empty()) {
    out.push_back('?');
    out.append(req.query);
  }
  out.append(req.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n", 11);
  append_header(out, "Host", req.host);

  for (const auto& h : head.headers) {
    std::string_view n = h.name;
    if (is_hop_by_hop(n)) continue;
    switch (n.size()) {
      case 3:
        if (iequals(n, "via")) continue;
        break;
      case 4:
        if (iequals(n, "host")) continue;
        break;
      case 6:
        if (iequals(n, "expect")) continue;  // 100-continue is answered by the gateway
        break;
      case 15:
        if (iequals(n, "x-forwarded-for")) continue;
        break;
      case 16:
        if (iequals(n, "x-forwarded-host")) continue;
        break;
      case 17:
        if (iequals(n, "x-forwarded-proto")) continue;
        break;
    }
    append_header(out, n, h.value);
  }
  append_joined(out, head.headers, "X-Forwarded-For", req.client_addr);
  out.append("X-Forwarded-Proto: http\r\n");
  if (!head.host.empty()) append_header(out, "X-Forwarded-Host", head.host);
  append_joined(out, head.headers, "Via", via_entry(req.http10));
  if (req.framing == BodyFraming::kContentLength) {
    out.append("Content-Length: ");
    append_number(out, req.content_length);
    out.append("\r\n", 2);
  } else if (req.framing == BodyFraming::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (req.upgrade) out.append(kUpgradeFields);
  out.append("\r\n", 2);
}

void write_client_response(const HeaderList& headers, const ClientResponse& resp,
                           std::string& out) {
  append_status_line(out, resp.status);
  bool has_date = false;
  for (const auto& h : headers) {
    std::string_view n = h.name;
    if (resp.head_request && iequals(n, "content-length")) {
      append_header(out, n, h.value);  // the length a GET would have had
      continue;
    }
    if (is_hop_by_hop(n)) continue;
    if (n.size() == 3 && iequals(n, "via")) continue;
    if (n.size() == 4 && iequals(n, "date")) has_date = true;
    append_header(out, n, h.value);
  }
  if (!has_date && !resp.date.empty()) append_header(out, "Date", resp.date);
  append_joined(out, headers, "Via", via_entry(resp.received_http10));
  if (resp.framing == BodyFraming::kContentLength) {
    out.append("Content-Length: ");
    append_number(out, resp.content_length);
    out.append("\r\n", 2);
  } else if (resp.framing == BodyFraming::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (resp.framing == BodyFraming::kNone && !resp.head_request && resp.status >= 200 &&
             resp.status != 204 && resp.status != 304) {
    out.append("Content-Length: 0\r\n");  // an empty body still needs delimiting
  }
  if (resp.upgrade) out.append(kUpgradeFields);
  else if (resp.close) out.append("Connection: close\r\n");
  else if (resp.keep_alive) out.append("Connection: keep-alive\r\n");
  out.append("\r\n", 2);
}

void write_local_response(int status, std::string_view body, bool close, bool head_request,
                          std::string_view date, std::string& out, const HeaderList* extra) {
  append_local_start(out, status, date);
  if (extra != nullptr) {
    for (const auto& h : *extra) {
      // Nor anything that would let a cache keep the error or describe a
      // body it does not have (nginx leaves add_header off errors for this).
      const std::string_view n = h.name;
      if (is_hop_by_hop(n) || iequals(n, "date") || iequals(n, "server") || starts_with_ci(n, "content-") ||
          iequals(n, "cache-control") || iequals(n, "expires") || iequals(n, "etag") ||
          iequals(n, "last-modified") || iequals(n, "age") || iequals(n, "set-cookie"))
        continue;
      append_header(out, h.name, h.value);
    }
  }
  out.append("Content-Type: text/plain\r\nContent-Length: ");
  append_number(out, body.size() + 1);
  out.append(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
  if (!head_request) {
    out.append(body);
    out.push_back('\n');
  }
}

void write_options_response(std::string_view allow, bool close, std::string_view date,
                            std::string& out) {
  append_local_start(out, 200, date);
  append_header(out, "Allow", allow);
  out.append(close ? "Content-Length: 0\r\nConnection: close\r\n\r\n" : "Content-Length: 0\r\n\r\n");
}

}  // namespace ringway::http
