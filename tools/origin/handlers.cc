#include "tools/origin/handlers.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

#include "config/text_util.h"
#include "engine/http/field_value.h"

namespace ringway::origin {
namespace {

constexpr std::string_view kHelloBody = "hello from ringway-origin\n";
constexpr uint64_t kMaxDelayMs = 3600 * 1000;
constexpr uint32_t kMaxChunk = 16 * 1024 * 1024;

using config::detail::hex_value;
using http::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc();
}

// Percent-decodes into out; invalid escapes are kept literally.
void percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// "Name:Value" from ?header=; false when it would not be a single valid field.
bool append_extra_header(std::string_view decoded, std::string& extra) {
  size_t colon = decoded.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view name = decoded.substr(0, colon);
  std::string_view value = decoded.substr(colon + 1);
  for (char c : name) {
    if (!is_tchar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;  // no header injection
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  extra.append(name);
  extra.append(": ");
  extra.append(value);
  extra.append("\r\n");
  return true;
}

bool parse_query(std::string_view query, Route& route, std::string& extra) {
  std::string key;
  std::string value;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    percent_decode(pair.substr(0, eq), key);
    percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), value);
    if (key == "header") {
      if (!append_extra_header(value, extra)) return false;
    } else if (key == "chunk") {
      uint64_t n = 0;
      if (!parse_u64(value, n) || n == 0 || n > kMaxChunk) return false;
      route.chunk_size = static_cast<uint32_t>(n);
    } else if (key == "text") {
      route.text = value != "0";
    }
    // Unknown keys are ignored so callers can add cache busters.
  }
  return true;
}

struct Head {
  int status = 200;
  std::string_view content_type;
  enum class Length : uint8_t { kContentLength, kChunked, kNone } framing = Length::kContentLength;
  uint64_t length = 0;
  bool close = false;
  bool keep_alive_header = false;  // HTTP/1.0 client that asked for keep-alive
  std::string_view extra;
  std::string_view date;
  std::string_view additional;  // server-generated header lines ("Name: v\r\n")
};

void write_head(ByteBuffer& out, const Head& h) {
  out.prepare(256 + h.extra.size() + h.additional.size());
  out.append("HTTP/1.1 ");
  out.append_decimal(static_cast<uint64_t>(h.status));
  out.append(' ');
  out.append(reason_phrase(h.status));
  out.append("\r\nServer: ringway-origin\r\n");
  if (!h.date.empty()) {
    out.append("Date: ");
    out.append(h.date);
    out.append("\r\n");
  }
  if (!h.content_type.empty()) {
    out.append("Content-Type: ");
    out.append(h.content_type);
    out.append("\r\n");
  }
  if (h.framing == Head::Length::kContentLength) {
    out.append("Content-Length: ");
    out.append_decimal(h.length);
    out.append("\r\n");
  } else if (h.framing == Head::Length::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (h.close) {
    out.append("Connection: close\r\n");
  } else if (h.keep_alive_header) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append(h.additional);
  out.append(h.extra);
  out.append("\r\n");
}

Head base_head(const Exchange& ex) {
  Head h;
  h.close = !ex.keep_alive;
  h.keep_alive_header = ex.keep_alive && ex.http10;
  h.extra = ex.extra_headers;
  h.date = ex.date;
  return h;
}

void write_text(const Exchange& ex, ByteBuffer& out, int status, std::string_view body,
                std::string_view content_type, bool close) {
  Head h = base_head(ex);
  h.status = status;
  h.content_type = content_type;
  h.length = body.size();
  h.close = h.close || close;
  write_head(out, h);
  if (!ex.head_method) out.append(body);
}

void respond_status(const Exchange& ex, ByteBuffer& out, Plan& plan) {
  const int status = static_cast<int>(ex.route.number);
  if (status == 101) {
    // Nothing can follow a switch we cannot honour, so end the connection.
    Head h = base_head(ex);
    h.status = status;
    h.framing = Head::Length::kNone;
    h.close = false;
    h.keep_alive_header = false;
    write_head(out, h);
    plan.close = true;
    return;
  }
  if (status < 200) {
    // An interim response alone would leave the client waiting forever, so
    // the 1xx is followed by a normal final response (HTTP/1.0 gets no 1xx).
    if (!ex.http10) {
      out.append("HTTP/1.1 ");
      out.append_decimal(static_cast<uint64_t>(status));
      out.append(' ');
      out.append(reason_phrase(status));
      out.append("\r\nServer: ringway-origin\r\n");
      out.append(ex.extra_headers);
      out.append("\r\n");
    }
    write_text(ex, out, 200, kHelloBody, "text/plain", false);
    return;
  }
  Head h = base_head(ex);
  h.status = status;
  if (status == 204 || status == 304) {
    h.framing = Head::Length::kNone;
    write_head(out, h);
    return;
  }
  char body[64];
  std::string_view reason = reason_phrase(status);
  int n = std::snprintf(body, sizeof(body), "%d %.*s\n", status, static_cast<int>(reason.size()),
                        reason.data());
  write_text(ex, out, status, std::string_view(body, static_cast<size_t>(n)), "text/plain", false);
}

void respond_malformed(const Exchange& ex, ByteBuffer& out, Plan& plan) {
  plan.close = true;
  switch (ex.route.malformed) {
    case MalformedKind::kGarbage:
      out.append("this is not HTTP \x01\x02\x03 garbage garbage garbage\r\n\r\n");
      break;
    case MalformedKind::kTruncated:
      out.append(
          "HTTP/1.1 200 OK\r\nServer: ringway-origin\r\nContent-Type: text/plain\r\n"
          "Content-Length: 100\r\n\r\n0123456789");
      break;
    case MalformedKind::kBadLength:
      out.append(
          "HTTP/1.1 200 OK\r\nServer: ringway-origin\r\nContent-Type: text/plain\r\n"
          "Content-Length: abc\r\n\r\nhello\n");
      break;
    case MalformedKind::kReset:
      plan.reset = true;
      break;
  }
}

constexpr const char* kTextType = "text/html; charset=utf-8";

}  // namespace

Route parse_route(std::string_view target, std::string& extra_headers) {
  Route route;
  // Absolute-form (what a forward proxy would send): drop scheme and authority.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);

  auto arg = [&](std::string_view prefix, std::string_view& rest) {
    if (!path.starts_with(prefix)) return false;
    rest = path.substr(prefix.size());
    return true;
  };
  std::string_view rest;
  uint64_t n = 0;
  if (path == "/echo") {
    route.kind = Endpoint::kEcho;
  } else if (path == "/headers") {
    route.kind = Endpoint::kHeaders;
  } else if (path == "/sink") {
    route.kind = Endpoint::kSink;
  } else if (path == "/stats") {
    route.kind = Endpoint::kStats;
  } else if (path == "/close") {
    route.kind = Endpoint::kClose;
  } else if (path == "/ws") {
    route.kind = Endpoint::kWebSocket;
  } else if (arg("/bytes/", rest)) {
    route.kind = parse_u64(rest, n) ? Endpoint::kBytes : Endpoint::kInvalid;
  } else if (arg("/chunked/", rest)) {
    route.kind = parse_u64(rest, n) ? Endpoint::kChunked : Endpoint::kInvalid;
  } else if (arg("/status/", rest)) {
    bool ok = parse_u64(rest, n) && n >= 100 && n <= 999;
    route.kind = ok ? Endpoint::kStatus : Endpoint::kInvalid;
  } else if (arg("/delay/", rest)) {
    bool ok = parse_u64(rest, n) && n <= kMaxDelayMs;
    route.kind = ok ? Endpoint::kDelay : Endpoint::kInvalid;
  } else if (arg("/malformed/", rest)) {
    route.kind = Endpoint::kMalformed;
    if (rest == "garbage") {
      route.malformed = MalformedKind::kGarbage;
    } else if (rest == "truncated") {
      route.malformed = MalformedKind::kTruncated;
    } else if (rest == "badlength") {
      route.malformed = MalformedKind::kBadLength;
    } else if (rest == "reset") {
      route.malformed = MalformedKind::kReset;
    } else {
      route.kind = Endpoint::kInvalid;
    }
  }
  route.number = n;
  if (!query.empty() && !parse_query(query, route, extra_headers)) {
    extra_headers.clear();
    route.kind = Endpoint::kInvalid;
  }
  return route;
}

std::string_view find_header(std::string_view head, std::string_view name) {
  size_t pos = head.find('\n');  // skip the request line
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    size_t start = pos + 1;
    size_t end = head.find('\n', start);
    std::string_view line =
        head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      return trim(line.substr(colon + 1));
    }
    pos = end;
  }
  return {};
}

bool has_token(std::string_view list, std::string_view token) {
  std::string_view element;
  while (http::next_list_element(list, element))
    if (iequals(element, token)) return true;
  return false;
}

void respond(const Exchange& ex, ByteBuffer& out, Plan& plan) {
  plan.close = !ex.keep_alive;
  switch (ex.route.kind) {
    case Endpoint::kHello:
    case Endpoint::kEcho:  // only reached for a bodiless echo handled elsewhere
      write_text(ex, out, 200, kHelloBody, "text/plain", false);
      return;
    case Endpoint::kClose:
      write_text(ex, out, 200, kHelloBody, "text/plain", true);
      plan.close = true;
      return;
    case Endpoint::kDelay:
      if (!ex.delay_elapsed && ex.route.number > 0) {
        plan.delay = true;
        plan.delay_ms = ex.route.number;
        return;
      }
      write_text(ex, out, 200, kHelloBody, "text/plain", false);
      return;
    case Endpoint::kBytes: {
      Head h = base_head(ex);
      h.content_type = ex.route.text ? kTextType : "application/octet-stream";
      h.length = ex.route.number;
      write_head(out, h);
      if (!ex.head_method) {
        plan.stream = true;
        plan.body = PatternBody::plain(ex.route.number, ex.route.text);
      }
      return;
    }
    case Endpoint::kChunked: {
      Head h = base_head(ex);
      h.content_type = ex.route.text ? kTextType : "application/octet-stream";
      h.framing = Head::Length::kChunked;
      if (ex.http10) {
        // HTTP/1.0 has no chunked coding: the body is delimited by closing.
        h.framing = Head::Length::kNone;
        h.close = true;
        h.keep_alive_header = false;
        plan.close = true;
      }
      write_head(out, h);
      if (!ex.head_method) {
        plan.stream = true;
        plan.body = ex.http10 ? PatternBody::plain(ex.route.number, ex.route.text)
                              : PatternBody::chunked(ex.route.number, ex.route.chunk_size,
                                                     ex.route.text);
      }
      return;
    }
    case Endpoint::kHeaders:
      write_text(ex, out, 200, ex.raw_head, "text/plain", false);
      return;
    case Endpoint::kSink: {
      char body[24];
      auto res = std::to_chars(body, body + sizeof(body), ex.body_bytes);
      write_text(ex, out, 200, std::string_view(body, static_cast<size_t>(res.ptr - body)),
                 "text/plain", false);
      return;
    }
    case Endpoint::kStatus:
      respond_status(ex, out, plan);
      return;
    case Endpoint::kStats: {
      char body[96];
      int n = std::snprintf(body, sizeof(body), "{\"connections_accepted\":%llu,\"requests\":%llu}",
                            static_cast<unsigned long long>(ex.stats_accepted),
                            static_cast<unsigned long long>(ex.stats_requests));
      write_text(ex, out, 200, std::string_view(body, static_cast<size_t>(n)), "application/json",
                 false);
      return;
    }
    case Endpoint::kMalformed:
      respond_malformed(ex, out, plan);
      return;
    case Endpoint::kWebSocket:  // a handshake is answered in the worker
      write_text(ex, out, 426, "a WebSocket handshake is required\n", "text/plain", false);
      return;
    case Endpoint::kInvalid:
      write_text(ex, out, 400, "bad request: invalid endpoint argument\n", "text/plain", false);
      return;
  }
}

EchoFraming begin_echo(const Exchange& ex, bool request_has_length, uint64_t request_length,
                       ByteBuffer& out) {
  Head h = base_head(ex);
  h.content_type = "application/octet-stream";
  char extra[64];
  EchoFraming framing = EchoFraming::kLength;
  if (request_has_length) {
    h.length = request_length;
    int n = std::snprintf(extra, sizeof(extra), "X-Request-Body-Bytes: %llu\r\n",
                          static_cast<unsigned long long>(request_length));
    h.additional = std::string_view(extra, static_cast<size_t>(n));
  } else if (ex.http10) {
    h.framing = Head::Length::kNone;
    h.close = true;
    h.keep_alive_header = false;
    framing = EchoFraming::kUntilClose;
  } else {
    h.framing = Head::Length::kChunked;
    framing = EchoFraming::kChunked;
  }
  write_head(out, h);
  return framing;
}

void write_error(ByteBuffer& out, int status, std::string_view date) {
  Exchange ex;
  ex.keep_alive = false;
  ex.date = date;
  char body[64];
  std::string_view reason = reason_phrase(status);
  int n = std::snprintf(body, sizeof(body), "%d %.*s\n", status, static_cast<int>(reason.size()),
                        reason.data());
  write_text(ex, out, status, std::string_view(body, static_cast<size_t>(n)), "text/plain", true);
}

void write_continue(ByteBuffer& out) { out.append("HTTP/1.1 100 Continue\r\n\r\n"); }

size_t format_http_date(int64_t unix_seconds, char* buf) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  return std::strftime(buf, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

}  // namespace ringway::origin
