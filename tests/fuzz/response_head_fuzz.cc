// Response heads: HeadReader (HTTP_RESPONSE) fed in two parts, then what the
// proxy does with a complete head: the client response head and the chunked
// body parser.
//
// Input: byte 0: the low 7 bits pick the split point (as a fraction of the
// rest), the high bit says whether the request was HEAD; the rest is the bytes
// an upstream sends.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/http/head_reader.h"
#include "engine/http/head_writer.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ringway;
using ringway::fuzz::Buffer;

namespace {

constexpr http::HeadLimits kLimits{256, 1024};

void check_view(std::string_view v, const Buffer& a, const Buffer& b, bool spilled,
                std::string_view input) {
  if (v.empty()) return;
  if (!spilled) {
    FUZZ_CHECK(a.holds(v));
  } else {
    FUZZ_CHECK(!a.holds(v) && !b.holds(v));
    FUZZ_CHECK(input.find(v) != std::string_view::npos);
  }
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t ctl = data[0];
  ++data;
  --size;
  const size_t split = size * (ctl & 0x7F) / 127;
  const bool head_request = (ctl & 0x80) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Buffer a(data, split), b(data + split, size - split);

  http::HeadReader r(HTTP_RESPONSE);
  r.reset(kLimits);

  size_t head_len = 0;
  std::string_view rest[2];  // bytes after the head, in order
  http::HeadStatus st = feed_in_two(r, a, b, &head_len, rest);

  if (st == http::HeadStatus::kError) {
    // A response has no request-target: never 414.
    const int s = r.error_status();
    FUZZ_CHECK(s == 400 || s == 431);
    FUZZ_CHECK(r.error_reason() != nullptr && r.error_reason()[0] != '\0');
    return 0;
  }
  if (st == http::HeadStatus::kIncomplete) return 0;

  FUZZ_CHECK(head_len > 0 && head_len <= size);
  fuzz::check_head_end(input, head_len);
  const bool spilled = r.spilled();
  FUZZ_CHECK(r.method().empty() && r.target().empty());
  // Regression: "HTTP/1.1 20 OK" parsed, and the proxy took any code < 200 for
  // an interim response (head_reader_test.cc StatusCodeOutside100To599IsRejected).
  const int status = r.status_code();
  FUZZ_CHECK(status >= 100 && status <= 599);
  for (size_t i = 0; i < r.header_count(); ++i) {
    const http::Header h = r.header(i);
    check_view(h.name, a, b, spilled, input);
    check_view(h.value, a, b, spilled, input);
    fuzz::check_header(h);
  }

  const http::BodyFraming framing = r.response_framing(head_request);
  if (head_request || !status_has_body(status)) FUZZ_CHECK(framing == http::BodyFraming::kNone);
  if (framing == http::BodyFraming::kContentLength) FUZZ_CHECK(r.content_length() > 0);
  if (framing == http::BodyFraming::kUntilClose) FUZZ_CHECK(!r.keep_alive());

  // Interim responses are dropped by the proxy, 101 is refused.
  if (status >= 200) {
    http::HeaderList headers;
    r.fill(headers);
    http::ConnectionTokens conn;
    conn.parse(headers);
    conn.remove_named(headers);
    http::ClientResponse resp;
    resp.status = status;
    resp.framing = framing;
    resp.content_length = r.content_length();
    resp.head_request = head_request;
    resp.close = !r.keep_alive() || framing == http::BodyFraming::kUntilClose;
    resp.keep_alive = false;
    std::string out;
    http::write_client_response(headers, resp, out);
    fuzz::check_serialised_head(out);

    // The client frames the response the way the upstream did.
    http::HeadReader down(HTTP_RESPONSE);
    down.reset(http::HeadLimits{1 << 20, 1 << 20});
    size_t down_used = 0;
    http::HeadStatus down_st = down.feed(out.data(), out.size(), &down_used);
    if (down_st != http::HeadStatus::kComplete) {
      std::fprintf(stderr, "rebuilt head does not parse: %s\n%s\n", down.error_reason(),
                   out.c_str());
    }
    FUZZ_CHECK(down_st == http::HeadStatus::kComplete);
    FUZZ_CHECK(down_used == out.size());
    FUZZ_CHECK(down.status_code() == status);
    // Regression: an empty body (kNone) of a 200 went out with no length at
    // all, read until close by the client (head_writer_test.cc
    // EmptyBodyIsDelimitedWhenTheStatusAllowsABody).
    const http::BodyFraming got = down.response_framing(head_request);
    FUZZ_CHECK(got == framing);
    if (framing == http::BodyFraming::kContentLength)
      FUZZ_CHECK(down.content_length() == r.content_length());
    // (llhttp's keep-alive verdict on the rebuilt head does not know the
    // request was HEAD, where no length is needed.)
    if (!resp.close && !head_request) FUZZ_CHECK(down.keep_alive());
    if (resp.close) FUZZ_CHECK(!down.keep_alive());
    if (head_request) {
      // The length a GET would have had is passed through.
      for (size_t i = 0; i < r.header_count(); ++i) {
        if (http::iequals(r.header(i).name, "content-length")) {
          bool found = false;
          for (size_t j = 0; j < down.header_count(); ++j)
            found = found || (http::iequals(down.header(j).name, "content-length") &&
                              down.header(j).value == r.header(i).value);
          FUZZ_CHECK(found);
        }
      }
    }
    for (size_t i = 0; i < down.header_count(); ++i) {
      const http::Header h = down.header(i);
      if (http::is_hop_by_hop(h.name)) {
        FUZZ_CHECK(http::iequals(h.name, "content-length") ||
                   http::iequals(h.name, "transfer-encoding") ||
                   http::iequals(h.name, "connection"));
      }
    }
  }

  if (framing == http::BodyFraming::kChunked) {
    uint64_t body_bytes = 0;
    fuzz::feed_chunked_pieces(r, rest, 2, &body_bytes);
  }
  return 0;
}
