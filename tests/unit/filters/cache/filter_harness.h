#pragma once
// Drives the cache filter's phases directly, the way the engine does: a
// filter built from YAML, worker states, a fake origin response per exchange,
// and a clock the test moves.

#include <yaml-cpp/yaml.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"
#include "engine/filter/filter.h"
#include "filters/cache/cache_filter.h"
#include "filters/cache/cache_filter_impl.h"

namespace ringway::filters::cache::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct RecordingResumer final : filter::Resumer {
  std::vector<void*> resumed;
  void resume(void* request, uint32_t) override { resumed.push_back(request); }
  size_t count(void* request) const {
    size_t n = 0;
    for (void* r : resumed) n += r == request;
    return n;
  }
};

// The engine's fetch service, recorded; the test answers each fetch.
struct RecordingServices final : filter::WorkerServices {
  struct Fetch {
    std::string upstream, path;
    Fields headers;
    FetchCallback done;
    std::string header(const std::string& name) const {
      for (const auto& [n, v] : headers)
        if (http::iequals(n, name)) return v;
      return "";
    }
  };
  void wake_at(filter::WorkerState&, int64_t at_ms) override { wakes.push_back(at_ms); }
  std::vector<int64_t> wakes;
  bool fetch(const FetchRequest& request, FetchCallback done) override {
    Fetch f{std::string(request.upstream), std::string(request.path), {}, std::move(done)};
    for (const auto& h : request.headers) f.headers.emplace_back(h.name, h.value);
    fetches.push_back(std::move(f));
    return true;
  }
  void complete(size_t i, int status, Fields headers, std::string_view body = "") {
    http::HeaderList list;
    for (const auto& [n, v] : headers) list.push_back({n, v});
    FetchCallback done = std::move(fetches.at(i).done);
    done(FetchResult{status, &list, body});
  }
  std::vector<Fetch> fetches;
};

// `running`: the filter a reload replaces (FilterBuild::running).
inline std::shared_ptr<const filter::Filter> build_filter(const std::string& yaml, uint32_t workers = 1,
                                                          const filter::Filter* running = nullptr) {
  YAML::Node n = YAML::Load(yaml);
  config::FilterSpec spec{"c", "cache", std::make_shared<const YAML::Node>(n), "filters.c"};
  config::detail::Field field{YAML::Node(), n, "filters.c"};
  config::Config cfg;
  cfg.source_file = "test.yaml";
  cfg.engine.workers = workers;
  return compile_cache(FilterBuild{spec, field, cfg, nullptr, running});
}

// What the client got.
struct Result {
  filter::Outcome outcome = filter::Outcome::kProceed;
  bool from_origin = false;
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names, last wins
  std::string body;
  std::string header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has(const std::string& lower) const { return headers.count(lower) != 0; }
};

// The origin's answer for one exchange.
struct Origin {
  int status = 200;
  Fields headers;
  std::string body = "hello";
  bool chunked = false;  // no Content-Length
};

class Cache {
 public:
  explicit Cache(const std::string& yaml, uint32_t workers = 1, const filter::Filter* running = nullptr)
      : filter_(build_filter(yaml, workers, running)) {
    for (uint32_t i = 0; i < workers; ++i) workers_.push_back(filter_->make_worker_state(i));
    for (auto& w : workers_) raw_.push_back(w.get());  // stable: contexts point here
  }
  const filter::Filter& filter() const { return *filter_; }
  const CacheFilter& impl() const { return static_cast<const CacheFilter&>(*filter_); }
  CacheWorker& worker(size_t i = 0) { return static_cast<CacheWorker&>(*workers_[i]); }
  filter::WorkerState* const* worker_slot(size_t i) { return &raw_[i]; }
  RecordingResumer resumer;
  // With use_services, requests carry a route (upstream "origin", strip
  // /api) and the fetch service, as in the engine: background revalidation.
  RecordingServices services;
  config::Route route;
  bool use_services = false;
  int64_t now_ms = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  void advance(int64_t seconds) { now_ms += seconds * 1000; }

 private:
  std::shared_ptr<const filter::Filter> filter_;
  std::vector<std::unique_ptr<filter::WorkerState>> workers_;
  std::vector<filter::WorkerState*> raw_;
};

// One request through the filter, phase by phase.
class Exchange {
 public:
  Exchange(Cache& cache, std::string method, std::string path, Fields headers = {}, size_t worker = 0,
           std::string host = "test.local", std::string query = "")
      : cache_(cache) {
    method_ = std::move(method);
    path_ = std::move(path);
    host_ = std::move(host);
    query_ = std::move(query);
    head_.method = method_;
    head_.path = path_;
    head_.target = path_;
    head_.query = query_;
    head_.host = host_;
    for (auto& [n, v] : headers) {
      strings_.push_back(n);
      std::string_view name = strings_.back();
      strings_.push_back(v);
      head_.headers.push_back({name, strings_.back()});
    }
    ctx_.request = &head_;
    ctx_.worker_index = static_cast<uint32_t>(worker);
    ctx_.begin(1, cache_.worker_slot(worker), &cache_.resumer, this, 1);
    if (cache_.use_services) {
      cache_.route.upstream = "origin";
      cache_.route.strip_prefix = "/api";
      ctx_.route = &cache_.route;
      ctx_.services = &cache_.services;
    }
  }

  // A WebSocket handshake the route lets through (what the engine marks).
  void mark_upgrade() { head_.upgrade = true; }

  // The route the request took (by default none, or the services route).
  void take_route(const config::Route* route) { ctx_.route = route; }

  filter::Outcome request() {
    tick();
    ctx_.enter(0);
    outcome_ = cache_.filter().on_request_head(ctx_);
    return outcome_;
  }

  // The origin answers: response head, body pieces, log. Returns what the client got.
  Result respond(const Origin& origin, size_t piece_size = 3) {
    tick();
    ctx_.response.status = origin.status;
    ctx_.response.headers.clear();
    for (auto& [n, v] : origin.headers) add_response(n, v);
    std::string length = std::to_string(origin.body.size());
    if (!origin.chunked) add_response("Content-Length", length);
    ctx_.response.content_length = origin.chunked ? -1 : static_cast<int64_t>(origin.body.size());
    ctx_.enter(0);
    outcome_ = cache_.filter().on_response_head(ctx_);
    Result r;
    if (outcome_ == filter::Outcome::kRespond) {
      r = local();
      r.from_origin = true;
      log();
      return r;
    }
    r.outcome = outcome_;
    r.from_origin = true;
    r.status = ctx_.response.status;
    for (const auto& h : ctx_.response.headers) r.headers[lower(h.name)] = std::string(h.value);
    if (ctx_.body_watchers() != 0) {
      std::string_view rest = origin.body;
      do {
        std::string_view piece = rest.substr(0, piece_size);
        rest.remove_prefix(piece.size());
        r.body += cache_.filter().on_response_body(ctx_, piece, rest.empty());
      } while (!rest.empty());
    } else {
      r.body = origin.body;
    }
    log();
    return r;
  }

  // Response head only (for tests that stop in the middle).
  filter::Outcome response_head(const Origin& origin) {
    tick();
    ctx_.response.status = origin.status;
    for (auto& [n, v] : origin.headers) add_response(n, v);
    ctx_.response.content_length = origin.chunked ? -1 : static_cast<int64_t>(origin.body.size());
    ctx_.enter(0);
    return outcome_ = cache_.filter().on_response_head(ctx_);
  }
  std::string_view body_piece(std::string_view piece, bool last) {
    return cache_.filter().on_response_body(ctx_, piece, last);
  }

  void log(bool aborted = false) {
    ctx_.aborted = aborted;
    ctx_.enter(0);
    cache_.filter().on_log(ctx_);
  }

  // What a kRespond answered with.
  Result local() {
    Result r;
    r.outcome = filter::Outcome::kRespond;
    r.status = ctx_.local().status;
    for (const auto& h : ctx_.local().headers) r.headers[lower(h.name)] = std::string(h.value);
    r.body = std::string(ctx_.local().body);
    return r;
  }

  // Request, then either the local answer (logged) or the origin's.
  Result run(const Origin& origin) {
    filter::Outcome o = request();
    if (o == filter::Outcome::kRespond) {
      Result r = local();
      log();
      return r;
    }
    if (o == filter::Outcome::kSuspend) {
      Result r;
      r.outcome = o;
      return r;
    }
    return respond(origin);
  }

  // The request as it would go upstream.
  std::string upstream_header(std::string_view name) const {
    const http::Header* h = head_.find(name);
    return h ? std::string(h->value) : std::string();
  }
  bool upstream_has(std::string_view name) const { return head_.find(name) != nullptr; }

  filter::Context& ctx() { return ctx_; }
  CacheRequest* state() {
    ctx_.enter(0);
    return ctx_.state_if_any<CacheRequest>();
  }

 private:
  void tick() {
    ctx_.now_ms = cache_.now_ms;
    ctx_.unix_ms = cache_.now_ms;
  }
  void add_response(const std::string& n, const std::string& v) {
    strings_.push_back(n);
    std::string_view name = strings_.back();
    strings_.push_back(v);
    ctx_.response.headers.push_back({name, strings_.back()});
  }
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }

  Cache& cache_;
  std::string method_, path_, host_, query_;
  std::deque<std::string> strings_;
  http::RequestHead head_;
  filter::Context ctx_;
  filter::Outcome outcome_ = filter::Outcome::kProceed;
};

// GET `path` with `headers`, answered by `origin` if it gets there.
inline Result get(Cache& cache, const std::string& path, const Origin& origin, Fields headers = {},
                  size_t worker = 0) {
  Exchange ex(cache, "GET", path, std::move(headers), worker);
  return ex.run(origin);
}

}  // namespace ringway::filters::cache::testing
