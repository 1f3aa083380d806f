#include "filters/compress/whole_body.h"

#include <libdeflate.h>

namespace ringway::filters::compress {

WholeBodyGzip::~WholeBodyGzip() {
  if (compressor_ != nullptr) libdeflate_free_compressor(compressor_);
}

bool WholeBodyGzip::ready() {
  if (compressor_ == nullptr) compressor_ = libdeflate_alloc_compressor(level_);
  return compressor_ != nullptr;
}

std::optional<std::string_view> WholeBodyGzip::compress(std::string_view body, OutBuffer& out) {
  if (!ready()) return std::nullopt;
  out.reserve(libdeflate_gzip_compress_bound(compressor_, body.size()));
  const char* in = body.empty() ? "" : body.data();  // never a null pointer, even for nothing
  size_t n = libdeflate_gzip_compress(compressor_, in, body.size(), out.data(), out.capacity());
  if (n == 0) return std::nullopt;  // cannot happen with the bound's room
  return std::string_view(out.data(), n);
}

}  // namespace ringway::filters::compress
