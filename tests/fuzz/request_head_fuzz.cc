// Request heads: HeadReader (HTTP_REQUEST) fed in two parts, then what the
// proxy does with a complete head: target normalisation, the upstream request
// head, and the chunked body parser.
//
// Input: byte 0 picks the split point (as a fraction of the rest); the rest is
// the bytes a client sends.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/http/head_reader.h"
#include "engine/http/head_writer.h"
#include "engine/routing/path.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ringway;
using ringway::fuzz::Buffer;

namespace {

// Small enough that fuzz inputs reach them.
constexpr http::HeadLimits kLimits{256, 1024};

void check_view(std::string_view v, const Buffer& a, const Buffer& b, bool spilled,
                std::string_view input) {
  if (v.empty()) return;
  if (!spilled) {
    FUZZ_CHECK(a.holds(v));  // viewed in place, in the buffer that completed it
  } else {
    FUZZ_CHECK(!a.holds(v) && !b.holds(v));  // copied: caller buffers may be reused
    FUZZ_CHECK(input.find(v) != std::string_view::npos);  // and copied faithfully
  }
}

// The checks Proxy::check_request makes before a request goes upstream.
bool proxy_would_forward(const http::HeadReader& r, const http::RequestHead& head, bool absolute_form) {
  if (r.version_major() != 1) return false;
  int te = 0;
  bool chunked = false;
  for (const auto& h : head.headers) {
    if (http::iequals(h.name, "transfer-encoding")) {
      ++te;
      chunked = http::iequals(h.value, "chunked");
    }
  }
  if (te > 0 && (te > 1 || !chunked || r.version_minor() == 0)) return false;
  if (head.method == "CONNECT") return false;
  // Host: an absolute-form target's authority replaces it; else it must be valid.
  const http::Header* host = head.find("host");
  return absolute_form || host == nullptr || routing::check_host(host->value) == nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t ctl = data[0];
  ++data;
  --size;
  const size_t split = size * ctl / 255;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Buffer a(data, split), b(data + split, size - split);

  http::HeadReader r(HTTP_REQUEST);
  r.reset(kLimits);

  // --- the head, in two feeds
  size_t head_len = 0;
  std::string_view rest[2];  // bytes after the head, in order
  http::HeadStatus st = feed_in_two(r, a, b, &head_len, rest);

  if (st == http::HeadStatus::kError) {
    const int s = r.error_status();
    FUZZ_CHECK(s == 400 || s == 414 || s == 431 || s == 501);
    FUZZ_CHECK(r.error_reason() != nullptr && r.error_reason()[0] != '\0');
    return 0;
  }
  if (st == http::HeadStatus::kIncomplete) return 0;

  // --- a complete head
  FUZZ_CHECK(head_len > 0 && head_len <= size);
  fuzz::check_head_end(input, head_len);
  const bool spilled = r.spilled();
  FUZZ_CHECK(!r.method().empty());
  check_view(r.method(), a, b, spilled, input);
  check_view(r.target(), a, b, spilled, input);
  for (size_t i = 0; i < r.header_count(); ++i) {
    const http::Header h = r.header(i);
    check_view(h.name, a, b, spilled, input);
    check_view(h.value, a, b, spilled, input);
    fuzz::check_header(h);
  }
  const http::BodyFraming framing = r.request_framing();
  if (framing == http::BodyFraming::kContentLength) FUZZ_CHECK(r.content_length() > 0);

  http::RequestHead head;
  r.fill(head.headers);
  FUZZ_CHECK(head.headers.size() == r.header_count());
  head.method = r.method();
  head.target = r.target();
  head.version_minor = r.version_minor();

  routing::TargetParts parts;
  const char* reason = routing::normalize_target(head.target, parts);
  if (reason != nullptr) {
    FUZZ_CHECK(reason[0] != '\0');
  } else {
    FUZZ_CHECK(!parts.path.empty() && parts.path[0] == '/');
    head.path = parts.path;
    head.query = parts.query;
    const http::Header* host = head.find("host");
    head.host = !parts.authority.empty() ? parts.authority
                                         : (host != nullptr ? host->value : std::string_view{});
  }

  // The proxy answers (and closes) before reading a body in every other case.
  const bool forwarded = reason == nullptr && proxy_would_forward(r, head, !parts.authority.empty());
  if (forwarded) {
    http::ConnectionTokens conn;
    conn.parse(head.headers);
    // Every token is found again, in any case, however long the list (it is
    // sorted and searched past a few names).
    for (std::string_view n : conn.named) {
      std::string upper(n);
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      FUZZ_CHECK(conn.names(n) && conn.names(upper));
    }
    conn.remove_named(head.headers);
    http::UpstreamRequest req;
    req.path = head.path;
    req.query = head.query;
    req.host = head.host;
    req.client_addr = "192.0.2.1";
    req.framing = framing;
    req.content_length = r.content_length();
    req.http10 = head.version_minor == 0;
    std::string out;
    http::write_upstream_request(head, req, out);
    fuzz::check_serialised_head(out);

    // What the upstream parses is what we parsed: same method, target, framing.
    http::HeadReader up(HTTP_REQUEST);
    up.reset(http::HeadLimits{1 << 20, 1 << 20});
    size_t up_used = 0;
    http::HeadStatus up_st = up.feed(out.data(), out.size(), &up_used);
    if (up_st != http::HeadStatus::kComplete) {
      std::fprintf(stderr, "rebuilt head does not parse: %s\n%s\n", up.error_reason(),
                   out.c_str());
    }
    FUZZ_CHECK(up_st == http::HeadStatus::kComplete);
    FUZZ_CHECK(up_used == out.size());
    FUZZ_CHECK(up.method() == head.method);
    std::string target = head.path;
    if (!head.query.empty()) target.append("?").append(head.query);
    FUZZ_CHECK(up.target() == target);
    FUZZ_CHECK(up.request_framing() == framing);
    if (framing == http::BodyFraming::kContentLength)
      FUZZ_CHECK(up.content_length() == r.content_length());
    FUZZ_CHECK(up.version_minor() == (req.http10 ? 0 : 1));
    // Hop-by-hop headers and headers named by Connection are not forwarded.
    for (size_t i = 0; i < up.header_count(); ++i) {
      const http::Header h = up.header(i);
      FUZZ_CHECK(!conn.names(h.name) || http::iequals(h.name, "host") ||
                 http::iequals(h.name, "via") || http::iequals(h.name, "x-forwarded-for") ||
                 http::iequals(h.name, "x-forwarded-proto") ||
                 http::iequals(h.name, "x-forwarded-host") ||
                 http::iequals(h.name, "content-length") ||
                 http::iequals(h.name, "transfer-encoding"));
      if (http::is_hop_by_hop(h.name)) {
        FUZZ_CHECK(http::iequals(h.name, "content-length") ||
                   http::iequals(h.name, "transfer-encoding"));
      }
    }
  }

  // --- a chunked body: the rest of the input
  if (forwarded && framing == http::BodyFraming::kChunked) {
    uint64_t body_bytes = 0;
    fuzz::feed_chunked_pieces(r, rest, 2, &body_bytes);
  }
  return 0;
}
