#include "engine/routing/router.h"

#include <re2/re2.h>

namespace ringway::routing {
namespace {

using config::PathMatchKind;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

bool host_matches(std::string_view host, std::string_view pattern, bool wildcard) {
  if (!wildcard) return http::iequals(host, pattern);
  // `pattern` is ".example.com": at least one non-empty label must precede it,
  // so the bare apex "example.com" does not match "*.example.com".
  return host.size() > pattern.size() &&
         http::iequals(host.substr(host.size() - pattern.size()), pattern);
}

// Segment-aware prefix test shared by matching and rewriting: "/api" covers
// "/api" and "/api/..." but not "/apix"; a prefix ending in '/' is a plain
// starts_with ("/" covers everything).
bool has_path_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  return prefix.empty() || prefix.back() == '/' || path.size() == prefix.size() ||
         path[prefix.size()] == '/';
}

}  // namespace

std::string_view host_for_matching(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    // IPv6 literal: the port, if any, follows the closing bracket.
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  // "example.com." is the same name written fully qualified.
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

Router::~Router() = default;

std::unique_ptr<Router> Router::build(const config::Config& config, std::string* error) {
  std::unique_ptr<Router> router(new Router());
  router->routes_.reserve(config.routes.size());
  for (const config::Route& route : config.routes) {
    CompiledRoute c;
    c.route = &route;
    c.path_kind = route.match.path_kind;
    c.path = route.match.path;
    c.prefix_has_slash = !c.path.empty() && c.path.back() == '/';
    if (c.path_kind == PathMatchKind::kRegex) {
      RE2::Options options;
      options.set_log_errors(false);  // the error goes into `error`, not stderr
      c.regex = std::make_unique<RE2>(route.match.path, options);
      if (!c.regex->ok()) {
        if (error) {
          const config::SourceLocation& loc = route.location;
          *error = loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) +
                   ": bad regex \"" + route.match.path + "\" in " + route.name + ": " +
                   c.regex->error();
        }
        return nullptr;
      }
    }
    for (const std::string& m : route.match.methods) c.methods.emplace_back(m);
    for (const std::string& h : route.match.hosts) {
      // The loader lower-cases hosts; normalising again here keeps the Router
      // correct for hand-built configs too.
      std::string pattern = lower_ascii(h);
      if (!pattern.empty() && pattern.back() == '.') pattern.pop_back();
      HostPattern p;
      if (pattern == "*" || pattern.starts_with("*.")) {
        p.wildcard = true;
        p.text = pattern.substr(1);  // "*" -> "" matches any non-empty host
      } else {
        p.text = std::move(pattern);
      }
      c.hosts.push_back(std::move(p));
    }
    c.headers = &route.match.headers;
    router->routes_.push_back(std::move(c));
  }
  return router;
}

bool Router::matches(const CompiledRoute& r, const http::RequestHead& head,
                     std::string_view host) const {
  // Cheapest criteria first; all must hold, so the order only affects speed.
  if (!r.methods.empty()) {
    bool ok = false;
    for (std::string_view m : r.methods) ok |= (m == head.method);
    if (!ok) return false;
  }

  const std::string_view path = head.path;
  switch (r.path_kind) {
    case PathMatchKind::kNone:
    case PathMatchKind::kRegex:  // tested last
      break;
    case PathMatchKind::kExact:
      if (path != r.path) return false;
      break;
    case PathMatchKind::kPrefix:
      if (!path.starts_with(r.path)) return false;
      if (!r.prefix_has_slash && path.size() != r.path.size() && path[r.path.size()] != '/')
        return false;
      break;
  }

  if (!r.hosts.empty()) {
    bool ok = false;
    for (const HostPattern& p : r.hosts) {
      if (host_matches(host, p.text, p.wildcard)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }

  // Each listed header must appear with exactly that value; with repeated
  // headers any one occurrence will do.
  for (const config::HeaderMatch& want : *r.headers) {
    bool ok = false;
    for (const http::Header& h : head.headers) {
      if (h.value == want.value && http::iequals(h.name, want.name)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }

  if (r.path_kind == PathMatchKind::kRegex &&
      !RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *r.regex))
    return false;
  return true;
}

const config::Route* Router::match(const http::RequestHead& head) const {
  const std::string_view host = host_for_matching(head.host);
  for (const CompiledRoute& r : routes_)
    if (matches(r, head, host)) return r.route;
  return nullptr;
}

void rewrite_path(const config::Route& route, std::string_view path, std::string& out) {
  const std::string_view strip = route.strip_prefix;
  if (strip.empty() || !has_path_prefix(path, strip)) {
    out.assign(path);
    if (out.empty()) out.push_back('/');
    return;
  }
  // Cut the prefix without its trailing '/', so the remainder is "" or starts
  // with '/': strip "/" + replace "/v1" turns "/x" into "/v1/x", not "/v1x".
  size_t cut = strip.size();
  if (strip.back() == '/') --cut;
  std::string_view rest = path.substr(cut);
  const std::string_view replace = route.replace_prefix;
  if (!replace.empty() && replace.back() == '/' && !rest.empty() && rest[0] == '/')
    rest.remove_prefix(1);  // "/v2/" + "/x" -> "/v2/x"

  out.clear();
  const char first = !replace.empty() ? replace[0] : (!rest.empty() ? rest[0] : '\0');
  if (first != '/') out.push_back('/');  // upstream targets are origin-form
  out.append(replace);
  out.append(rest);
}

}  // namespace ringway::routing
