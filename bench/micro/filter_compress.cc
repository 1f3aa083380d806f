// Micro benchmarks of the compress filter (filters/compress/): MB/s per core
// of gzip on HTML- and JSON-like text, and the measurements behind its
// choices (docs/filters/compress.md quotes the numbers):
//
//   BM_Stream/<corpus>/<level>    zlib streaming in 16 KiB pieces (GzipStream)
//   BM_Whole/<corpus>/<level>     libdeflate on the whole body (WholeBodyGzip)
//   BM_SmallStream/<size>/<pool>  a small body through zlib, stream from the
//                                 pool (1) or made and freed per body (0)
//   BM_SmallWhole/<size>          the same body through libdeflate
//   BM_MemLevel/<memLevel>        raw zlib, level 6, memLevel 5..9 (ratio vs state size)
//   BM_Filter/<corpus>/<KiB>/<mode>  the whole filter (head, body, log): the
//                                 body in one piece (0), in 16 KiB pieces with
//                                 Content-Length (1: gathered up to 128 KiB),
//                                 or in 16 KiB pieces of unknown length (2)
//
// Bytes per second are of uncompressed input; the `ratio` counter is
// compressed/original size. The bodies are generated text with a word
// frequency curve, markup, URLs and numbers like real pages and API answers
// (level 6 gives 0.17 on the HTML, 0.23 on the JSON, in the range of real
// ones; the JSON is on the hard side, with many random numbers), not random
// bytes. Every benchmark gunzips its output once before timing and
// aborts on a mismatch.
//
//   cmake --build build-gz -j2 --target ringway-micro-compress
//   taskset -c 1 build-gz/bin/ringway-micro-compress --benchmark_min_time=0.5

#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "filters/compress/compress_config.h"
#include "filters/compress/compress_filter.h"
#include "filters/compress/gzip_stream.h"
#include "filters/compress/whole_body.h"

namespace {

using namespace ringway;
using namespace ringway::filters::compress;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

constexpr size_t kBodyBytes = 256 * 1024;
constexpr size_t kPiece = 16 * 1024;

// ---- Text generation -------------------------------------------------------

struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
};

// Pseudo-words from syllables, picked with a Zipf-like curve (a few words
// very common, a long tail), as words are in prose.
class Words {
 public:
  explicit Words(Rng& rng) : rng_(rng) {
    static const char* kSyl[] = {"a",   "ka",  "to",  "ri",  "men", "sa",  "lo",  "ver", "in",
                                 "de",  "ta",  "po",  "ne",  "ur",  "sti", "bel", "ga",  "mo",
                                 "ci",  "ran", "el",  "fo",  "qu",  "ish", "ton", "pre", "al"};
    for (int i = 0; i < 3000; ++i) {
      std::string w;
      int n = 1 + static_cast<int>(rng_.below(3)) + (i > 200 ? 1 : 0);
      for (int j = 0; j < n; ++j) w += kSyl[rng_.below(27)];
      words_.push_back(w);
    }
    // Cumulative 1/(rank+1) weights.
    double total = 0;
    for (size_t i = 0; i < words_.size(); ++i) cumulative_.push_back(total += 1.0 / (i + 1));
  }
  const std::string& pick() {
    double x = (rng_.next() >> 11) * (1.0 / 9007199254740992.0) * cumulative_.back();
    size_t lo = 0, hi = cumulative_.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (cumulative_[mid] < x) lo = mid + 1; else hi = mid;
    }
    return words_[lo];
  }
  std::string sentence(int min_words, int max_words) {
    int n = min_words + static_cast<int>(rng_.below(max_words - min_words + 1));
    std::string s;
    for (int i = 0; i < n; ++i) {
      std::string w = pick();
      if (i == 0) w[0] = static_cast<char>(w[0] - 32);
      if (i > 0) s += (rng_.below(12) == 0 ? ", " : " ");
      s += w;
    }
    return s + ".";
  }
  std::string slug(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? "-" : "") + pick();
    return s;
  }

 private:
  Rng& rng_;
  std::vector<std::string> words_;
  std::vector<double> cumulative_;
};

std::string make_html(size_t bytes) {
  Rng rng{42};
  Words words(rng);
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Shop | Kitchen and dining</title>\n"
      "<link rel=\"stylesheet\" href=\"/static/css/main.3f9a1c.css\">\n"
      "<script defer src=\"/static/js/app.81b2e0.js\"></script>\n</head>\n<body class=\"page page--list\">\n"
      "<nav class=\"nav\"><ul class=\"nav__list\">\n";
  for (int i = 0; i < 24; ++i)
    s += "  <li class=\"nav__item\"><a class=\"nav__link\" href=\"/c/" + words.slug(2) + "\">" +
         words.pick() + "</a></li>\n";
  s += "</ul></nav>\n<main class=\"grid\">\n";
  while (s.size() < bytes) {
    uint32_t id = 10000 + rng.below(90000);
    std::string ids = std::to_string(id);
    s += "<article class=\"card card--product\" data-id=\"" + ids + "\" data-category=\"" + words.pick() +
         "\">\n  <a class=\"card__link\" href=\"/p/" + ids + "/" + words.slug(3) +
         "\"><img class=\"card__img\" src=\"https://cdn.example.com/img/" + ids +
         "/400x300.jpg\" alt=\"" + words.sentence(2, 4) +
         "\" loading=\"lazy\" width=\"400\" height=\"300\"></a>\n  <h3 class=\"card__title\">" +
         words.sentence(2, 6) + "</h3>\n  <p class=\"card__desc\">" + words.sentence(10, 30) + " " +
         words.sentence(6, 20) + "</p>\n  <div class=\"card__meta\"><span class=\"price\">$" +
         std::to_string(rng.below(300)) + "." + std::to_string(10 + rng.below(90)) +
         "</span> <span class=\"rating\" title=\"" + std::to_string(1 + rng.below(5)) +
         " stars\">" + std::to_string(rng.below(2000)) +
         " reviews</span></div>\n  <button class=\"btn btn--primary\" type=\"button\" data-action=\"add-to-cart\">Add to cart</button>\n</article>\n";
  }
  s.resize(bytes);
  return s;
}

std::string make_json(size_t bytes) {
  Rng rng{7};
  Words words(rng);
  std::string s = "{\"data\":[";
  bool first = true;
  while (s.size() < bytes) {
    uint32_t id = 100000 + rng.below(900000);
    if (!first) s += ",";
    first = false;
    s += "{\"id\":" + std::to_string(id) + ",\"sku\":\"KT-" + std::to_string(id % 9973) +
         "-B\",\"name\":\"" + words.sentence(2, 5) + "\",\"description\":\"" + words.sentence(8, 25) +
         "\",\"price\":" + std::to_string(rng.below(500)) + "." + std::to_string(10 + rng.below(90)) +
         ",\"currency\":\"USD\",\"in_stock\":" + (rng.below(4) ? "true" : "false") +
         ",\"tags\":[\"" + words.pick() + "\",\"" + words.pick() + "\"],\"rating\":{\"average\":" +
         std::to_string(1 + rng.below(4)) + "." + std::to_string(rng.below(10)) +
         ",\"count\":" + std::to_string(rng.below(5000)) + "},\"created_at\":\"2024-0" +
         std::to_string(1 + rng.below(9)) + "-1" + std::to_string(rng.below(10)) + "T0" +
         std::to_string(rng.below(10)) + ":" + std::to_string(10 + rng.below(50)) + ":" +
         std::to_string(10 + rng.below(50)) + "Z\",\"seller\":{\"id\":" + std::to_string(rng.below(2000)) +
         ",\"name\":\"" + words.slug(2) + "\",\"url\":\"https://api.example.com/v2/sellers/" +
         std::to_string(rng.below(2000)) + "\"}}";
  }
  s.resize(bytes);
  return s;
}

const std::string& corpus(int which, size_t bytes = kBodyBytes) {
  static std::string html = make_html(kBodyBytes), json = make_json(kBodyBytes);
  static std::string small[2][8];
  const std::string& full = which == 0 ? html : json;
  if (bytes == kBodyBytes) return full;
  int slot = 0;
  while ((size_t{1024} << slot) < bytes) ++slot;
  std::string& s = small[which][slot];
  if (s.empty()) s = full.substr(0, bytes);
  return s;
}

const char* corpus_name(int which) { return which == 0 ? "html" : "json"; }

std::string gunzip(std::string_view gz) {
  z_stream z{};
  CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    CHECK(rc == Z_OK || rc == Z_STREAM_END);
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// ---- Streaming zlib vs whole-body libdeflate ---------------------------------

size_t stream_once(DeflatePool& pool, std::string_view body, std::string* keep) {
  GzipStream gz;
  CHECK(gz.begin(pool));
  size_t total = 0;
  for (size_t off = 0; off < body.size() || off == 0;) {
    size_t n = std::min(kPiece, body.size() - off);
    bool last = off + n == body.size();
    auto out = gz.write(body.substr(off, n), last);
    CHECK(out.has_value());
    total += out->size();
    if (keep) keep->append(*out);
    off += n;
    if (last) break;
  }
  gz.end(pool);
  return total;
}

void BM_Stream(benchmark::State& state) {
  const std::string& body = corpus(static_cast<int>(state.range(0)));
  DeflatePool pool(static_cast<int>(state.range(1)));
  std::string check;
  stream_once(pool, body, &check);
  CHECK(gunzip(check) == body);
  size_t out = 0;
  for (auto _ : state) out = stream_once(pool, body, nullptr);
  state.SetBytesProcessed(state.iterations() * body.size());
  state.counters["ratio"] = static_cast<double>(out) / body.size();
  state.SetLabel(corpus_name(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_Stream)->ArgsProduct({{0, 1}, {1, 4, 6, 9}});

void BM_Whole(benchmark::State& state) {
  const std::string& body = corpus(static_cast<int>(state.range(0)));
  WholeBodyGzip whole(static_cast<int>(state.range(1)));
  OutBuffer buffer;
  auto first = whole.compress(body, buffer);
  CHECK(first.has_value() && gunzip(*first) == body);
  size_t out = 0;
  for (auto _ : state) out = whole.compress(body, buffer)->size();
  state.SetBytesProcessed(state.iterations() * body.size());
  state.counters["ratio"] = static_cast<double>(out) / body.size();
  state.SetLabel(corpus_name(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_Whole)->ArgsProduct({{0, 1}, {1, 4, 6, 9}});

// ---- Small bodies: pooled stream vs a fresh one, vs libdeflate -------------

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void BM_SmallStream(benchmark::State& state) {
  const std::string& body = corpus(0, static_cast<size_t>(state.range(0)));
  // max_idle 0: every stream is made by deflateInit2 and freed by deflateEnd.
  DeflatePool pool(kDefaultLevel, state.range(1) ? kMaxIdleStreams : 0);
  std::string check;
  stream_once(pool, body, &check);
  CHECK(gunzip(check) == body);
  const long faults_before = minor_faults();
  for (auto _ : state) benchmark::DoNotOptimize(stream_once(pool, body, nullptr));
  state.SetBytesProcessed(state.iterations() * body.size());
  state.counters["faults"] = static_cast<double>(minor_faults() - faults_before) / state.iterations();
  state.SetLabel(state.range(1) ? "pooled" : "fresh");
}
BENCHMARK(BM_SmallStream)->ArgsProduct({{1024, 4096, 16384, 65536}, {0, 1}});

void BM_SmallWhole(benchmark::State& state) {
  const std::string& body = corpus(0, static_cast<size_t>(state.range(0)));
  WholeBodyGzip whole(kDefaultLevel);
  OutBuffer buffer;
  CHECK(gunzip(*whole.compress(body, buffer)) == body);
  for (auto _ : state) benchmark::DoNotOptimize(whole.compress(body, buffer)->size());
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_SmallWhole)->Arg(1024)->Arg(4096)->Arg(16384)->Arg(65536);

// ---- memLevel: state size vs ratio and speed (raw zlib, level 6) ------------

void BM_MemLevel(benchmark::State& state) {
  const int mem_level = static_cast<int>(state.range(0));
  const std::string& body = corpus(static_cast<int>(state.range(1)));
  z_stream z{};
  CHECK(deflateInit2(&z, kDefaultLevel, Z_DEFLATED, 15 + 16, mem_level, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, body.size()) + kPendingBytes, '\0');
  size_t produced = 0;
  for (auto _ : state) {
    CHECK(deflateReset(&z) == Z_OK);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    for (size_t off = 0; off < body.size(); off += kPiece) {
      size_t n = std::min(kPiece, body.size() - off);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + off));
      z.avail_in = static_cast<uInt>(n);
      int rc = deflate(&z, off + n == body.size() ? Z_FINISH : Z_NO_FLUSH);
      CHECK(rc == Z_OK || rc == Z_STREAM_END);
    }
    produced = out.size() - z.avail_out;
  }
  CHECK(gunzip(std::string_view(out.data(), produced)) == body);
  deflateEnd(&z);
  state.SetBytesProcessed(state.iterations() * body.size());
  state.counters["ratio"] = static_cast<double>(produced) / body.size();
  state.counters["state_KiB"] = ((1 << 17) + (1 << (mem_level + 9))) / 1024;
  state.SetLabel(corpus_name(static_cast<int>(state.range(1))));
}
BENCHMARK(BM_MemLevel)->ArgsProduct({{5, 6, 7, 8, 9}, {0, 1}});

// ---- The whole filter --------------------------------------------------------

struct FilterRig {
  config::Config config;
  config::FilterSpec spec;
  std::shared_ptr<const filter::Filter> filter;
  std::unique_ptr<filter::WorkerState> worker;
  filter::WorkerState* worker_ptr = nullptr;
  http::RequestHead request;

  FilterRig() {
    YAML::Node node = YAML::Load("{ type: compress }");
    spec = config::FilterSpec{"gz", "compress", std::make_shared<const YAML::Node>(node), "filters.gz"};
    config::detail::Field field{YAML::Node(), node, spec.path};
    filter = filters::compile_compress(filters::FilterBuild{spec, field, config});
    worker = filter->make_worker_state(0);
    worker_ptr = worker.get();
    request.method = "GET";
    request.headers.push_back({"Accept-Encoding", "gzip, deflate, br, zstd"});
  }

  // One exchange: head, body in `piece`-byte pieces (0: one piece), log.
  // With `known_length` the head carries Content-Length (the gather path
  // for bodies up to 128 KiB), else the length is unknown (streaming).
  size_t run(filter::Context& ctx, std::string_view body, size_t piece, bool known_length,
             std::string* keep) {
    ctx.reset();
    ctx.request = &request;
    ctx.begin(1, &worker_ptr, nullptr, nullptr, 0);
    ctx.enter(0);
    ctx.response.status = 200;
    ctx.response.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
    ctx.response.headers.push_back({"ETag", "\"5f3a-1\""});
    if (known_length) {
      ctx.response.content_length = static_cast<int64_t>(body.size());
      ctx.response.headers.push_back({"Content-Length", ctx.keep(std::to_string(body.size()))});
    }
    CHECK(filter->on_response_head(ctx) == filter::Outcome::kProceed);
    CHECK(ctx.response.body_rewritten);
    size_t total = 0;
    if (piece == 0) piece = body.size();
    for (size_t off = 0; off < body.size(); off += piece) {
      size_t n = std::min(piece, body.size() - off);
      std::string_view out = filter->on_response_body(ctx, body.substr(off, n), off + n == body.size());
      total += out.size();
      if (keep) keep->append(out);
    }
    filter->on_log(ctx);
    return total;
  }
};

// Args: corpus, body KiB, mode (0 one piece, 1 16 KiB pieces with
// Content-Length, 2 16 KiB pieces of unknown length).
void BM_Filter(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const std::string& body = corpus(which, static_cast<size_t>(state.range(1)) * 1024);
  const int mode = static_cast<int>(state.range(2));
  const size_t piece = mode == 0 ? 0 : kPiece;
  FilterRig rig;
  filter::Context ctx;
  std::string check;
  rig.run(ctx, body, piece, mode != 2, &check);
  CHECK(gunzip(check) == body);
  size_t out = 0;
  for (auto _ : state) out = rig.run(ctx, body, piece, mode != 2, nullptr);
  ctx.reset();
  state.SetBytesProcessed(state.iterations() * body.size());
  state.counters["ratio"] = static_cast<double>(out) / body.size();
  static const char* kModes[] = {" one piece", " 16KiB pieces, length known", " 16KiB pieces, chunked"};
  state.SetLabel(std::string(corpus_name(which)) + kModes[mode]);
}
BENCHMARK(BM_Filter)->ArgsProduct({{0, 1}, {16, 64, 256}, {0, 1, 2}});

}  // namespace

BENCHMARK_MAIN();
