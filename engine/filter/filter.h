#pragma once
// The filter interface: what auth, rate limiting, caching, compression and
// rewrites plug into (docs/architecture.md, "Filters").
//
// A route has a chain of filters, compiled at config load into a flat array
// (engine/filter/chain.h). Request phases run in chain order, response phases
// in reverse order (the last filter sees the upstream's response first, as in
// Envoy), so `[auth, cache, gzip]` stores gzipped bodies and never caches a
// response auth would have refused.
//
// Ownership, from the types:
//   Filter        immutable after config load, shared by all workers (const).
//   WorkerState   one per filter per worker, made by make_worker_state(),
//                 touched only by that worker's thread.
//   RequestState  one per filter per request, the typed slot: ctx.state<T>().
//
// Three outcomes: kProceed (next filter), kRespond (answer with ctx.local();
// later filters and the upstream are skipped, the log phase still runs),
// kSuspend (the filter holds a ResumeHandle from ctx.suspend() and calls
// resume() later from this worker's thread; the phase then runs again at the
// same filter).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_head.h"

namespace ringway::config {
struct Route;
}

namespace ringway::filter {

enum Phase : uint8_t {
  kRequestHead = 1 << 0,
  kRequestBody = 1 << 1,
  kResponseHead = 1 << 2,
  kResponseBody = 1 << 3,
  kLog = 1 << 4,
};

enum class Outcome : uint8_t { kProceed, kRespond, kSuspend };

// Longest chain a route may have (a bit per position in a request's masks).
constexpr size_t kMaxChain = 32;

struct WorkerState;

// What the engine offers filters outside the request at hand, on the
// worker's own ring (never blocking it).
class WorkerServices {
 public:
  struct FetchRequest {
    std::string_view upstream;  // an entry of the config's upstreams
    std::string_view path;      // origin-form, with the query
    // Extra request headers, copied. A Host here is sent unless the upstream
    // configures its own `host:`, which wins, as for forwarded requests.
    http::HeaderList headers;
    size_t max_body = 1 << 20;
  };
  struct FetchResult {
    // The upstream's status code, or 0 when the connection failed, timed
    // out, the response was malformed or its body exceeded max_body.
    int status = 0;
    const http::HeaderList* headers = nullptr;  // the response's, valid during the callback
    std::string_view body;
  };
  using FetchCallback = std::function<void(const FetchResult&)>;

  // GET from a configured upstream (its balancer and endpoints) over a
  // connection of its own. `done` runs later on this worker's thread, never
  // from inside fetch(). False (and `done` never runs) when there is no
  // such upstream.
  virtual bool fetch(const FetchRequest& request, FetchCallback done) = 0;

  // The same for callers that need only the status and the body.
  using FetchDone = std::function<void(int status, std::string_view body)>;
  virtual bool fetch(std::string_view upstream, std::string_view path, size_t max_body,
                     FetchDone done) {
    FetchRequest request;
    request.upstream = upstream;
    request.path = path;
    request.max_body = max_body;
    return fetch(request, [done = std::move(done)](const FetchResult& r) { done(r.status, r.body); });
  }

  // Runs `state`'s on_timer no later than `at_ms` (monotonic): for a
  // deadline that arises between its calls (a request waiting with a limit).
  virtual void wake_at(WorkerState& state, int64_t at_ms) = 0;

 protected:
  ~WorkerServices() = default;
};

struct WorkerState {
  virtual ~WorkerState() = default;

  // Background work on the worker's thread: called once when the worker
  // starts, then again at the monotonic time (ms) it returns; INT64_MAX for
  // never. E.g. a periodic key refresh (jwt's jwks_url).
  virtual int64_t on_timer(int64_t now_ms, WorkerServices& services) { return INT64_MAX; }

  // Named counters ("expired", "limited"...), summed over the workers when the
  // gateway reports them (the "filters" object of the stop line).
  virtual void report(std::vector<std::pair<std::string_view, uint64_t>>& out) const {}

  // Reload: what this worker's successor (the same worker index in the next
  // generation) may take over, called on this worker's thread when it has
  // finished draining. The result must be plain data that any thread may
  // own; its filter of the same name and type gets it in Filter::adopt().
  // Most state is per generation: nullptr.
  virtual std::unique_ptr<WorkerState> leave() { return nullptr; }
};

struct RequestState {
  virtual ~RequestState() = default;
};

// The response going to the client: the upstream's, or a filter's own.
struct ResponseHead {
  int status = 0;
  http::HeaderList headers;  // editable; new strings via Context::keep()
  // The upstream's body length, or -1 when it is chunked or close-delimited.
  int64_t content_length = -1;
  // Set by a filter (in the response-head phase) that will change the body
  // bytes: the length is then unknown and the body goes out chunked.
  bool body_rewritten = false;
};

// A response made by a filter (kRespond): status, headers and the whole body.
struct LocalResponse {
  int status = 0;
  http::HeaderList headers;
  std::string_view body;
  // Keeps the memory `body` (and header views) point into alive until the
  // response is sent, e.g. a cache entry that may be evicted meanwhile.
  std::shared_ptr<const void> keep;
};

// Resumes a suspended request. Valid after the request is gone: resume() then
// does nothing. Only for the worker thread that made it.
class Resumer {
 public:
  virtual void resume(void* request, uint32_t generation) = 0;

 protected:
  ~Resumer() = default;
};

class ResumeHandle {
 public:
  ResumeHandle() = default;
  ResumeHandle(Resumer* resumer, void* request, uint32_t generation)
      : resumer_(resumer), request_(request), generation_(generation) {}
  void resume() const {
    if (resumer_ != nullptr) resumer_->resume(request_, generation_);
  }
  explicit operator bool() const { return resumer_ != nullptr; }

 private:
  Resumer* resumer_ = nullptr;
  void* request_ = nullptr;
  uint32_t generation_ = 0;
};

// Everything a filter sees of one request. The engine fills it; unit tests
// fill it themselves to drive a filter's phases directly.
class Context {
 public:
  // Request: method, target, normalised path (editable: a rewrite before the
  // route's own prefix rewrite), query, host and headers (editable).
  http::RequestHead* request = nullptr;
  std::string_view client_ip;  // peer address as text
  const config::Route* route = nullptr;
  std::string_view upstream;  // the route's upstream name
  int64_t now_ms = 0;          // monotonic clock of this worker's loop turn
  int64_t unix_ms = 0;         // wall clock, for exp/nbf/Date/Age
  uint32_t worker_index = 0;
  WorkerServices* services = nullptr;  // this worker's (fetches from a request phase)

  // Set by a filter that authenticated the request (jwt, api_key). A shared
  // cache then treats it as a request with Authorization (RFC 9111 3.5),
  // whether or not the credentials still travel in its headers.
  bool authenticated = false;

  // The response head (response-head phase), and what was sent (log phase).
  ResponseHead response;
  uint64_t response_body_bytes = 0;  // log phase: body bytes sent to the client
  bool aborted = false;              // log phase: the exchange ended early

  // The response a filter answers with when it returns kRespond.
  LocalResponse& local() { return local_; }

  // Copies `s` into memory that lives as long as the request; for header
  // names and values added to the request, the response or a local response.
  std::string_view keep(std::string_view s) { return arena_.emplace_back(s); }

  // Request header edits (names are case-insensitive, and '_' stands for
  // '-': X_User_Id goes with X-User-Id, as CGI-style upstreams merge them).
  void remove_request_header(std::string_view name);
  void set_request_header(std::string_view name, std::string_view value);  // copies both
  // Response header edits, case-insensitive, on `response`.
  void remove_response_header(std::string_view name);
  void set_response_header(std::string_view name, std::string_view value);
  void add_response_header(std::string_view name, std::string_view value);

  // Named values filters hand to later filters and to header templates:
  // "jwt.sub", "consumer", ... Later sets win.
  void set_attribute(std::string_view key, std::string_view value);  // copies both
  std::string_view attribute(std::string_view key) const;  // "" when unset
  bool has_attribute(std::string_view key) const;

  // A unique ID for this request (32 hex digits), made on first use.
  std::string_view request_id();

  // The typed per-request slot of the filter now running.
  template <typename T>
  T& state() {
    auto& slot = slots_[position_];
    if (!slot) slot = std::make_unique<T>();
    return static_cast<T&>(*slot);
  }
  template <typename T>
  T* state_if_any() {
    return position_ < slots_.size() ? static_cast<T*>(slots_[position_].get()) : nullptr;
  }
  // This worker's state of the filter now running (its make_worker_state()).
  template <typename T>
  T& worker() {
    return static_cast<T&>(*workers_[position_]);
  }
  // Response-head phase: the filter now running wants the body pieces.
  void watch_response_body() { body_watchers_ |= 1u << position_; }
  uint32_t body_watchers() const { return body_watchers_; }

  // The handle to resume this request after returning kSuspend.
  ResumeHandle suspend() const { return ResumeHandle(resumer_, token_, generation_); }

  // Engine and test side: prepare for a chain of `length` filters.
  void begin(size_t length, WorkerState* const* worker_states, Resumer* resumer, void* token,
             uint32_t generation);
  void enter(size_t position) { position_ = position; }
  void reset();

 private:
  LocalResponse local_;
  std::deque<std::string> arena_;
  std::vector<std::pair<std::string_view, std::string_view>> attributes_;
  std::string request_id_;
  std::vector<std::unique_ptr<RequestState>> slots_;
  WorkerState* const* workers_ = nullptr;
  size_t position_ = 0;
  uint32_t body_watchers_ = 0;
  Resumer* resumer_ = nullptr;
  void* token_ = nullptr;
  uint32_t generation_ = 0;
};

class Filter {
 public:
  virtual ~Filter() = default;

  // The phases this filter uses; the engine never calls the others.
  virtual uint8_t phases() const = 0;

  virtual std::unique_ptr<WorkerState> make_worker_state(uint32_t worker_index) const {
    return nullptr;
  }

  virtual Outcome on_request_head(Context& ctx) const { return Outcome::kProceed; }

  // Pieces of the decoded request body, in order; `last` on the final one.
  // Observe only; kRespond rejects the request (before any response started).
  virtual Outcome on_request_body(Context& ctx, std::string_view piece, bool last) const {
    return Outcome::kProceed;
  }

  // The response head in ctx.response. kRespond replaces the upstream's
  // response with ctx.local() (serving a cached copy on 304 or on error).
  virtual Outcome on_response_head(Context& ctx) const { return Outcome::kProceed; }

  // Pieces of the decoded response body, in order, `last` on the final one
  // (an empty piece when the body is empty). Returns the bytes to pass on:
  // `piece` itself to observe, or a view of the filter's own memory (valid
  // until its next call) to transform, which needs body_rewritten set in the
  // response-head phase. Called only if the filter asked in that phase with
  // ctx.watch_response_body().
  virtual std::string_view on_response_body(Context& ctx, std::string_view piece, bool last) const {
    return piece;
  }

  // After the exchange ended (sent, or aborted), also after kRespond.
  virtual void on_log(Context& ctx) const {}

  // Reload, on the worker's thread: `left` is what the previous generation's
  // worker of this index left behind (WorkerState::leave()) for its filter
  // `previous` of the same name and type; `mine` is this filter's state on
  // this worker, already serving. Take what still means the same, or nothing.
  // `mine`'s on_timer runs at the next loop turn: long work (moving many
  // entries) belongs there, a slice per call.
  virtual void adopt(WorkerState& mine, const Filter& previous, WorkerState& left) const {}
};

}  // namespace ringway::filter
