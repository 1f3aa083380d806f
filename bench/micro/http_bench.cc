// Micro benchmarks of the request path's user-space pieces: head parsing,
// head serialisation, target normalisation and routing. No sockets, no ring.
//
//   ninja -C build-micro -j2 ringway-micro-http
//   build-micro/bin/ringway-micro-http --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// Every benchmark checks its result once before timing and aborts on a
// surprise, so a change that makes a path fail (and get faster) is noticed.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "engine/http/head_reader.h"
#include "engine/http/head_writer.h"
#include "engine/http/request_head.h"
#include "engine/routing/path.h"
#include "engine/routing/router.h"

namespace {

using namespace ringway;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

// What curl sends: 91 bytes, 3 headers.
constexpr std::string_view kCurlGet =
    "GET /api/v1/users?id=1 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: curl/8.5.0\r\n"
    "Accept: */*\r\n"
    "\r\n";

// A browser navigation: 12 headers, ~600 bytes.
constexpr std::string_view kBrowserGet =
    "GET /static/app/main.3f9a1c.js?v=20240611 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Referer: https://www.example.com/dashboard/overview\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Cookie: session=8c1f0e2b9d4a47f3a6b5c2d1e0f9a8b7; theme=dark; lang=en-US\r\n"
    "\r\n";

// A typical upstream response head (small JSON API answer) and a larger one
// (static asset with caching headers).
constexpr std::string_view kSmallResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 27\r\n"
    "Date: Mon, 23 Nov 2026 14:59:11 GMT\r\n"
    "\r\n";

constexpr std::string_view kLargeResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: origin/1.0\r\n"
    "Date: Mon, 23 Nov 2026 14:59:11 GMT\r\n"
    "Content-Type: application/javascript; charset=utf-8\r\n"
    "Content-Length: 184223\r\n"
    "Connection: keep-alive\r\n"
    "Last-Modified: Tue, 11 Jun 2024 08:12:44 GMT\r\n"
    "ETag: \"66680a3c-2cf9f\"\r\n"
    "Cache-Control: public, max-age=31536000, immutable\r\n"
    "Vary: Accept-Encoding\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
    "\r\n";

http::HeadLimits limits() { return {}; }

void feed_all(http::HeadReader& r, std::string_view head) {
  r.reset(limits());
  size_t used = 0;
  CHECK(r.feed(head.data(), head.size(), &used) == http::HeadStatus::kComplete);
  CHECK(used == head.size());
}

// ---------------------------------------------------------------------------
// HeadReader::feed (reset + one feed: what every request pays).

void BM_Feed(benchmark::State& state, std::string_view head, llhttp_type_t type) {
  http::HeadReader r(type);
  feed_all(r, head);
  for (auto _ : state) {
    r.reset(limits());
    size_t used = 0;
    http::HeadStatus s = r.feed(head.data(), head.size(), &used);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(used);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * head.size()));
  state.counters["head_bytes"] = static_cast<double>(head.size());
}
BENCHMARK_CAPTURE(BM_Feed, curl, kCurlGet, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_Feed, browser, kBrowserGet, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_Feed, response_small, kSmallResponse, HTTP_RESPONSE);
BENCHMARK_CAPTURE(BM_Feed, response_large, kLargeResponse, HTTP_RESPONSE);

// The head split in two receive buffers (cut in the middle of a header line):
// the first part is copied into the spill buffer, the second is appended.
void BM_FeedSplit(benchmark::State& state, std::string_view head) {
  http::HeadReader r(HTTP_REQUEST);
  const size_t cut = head.size() / 2;
  // The caller's buffers: the second feed must not see the first's memory.
  std::string a(head.substr(0, cut)), b(head.substr(cut));
  {
    r.reset(limits());
    size_t used = 0;
    CHECK(r.feed(a.data(), a.size(), &used) == http::HeadStatus::kIncomplete);
    CHECK(r.feed(b.data(), b.size(), &used) == http::HeadStatus::kComplete);
    CHECK(used == b.size() && r.spilled());
  }
  for (auto _ : state) {
    r.reset(limits());
    size_t used = 0;
    http::HeadStatus s1 = r.feed(a.data(), a.size(), &used);
    http::HeadStatus s2 = r.feed(b.data(), b.size(), &used);
    benchmark::DoNotOptimize(s1);
    benchmark::DoNotOptimize(s2);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * head.size()));
}
BENCHMARK_CAPTURE(BM_FeedSplit, curl, kCurlGet);
BENCHMARK_CAPTURE(BM_FeedSplit, browser, kBrowserGet);

// What read_head/start_request do with a complete head: feed, own_head()
// (copy out of the receive buffer), fill() the header list.
void BM_FeedOwnFill(benchmark::State& state, std::string_view head) {
  http::HeadReader r(HTTP_REQUEST);
  http::HeaderList headers;
  feed_all(r, head);
  r.own_head();
  r.fill(headers);
  CHECK(headers.size() == r.header_count());
  for (auto _ : state) {
    r.reset(limits());
    size_t used = 0;
    http::HeadStatus s = r.feed(head.data(), head.size(), &used);
    r.own_head();
    r.fill(headers);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(headers.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * head.size()));
}
BENCHMARK_CAPTURE(BM_FeedOwnFill, curl, kCurlGet);
BENCHMARK_CAPTURE(BM_FeedOwnFill, browser, kBrowserGet);

// own_head() + fill() alone, on readers that already hold the parsed head.
// own_head() is a no-op once a reader has spilled, so a batch of readers is
// re-fed with the timer paused; the pause costs ~0.5 us, paid once per batch
// of kBatch heads. Read the per_head counter (seconds per head), not Time
// (which is per batch).
constexpr int kBatch = 256;
void BM_OwnFill(benchmark::State& state, std::string_view head) {
  std::vector<std::unique_ptr<http::HeadReader>> readers;
  for (int i = 0; i < kBatch; ++i)
    readers.push_back(std::make_unique<http::HeadReader>(HTTP_REQUEST));
  http::HeaderList headers;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& r : readers) feed_all(*r, head);
    state.ResumeTiming();
    for (auto& r : readers) {
      r->own_head();
      r->fill(headers);
      benchmark::DoNotOptimize(headers.data());
    }
  }
  state.counters["per_head"] = benchmark::Counter(
      kBatch, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(BM_OwnFill, curl, kCurlGet);
BENCHMARK_CAPTURE(BM_OwnFill, browser, kBrowserGet);

// ---------------------------------------------------------------------------
// Head writers.

struct ParsedRequest {
  http::HeadReader reader{HTTP_REQUEST};
  http::RequestHead head;
  http::ConnectionTokens conn;
  routing::TargetParts parts;

  explicit ParsedRequest(std::string_view text) {
    feed_all(reader, text);
    reader.own_head();
    reader.fill(head.headers);
    head.method = reader.method();
    head.target = reader.target();
    head.version_minor = reader.version_minor();
    conn.parse(head.headers);
    conn.remove_named(head.headers);
    CHECK(routing::normalize_target(head.target, parts) == nullptr);
    head.path = parts.path;
    head.query = parts.query;
    const http::Header* host = head.find("host");
    CHECK(host != nullptr);
    head.host = host->value;
  }
};

void BM_WriteUpstreamRequest(benchmark::State& state, std::string_view text) {
  ParsedRequest p(text);
  http::UpstreamRequest req;
  req.path = p.head.path;
  req.query = p.head.query;
  req.host = p.head.host;
  req.client_addr = "192.0.2.17";
  std::string out;
  out.reserve(4096);
  http::write_upstream_request(p.head, req, out);
  CHECK(out.starts_with("GET ") && out.ends_with("\r\n\r\n"));
  state.counters["out_bytes"] = static_cast<double>(out.size());
  for (auto _ : state) {
    out.clear();
    http::write_upstream_request(p.head, req, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK_CAPTURE(BM_WriteUpstreamRequest, curl, kCurlGet);
BENCHMARK_CAPTURE(BM_WriteUpstreamRequest, browser, kBrowserGet);

void BM_WriteClientResponse(benchmark::State& state, std::string_view text) {
  http::HeadReader r(HTTP_RESPONSE);
  feed_all(r, text);
  http::HeaderList headers;
  r.fill(headers);
  http::ConnectionTokens tokens;
  tokens.parse(headers);
  tokens.remove_named(headers);
  http::ClientResponse resp;
  resp.status = r.status_code();
  resp.framing = r.response_framing(false);
  resp.content_length = r.content_length();
  std::string out;
  out.reserve(4096);
  http::write_client_response(headers, resp, out);
  CHECK(out.starts_with("HTTP/1.1 200 ") && out.ends_with("\r\n\r\n"));
  state.counters["out_bytes"] = static_cast<double>(out.size());
  for (auto _ : state) {
    out.clear();
    http::write_client_response(headers, resp, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK_CAPTURE(BM_WriteClientResponse, small_4hdr, kSmallResponse);
BENCHMARK_CAPTURE(BM_WriteClientResponse, large_13hdr, kLargeResponse);

// ---------------------------------------------------------------------------
// routing::normalize_target.

void BM_NormalizeTarget(benchmark::State& state, std::string_view target,
                        std::string_view expect_path) {
  routing::TargetParts parts;
  CHECK(routing::normalize_target(target, parts) == nullptr);
  if (parts.path != expect_path) {
    std::fprintf(stderr, "normalize_target(%.*s) = %s, expected %.*s\n",
                 static_cast<int>(target.size()), target.data(), parts.path.c_str(),
                 static_cast<int>(expect_path.size()), expect_path.data());
    std::abort();
  }
  for (auto _ : state) {
    const char* err = routing::normalize_target(target, parts);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(parts.path.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * target.size()));
}
BENCHMARK_CAPTURE(BM_NormalizeTarget, fast, "/api/v1/users?id=1", "/api/v1/users");
BENCHMARK_CAPTURE(BM_NormalizeTarget, fast_long,
                  "/static/app/main.3f9a1c.js?v=20240611", "/static/app/main.3f9a1c.js");
BENCHMARK_CAPTURE(BM_NormalizeTarget, slow_escapes_dots,
                  "/public/./a%2Db/../%7euser//docs/%2e%2e/files/r%C3%A9sum%c3%a9.pdf?x=1",
                  "/public/~user/files/r%C3%A9sum%C3%A9.pdf");

// ---------------------------------------------------------------------------
// Router::match over N prefix routes, one upstream.

struct RouterFixture {
  config::Config config;
  std::unique_ptr<routing::Router> router;

  explicit RouterFixture(int n) {
    config::Upstream up;
    up.name = "backend";
    config.upstreams.push_back(std::move(up));
    config.routes.reserve(n);
    for (int i = 0; i < n; ++i) {
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "/svc%03d", i);
      config::Route r;
      r.name = "routes[" + std::to_string(i) + "]";
      r.match.path_kind = config::PathMatchKind::kPrefix;
      r.match.path = prefix;
      r.upstream = "backend";
      r.upstream_index = 0;
      config.routes.push_back(std::move(r));
    }
    std::string error;
    router = routing::Router::build(config, &error);
    CHECK(router != nullptr);
    CHECK(router->size() == static_cast<size_t>(n));
  }
};

void BM_RouterMatch(benchmark::State& state, bool last) {
  const int n = static_cast<int>(state.range(0));
  RouterFixture f(n);
  const int target = last ? n - 1 : 0;
  char path[64];
  std::snprintf(path, sizeof path, "/svc%03d/items/42", target);
  http::RequestHead head;
  head.method = "GET";
  head.path = path;
  head.host = "api.example.com:8080";
  head.headers.push_back({"Host", "api.example.com:8080"});
  const config::Route* want = &f.config.routes[target];
  CHECK(f.router->match(head) == want);
  for (auto _ : state) {
    const config::Route* r = f.router->match(head);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_RouterMatch, first, false)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK_CAPTURE(BM_RouterMatch, last, true)->Arg(1)->Arg(8)->Arg(10)->Arg(100)->Arg(1000);

// ---------------------------------------------------------------------------
// The whole user-space request path for one request, as start_request runs it:
// feed, own_head, fill, Connection tokens, normalize, match (10 routes, last),
// rewrite, write_upstream_request.

void BM_RequestPath(benchmark::State& state, std::string_view text) {
  RouterFixture f(10);
  // Point the request at the last route.
  std::string req_text(text);
  const size_t sp = req_text.find(' ');
  req_text.insert(sp + 1, "/svc009");
  http::HeadReader reader(HTTP_REQUEST);
  http::RequestHead head;
  http::ConnectionTokens conn;
  routing::TargetParts parts;
  std::string scratch_path, out;
  out.reserve(4096);
  scratch_path.reserve(256);
  auto run = [&]() -> bool {
    reader.reset(limits());
    size_t used = 0;
    if (reader.feed(req_text.data(), req_text.size(), &used) != http::HeadStatus::kComplete)
      return false;
    reader.own_head();
    reader.fill(head.headers);
    head.method = reader.method();
    head.target = reader.target();
    head.version_minor = reader.version_minor();
    conn.reset();
    conn.parse(head.headers);
    conn.remove_named(head.headers);
    const http::Header* host = nullptr;
    for (const auto& h : head.headers)
      if (http::iequals(h.name, "host")) host = &h;
    if (routing::normalize_target(head.target, parts) != nullptr) return false;
    head.path.swap(parts.path);
    head.query = parts.query;
    head.host = host != nullptr ? host->value : std::string_view{};
    const config::Route* route = f.router->match(head);
    if (route == nullptr) return false;
    routing::rewrite_path(*route, head.path, scratch_path);
    http::UpstreamRequest req;
    req.path = scratch_path;
    req.query = head.query;
    req.host = head.host;
    req.client_addr = "192.0.2.17";
    out.clear();
    http::write_upstream_request(head, req, out);
    return true;
  };
  CHECK(run());
  CHECK(f.router->match(head) == &f.config.routes[9]);
  for (auto _ : state) {
    bool ok = run();
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK_CAPTURE(BM_RequestPath, curl, kCurlGet);
BENCHMARK_CAPTURE(BM_RequestPath, browser, kBrowserGet);

}  // namespace

BENCHMARK_MAIN();
