#include "filters/compress/response_rules.h"

#include <string>

#include "filters/compress/accept_encoding.h"
#include "engine/http/field_value.h"

namespace ringway::filters::compress {
namespace {

const http::Header* find(const http::HeaderList& headers, std::string_view name) {
  for (const auto& h : headers)
    if (http::iequals(h.name, name)) return &h;
  return nullptr;
}

bool any_has_token(const http::HeaderList& headers, std::string_view name, std::string_view token) {
  for (const auto& h : headers)
    if (http::iequals(h.name, name) && list_has_token(h.value, token)) return true;
  return false;
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 205 && status != 206 && status != 304;
}

// The body length to compare with min_length, -1 when unknown. A response to
// HEAD carries no body (the engine reports 0); its Content-Length header says
// what a GET would carry, and HEAD should get the head a GET would.
int64_t body_length(const http::RequestHead* request, const filter::ResponseHead& response) {
  if (request == nullptr || request->method != "HEAD") return response.content_length;
  const http::Header* cl = find(response.headers, "content-length");
  // A filter's own answer has no Content-Length field yet, only its length.
  if (cl == nullptr) return response.content_length > 0 ? response.content_length : -1;
  return http::parse_digits(http::trim_ows(cl->value));
}

// Everything about the response alone; the client's side comes after.
bool compressible(const CompressConfig& config, const filter::ResponseHead& response, int64_t length) {
  if (!status_has_body(response.status)) return false;
  for (const auto& h : response.headers) {
    // Any coding, even an unknown one, means the bytes are not ours to read.
    if (http::iequals(h.name, "content-encoding") && !http::trim_ows(h.value).empty()) return false;
    if (http::iequals(h.name, "content-range")) return false;
    // Digests of the content (RFC 9530, RFC 1864, RFC 3230) would no longer
    // match the coded bytes: a client checking them would refuse them all.
    if (http::iequals(h.name, "content-digest") || http::iequals(h.name, "repr-digest") ||
        http::iequals(h.name, "content-md5") || http::iequals(h.name, "digest"))
      return false;
  }
  if (any_has_token(response.headers, "cache-control", "no-transform")) return false;
  const http::Header* type = find(response.headers, "content-type");
  if (type == nullptr || !config.types.matches(type->value)) return false;
  // An empty body stays empty: "gzip" on zero bytes is no gzip member.
  if (length == 0 || (length > 0 && static_cast<uint64_t>(length) < config.min_length)) return false;
  return true;
}

}  // namespace

bool list_has_token(std::string_view value, std::string_view token) {
  std::string_view element;
  while (http::next_list_element(value, element))
    if (http::iequals(http::trim_ows(element.substr(0, element.find('='))), token)) return true;
  return false;
}

Verdict decide(const CompressConfig& config, const http::RequestHead* request,
               const filter::ResponseHead& response) {
  if (!compressible(config, response, body_length(request, response))) return Verdict::kSkip;
  if (request != nullptr && client_accepts_gzip(request->headers)) return Verdict::kCompress;
  return Verdict::kVaryOnly;
}

void add_vary_accept_encoding(filter::Context& ctx) {
  http::Header* first = nullptr;
  for (auto& h : ctx.response.headers) {
    if (!http::iequals(h.name, "vary")) continue;
    if (list_has_token(h.value, "accept-encoding") || list_has_token(h.value, "*")) return;
    if (first == nullptr) first = &h;
  }
  if (first == nullptr) {
    // Literals outlive the request, so they need no copy into ctx.keep().
    ctx.response.headers.push_back({"Vary", "Accept-Encoding"});
  } else if (http::trim_ows(first->value).empty()) {
    first->value = "Accept-Encoding";
  } else {
    std::string merged(first->value);
    merged += ", Accept-Encoding";
    first->value = ctx.keep(merged);
  }
}

void rewrite_head_for_gzip(filter::Context& ctx) {
  ctx.remove_response_header("content-length");
  ctx.remove_response_header("accept-ranges");
  ctx.remove_response_header("content-encoding");  // an empty one, if any
  ctx.response.headers.push_back({"Content-Encoding", "gzip"});
  for (auto& h : ctx.response.headers) {
    if (!http::iequals(h.name, "etag")) continue;
    std::string_view tag = http::trim_ows(h.value);
    if (tag.starts_with("W/") || tag.empty()) continue;
    h.value = ctx.keep(std::string("W/").append(tag));
  }
  add_vary_accept_encoding(ctx);
}

void rewrite_304_for_gzip_variant(filter::Context& ctx) {
  // Only for a client that would get gzip: another one's cache may hold
  // both copies and would pick the stored one by this validator.
  if (ctx.response.status != 304 || ctx.request == nullptr ||
      !client_accepts_gzip(ctx.request->headers))
    return;
  for (auto& h : ctx.response.headers) {
    if (!http::iequals(h.name, "etag")) continue;
    std::string_view tag = http::trim_ows(h.value);
    if (tag.empty() || tag.starts_with("W/")) return;
    const std::string weak = std::string("W/").append(tag);
    bool weak_listed = false;
    for (const auto& r : ctx.request->headers) {
      if (!http::iequals(r.name, "if-none-match")) continue;
      std::string_view rest = r.value, member;
      while (http::next_list_element(rest, member)) {
        if (member == tag) return;  // the client holds the origin's own copy too
        weak_listed |= member == weak;
      }
    }
    if (weak_listed) {
      h.value = ctx.keep(weak);
      add_vary_accept_encoding(ctx);
    }
    return;
  }
}

}  // namespace ringway::filters::compress
