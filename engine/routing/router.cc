#include "engine/routing/router.h"

#include <re2/re2.h>

#include "config/text_util.h"

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

// Debian's Abseil finds std::string keys by absl::string_view only.
absl::string_view absl_view(std::string_view s) { return {s.data(), s.size()}; }

// The first segment of a path starting with '/': "/a/b" -> "a", "/" -> "".
std::string_view first_segment(std::string_view path) {
  size_t end = path.find('/', 1);
  return path.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
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

std::unique_ptr<Router> Router::build(const config::Config& config, std::string* error,
                                      size_t scan_up_to) {
  std::unique_ptr<Router> router(new Router());
  router->scan_up_to_ = scan_up_to;
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
                   ": bad regex " + config::detail::quote(route.match.path) + " in route " +
                   config::detail::quote(route.name) + ": " + config::detail::quote(c.regex->error());
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
    router->index(static_cast<uint32_t>(router->routes_.size() - 1));
  }
  return router;
}

void Router::index(uint32_t i) {
  const CompiledRoute& c = routes_[i];
  // The first segment every request this route matches has, if it fixes one.
  bool fixed = (c.path_kind == PathMatchKind::kExact ||
                (c.path_kind == PathMatchKind::kPrefix && c.path.size() > 1)) &&
               c.path.starts_with('/');
  auto add = [&](SegmentIndex& level) {
    Candidates& list = fixed ? level.by_segment[std::string(first_segment(c.path))] : level.any_segment;
    list.push_back(i);
  };
  if (c.hosts.empty()) add(no_host_);
  for (const HostPattern& p : c.hosts) {
    if (!p.wildcard)
      add(exact_hosts_[p.text]);
    else if (p.text.empty())
      add(any_host_);
    else
      add(wildcard_hosts_[p.text]);
  }
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

const config::Route* Router::scan(const http::RequestHead& head) const {
  const std::string_view host = host_for_matching(head.host);
  for (const CompiledRoute& r : routes_)
    if (matches(r, head, host)) return r.route;
  return nullptr;
}

const config::Route* Router::match(const http::RequestHead& head) const {
  const std::string_view host = host_for_matching(head.host);
  const std::string_view path = head.path;
  char lower_buf[256];
  if (routes_.size() <= scan_up_to_ || host.size() > sizeof lower_buf || !path.starts_with('/'))
    return scan(head);
  // Host patterns are lower-case; a config routing by path alone skips this.
  if (!exact_hosts_.empty() || !wildcard_hosts_.empty()) {
    for (size_t i = 0; i < host.size(); ++i) {
      char ch = host[i];
      lower_buf[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
    }
  }
  const std::string_view lower(lower_buf, host.size());
  const std::string_view segment = first_segment(path);

  // The candidate lists: per host level that applies, the routes fixing
  // this segment and those fixing none.
  struct Cursor {
    const uint32_t* at;
    const uint32_t* end;
  };
  constexpr size_t kMaxLists = 32;
  Cursor lists[kMaxLists];
  size_t count = 0;
  bool overflow = false;
  auto take = [&](const SegmentIndex& level) {
    for (const Candidates* c : {&level.any_segment, static_cast<const Candidates*>(nullptr)}) {
      if (c == nullptr) {
        if (level.by_segment.empty()) break;
        auto it = level.by_segment.find(absl_view(segment));
        if (it == level.by_segment.end()) break;
        c = &it->second;
      }
      if (c->empty()) continue;
      if (count == kMaxLists) {
        overflow = true;
        return;
      }
      lists[count++] = {c->data(), c->data() + c->size()};
    }
  };
  take(no_host_);
  if (exact_hosts_.empty()) {
  } else if (auto it = exact_hosts_.find(absl_view(lower)); it != exact_hosts_.end()) {
    take(it->second);
  }
  if (!host.empty()) {
    take(any_host_);
    if (!wildcard_hosts_.empty()) {
      // "*.example.com" is stored as ".example.com": try each suffix that
      // starts at a dot with a non-empty label before it.
      for (size_t dot = lower.find('.', 1); dot != std::string_view::npos; dot = lower.find('.', dot + 1))
        if (auto it = wildcard_hosts_.find(absl_view(lower.substr(dot))); it != wildcard_hosts_.end())
          take(it->second);
    }
  }
  if (overflow) return scan(head);

  // Merge in file order; a route listed under two of the request's host
  // patterns comes up twice in a row.
  uint32_t last = UINT32_MAX;
  for (;;) {
    size_t best = count;
    for (size_t i = 0; i < count; ++i)
      if (lists[i].at != lists[i].end && (best == count || *lists[i].at < *lists[best].at)) best = i;
    if (best == count) return nullptr;
    uint32_t index = *lists[best].at++;
    if (index == last) continue;
    last = index;
    if (matches(routes_[index], head, host)) return routes_[index].route;
  }
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
