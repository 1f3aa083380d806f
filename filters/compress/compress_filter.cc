// The compress filter: decides in the response-head phase (response_rules.h),
// then gzips the body pieces. Three paths, from bench/micro/filter_compress.cc:
//   - the whole body in one piece: libdeflate on it directly;
//   - a known Content-Length up to kGatherMax: pieces are gathered and
//     libdeflate runs once at the last one;
//   - anything else: a pooled zlib stream, given back at the end, or in the
//     log phase when the exchange was cut short.

#include "filters/compress/compress_filter.h"

#include <algorithm>
#include <cstring>

#include "filters/compress/compress_config.h"
#include "filters/compress/gzip_stream.h"
#include "filters/compress/response_rules.h"
#include "filters/compress/whole_body.h"

namespace ringway::filters {
namespace {

using namespace compress;
using filter::Context;
using filter::Outcome;

// Bodies of a known length up to this are gathered and compressed whole:
// libdeflate runs about 2.5x as fast as streaming zlib on them (BM_Filter at
// 64 KiB), and the gathered bytes plus their output (2 x 128 KiB at most)
// take about what a zlib stream's state alone would (256 KiB). The client
// waits for the whole body before the first compressed byte, but zlib, which
// does not flush per piece, holds back tens of KiB of text anyway.
constexpr int64_t kGatherMax = 128 * 1024;

struct Worker final : filter::WorkerState {
  explicit Worker(int level) : streams(level), whole(level) {}
  DeflatePool streams;
  WholeBodyGzip whole;
};

// One response being compressed. What it needs (a zlib stream or the
// worker's libdeflate compressor) is secured in the head phase, so a worker
// that cannot allocate sends the response uncompressed instead of failing
// halfway through a body already announced as gzip.
struct Request final : filter::RequestState {
  GzipStream stream;   // its buffer also takes libdeflate's output
  OutBuffer gathered;  // gather path: the body so far
  size_t gathered_size = 0;
  size_t expected = 0;  // gather path: the Content-Length
  bool gather = false;
  bool started = false;  // a piece has been seen
  bool done = false;     // the gzip member is complete (or failed)
};

class CompressFilter final : public filter::Filter {
 public:
  explicit CompressFilter(CompressConfig config) : config_(std::move(config)) {}

  uint8_t phases() const override {
    return filter::kResponseHead | filter::kResponseBody | filter::kLog;
  }

  std::unique_ptr<filter::WorkerState> make_worker_state(uint32_t) const override {
    return std::make_unique<Worker>(config_.level);
  }

  Outcome on_response_head(Context& ctx) const override {
    switch (decide(config_, ctx.request, ctx.response)) {
      case Verdict::kSkip:
        rewrite_304_for_gzip_variant(ctx);
        return Outcome::kProceed;
      case Verdict::kVaryOnly:
        add_vary_accept_encoding(ctx);
        return Outcome::kProceed;
      case Verdict::kCompress:
        break;
    }
    // HEAD gets the head a GET would. The engine sends no body for it; it
    // may still pass a filter-made body through, to state its length.
    if (!prepare(ctx)) return Outcome::kProceed;
    rewrite_head_for_gzip(ctx);
    ctx.response.body_rewritten = true;
    return Outcome::kProceed;
  }

  std::string_view on_response_body(Context& ctx, std::string_view piece, bool last) const override {
    Request* state = ctx.state_if_any<Request>();
    if (state == nullptr || state->done) return {};
    Worker& worker = ctx.worker<Worker>();
    std::optional<std::string_view> out;
    if (!state->started && last) {
      // The whole body in hand: no copy, one libdeflate pass.
      out = worker.whole.compress(piece, state->stream.buffer());
      if (!out) out = state->stream.write(piece, true);
    } else if (state->gather) {
      gather(*state, piece);
      if (last) out = worker.whole.compress({state->gathered.data(), state->gathered_size},
                                            state->stream.buffer());
      else out = std::string_view();
    } else {
      out = state->stream.write(piece, last);
    }
    state->started = true;
    if (last || !out) finish(*state, worker);
    // An error cannot be undone once Content-Encoding: gzip went out; the
    // client gets a truncated member and rejects it rather than wrong bytes.
    return out.value_or(std::string_view());
  }

  void on_log(Context& ctx) const override {
    Request* state = ctx.state_if_any<Request>();
    if (state == nullptr) return;
    finish(*state, ctx.worker<Worker>());
    state->stream.buffer().release();
  }

 private:
  // Picks the body path and secures what it needs; false: do not compress.
  static bool prepare(Context& ctx) {
    Worker& worker = ctx.worker<Worker>();
    Request& state = ctx.state<Request>();
    const int64_t length = ctx.response.content_length;
    if (length >= 0 && length <= kGatherMax && worker.whole.ready()) {
      state.gather = true;
      state.expected = static_cast<size_t>(length);
    } else if (!state.stream.begin(worker.streams)) {
      return false;
    }
    ctx.watch_response_body();
    return true;
  }

  static void gather(Request& state, std::string_view piece) {
    size_t need = state.gathered_size + piece.size();
    // The engine delivers exactly Content-Length bytes; growing past it is
    // only a guard, doubling so that it stays linear.
    if (need > state.gathered.capacity())
      state.gathered.reserve(std::max({need, state.expected, 2 * state.gathered.capacity()}),
                             state.gathered_size);
    if (!piece.empty()) std::memcpy(state.gathered.data() + state.gathered_size, piece.data(), piece.size());
    state.gathered_size = need;
  }

  static void finish(Request& state, Worker& worker) {
    state.done = true;
    if (state.stream.active()) state.stream.end(worker.streams);
    state.gathered.release();
  }

  CompressConfig config_;
};

}  // namespace

std::shared_ptr<const filter::Filter> compile_compress(const FilterBuild& build) {
  return std::make_shared<CompressFilter>(read_compress_config(build.field, build.spec.name));
}

}  // namespace ringway::filters
