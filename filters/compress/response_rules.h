#pragma once
// Which responses get compressed, and the header edits that go with it.
// Pure functions of the request and response heads, so each rule has its
// own unit test (tests/unit/filters/compress/response_rules_test.cc).

#include <cstdint>

#include "engine/filter/filter.h"
#include "filters/compress/compress_config.h"

namespace ringway::filters::compress {

enum class Verdict : uint8_t {
  kSkip,      // not ours to touch: no body, already coded, no-transform, type, size
  kVaryOnly,  // compressible, but this client does not take gzip: say it varies
  kCompress,
};

// The rules, in order: a status that carries a body (not 204, 205, 206, 304,
// and not 1xx), no Content-Encoding yet (never code twice), no Content-Range,
// no Cache-Control: no-transform, a listed Content-Type, a Content-Length of
// at least min_length when one is known (for HEAD, the Content-Length header:
// the engine reports no body); then the client's Accept-Encoding.
// `request` may be null (no request headers: no gzip).
Verdict decide(const CompressConfig& config, const http::RequestHead* request,
               const filter::ResponseHead& response);

// The head of a response about to be gzipped: Content-Encoding: gzip,
// Content-Length and Accept-Ranges removed (byte ranges of the coded body are
// not what the origin meant), strong ETags made weak (the bytes differ from
// the origin's, the meaning does not), Vary: Accept-Encoding merged in.
void rewrite_head_for_gzip(filter::Context& ctx);

// A 304 that validates the gzip variant we made: the client sent
// If-None-Match with W/"x", the weak ETag our rewrite gave it, and the origin
// answers 304 with its strong "x". The 304 then gets the head the 200 had
// (W/"x", Vary: Accept-Encoding), so the client's cache finds its stored
// response by that validator and freshens it (RFC 9111 4.3.4). Only when
// this client takes gzip and did not list the strong "x" as well.
void rewrite_304_for_gzip_variant(filter::Context& ctx);

// Adds Accept-Encoding to Vary unless it is listed already or Vary is "*";
// appends to the first Vary line when there is one.
void add_vary_accept_encoding(filter::Context& ctx);

// True when a comma-separated header value lists `token` (case-insensitive;
// "max-age=0"-style arguments are ignored for the comparison).
bool list_has_token(std::string_view value, std::string_view token);

}  // namespace ringway::filters::compress
