#include "filters/compress/gzip_stream.h"

#include <algorithm>

namespace ringway::filters::compress {

DeflatePool::~DeflatePool() {
  for (z_stream* z : idle_) destroy(z);
}

void DeflatePool::destroy(z_stream* z) {
  deflateEnd(z);
  delete z;
}

z_stream* DeflatePool::acquire() {
  if (!idle_.empty()) {
    z_stream* z = idle_.back();
    idle_.pop_back();
    return z;
  }
  // Heap-allocated: zlib's state points back at its z_stream, so it must not move.
  auto* z = new z_stream{};
  // windowBits + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(z, level_, Z_DEFLATED, kWindowBits + 16, kMemLevel, Z_DEFAULT_STRATEGY) != Z_OK) {
    delete z;
    return nullptr;
  }
  return z;
}

void DeflatePool::release(z_stream* z) {
  if (z == nullptr) return;
  if (idle_.size() >= max_idle_) {
    destroy(z);
    return;
  }
  // An untouched stream needs no reset (which clears 64 KiB of hash heads).
  if ((z->total_in != 0 || z->total_out != 0) && deflateReset(z) != Z_OK) {
    destroy(z);
    return;
  }
  idle_.push_back(z);
}

GzipStream::~GzipStream() {
  if (z_ != nullptr) DeflatePool::destroy(z_);
}

bool GzipStream::begin(DeflatePool& pool) {
  if (z_ == nullptr) z_ = pool.acquire();
  return z_ != nullptr;
}

void GzipStream::end(DeflatePool& pool) {
  pool.release(z_);
  z_ = nullptr;
}

std::optional<std::string_view> GzipStream::write(std::string_view piece, bool last) {
  if (z_ == nullptr) return std::nullopt;
  if (piece.empty() && !last) return std::string_view();
  const int flush = last ? Z_FINISH : Z_NO_FLUSH;
  // Room for this piece's worst case; more is needed only when zlib releases
  // a block that earlier pieces filled, which the loop below handles.
  out_.reserve(deflateBound(z_, piece.size()));
  z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
  z_->avail_in = static_cast<uInt>(piece.size());
  size_t used = 0;
  while (true) {
    z_->next_out = reinterpret_cast<Bytef*>(out_.data() + used);
    z_->avail_out = static_cast<uInt>(out_.capacity() - used);
    int rc = deflate(z_, flush);
    used = out_.capacity() - z_->avail_out;
    if (rc == Z_STREAM_ERROR) return std::nullopt;
    if (rc == Z_STREAM_END) break;
    // All input taken and room left over: zlib has nothing more to give now.
    if (!last && z_->avail_in == 0 && z_->avail_out != 0) break;
    // Z_BUF_ERROR with room left means no progress is possible at all.
    if (z_->avail_out != 0) return std::nullopt;
    // Out of room: what zlib held back from earlier pieces is at most
    // kPendingBytes, so one step normally ends it, and the buffer stays
    // within deflateBound(piece) + kPendingBytes.
    out_.reserve(out_.capacity() + kPendingBytes, used);
  }
  return std::string_view(out_.data(), used);
}

}  // namespace ringway::filters::compress
