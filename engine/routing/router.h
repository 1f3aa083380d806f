#pragma once
// Route selection. A Router is compiled once per config snapshot and is then
// immutable, so all worker threads share one instance without locking (RE2
// matching is thread-safe). It holds pointers into the Config it was built
// from: keep that Config alive (the snapshot's shared_ptr) as long as the
// Router and any Route* it returned.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  static std::unique_ptr<Router> build(const config::Config& config, std::string* error);

  // First route in file order whose every criterion matches; nullptr if none.
  // head.path is the normalised path; head.host the Host (a ":port" suffix and
  // a trailing dot are ignored, comparison is case-insensitive). Does not
  // allocate.
  const config::Route* match(const http::RequestHead& head) const;

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

  Router() = default;
  bool matches(const CompiledRoute& r, const http::RequestHead& head,
               std::string_view host) const;

  std::vector<CompiledRoute> routes_;
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
