#pragma once
// Route selection. A Router is compiled once per config snapshot and is then
// immutable, so all worker threads share one instance without locking (RE2
// matching is thread-safe). It holds pointers into the Config it was built
// from: keep that Config alive (the snapshot's shared_ptr) as long as the
// Router and any Route* it returned.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "config/config.h"
#include "engine/http/request_head.h"

namespace re2 {
class RE2;
}

namespace ringway::routing {

class Router {
 public:
  // Compiles the routes of `config` (RE2 patterns compiled here). Returns
  // nullptr and sets `error` ("FILE:LINE:COL: bad regex ...", from
  // Route::location) if a regex does not compile.
  // With at most `scan_up_to` routes, match() tests them all (a few routes
  // are tested faster than looked up); tests pass 0 to exercise the index.
  static std::unique_ptr<Router> build(const config::Config& config, std::string* error,
                                       size_t scan_up_to = 8);

  // First route in file order whose every criterion matches; nullptr if none.
  // head.path is the normalised path; head.host the Host (a ":port" suffix and
  // a trailing dot are ignored, comparison is case-insensitive). Does not
  // allocate. Tests only the routes the host and first path segment allow
  // (see Index), so its cost follows those, not the number of routes.
  const config::Route* match(const http::RequestHead& head) const;

  // The same answer found by testing every route in order: what match()
  // does for hosts longer than a DNS name or paths not starting with '/'.
  const config::Route* scan(const http::RequestHead& head) const;

  size_t size() const { return routes_.size(); }

  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

 private:
  struct HostPattern {
    std::string text;  // exact host, or for "*.example.com" the suffix ".example.com"
    bool wildcard = false;
  };

  // Everything match() needs, laid out so that the cheap criteria are tested
  // before the expensive ones (regex last).
  struct CompiledRoute {
    const config::Route* route = nullptr;
    config::PathMatchKind path_kind = config::PathMatchKind::kNone;
    std::string_view path;           // exact path or prefix, into the Config
    bool prefix_has_slash = false;   // prefix ends with '/': plain starts_with
    std::unique_ptr<re2::RE2> regex;  // kRegex only
    std::vector<std::string_view> methods;  // into the Config
    std::vector<HostPattern> hosts;
    const std::vector<config::HeaderMatch>* headers = nullptr;
  };

  // Route indexes (ascending, i.e. file order) by the two criteria nearly
  // every route of a large config fixes: its hosts, and the first segment of
  // its exact path or prefix ("/api/v1" -> "api": prefixes match on segment
  // boundaries, so a request's first segment must be exactly that). A route
  // without one of them (no hosts; no path, prefix "/", regex) goes in the
  // "any" list of that level. A request can only match routes in the lists
  // its host and first segment select; match() merges those few lists in
  // index order and returns the first that passes every test.
  using Candidates = std::vector<uint32_t>;
  struct SegmentIndex {
    absl::flat_hash_map<std::string, Candidates> by_segment;
    Candidates any_segment;
  };

  Router() = default;
  bool matches(const CompiledRoute& r, const http::RequestHead& head,
               std::string_view host) const;
  void index(uint32_t i);

  std::vector<CompiledRoute> routes_;
  size_t scan_up_to_ = 0;
  absl::flat_hash_map<std::string, SegmentIndex> exact_hosts_;     // "api.example.com"
  absl::flat_hash_map<std::string, SegmentIndex> wildcard_hosts_;  // ".example.com" (*.example.com)
  SegmentIndex any_host_;  // "*": any non-empty host
  SegmentIndex no_host_;   // routes without hosts
};

// Path sent upstream: when `path` starts with the route's strip_prefix (on a
// segment boundary, as prefix matching does), that prefix is replaced by
// replace_prefix. The result always starts with '/' ("" becomes "/"), and a
// replacement ending in '/' joined to a remainder starting with '/' does not
// produce "//".
void rewrite_path(const config::Route& route, std::string_view path, std::string& out);

// The host part of a Host header value or authority, for matching: the port
// and a trailing dot are dropped ("Example.COM.:8080" -> "Example.COM");
// IPv6 literals keep their brackets ("[::1]:80" -> "[::1]").
std::string_view host_for_matching(std::string_view host);

}  // namespace ringway::routing
