// routes: the ordered list of match rules that pick an upstream for a request.

#include <llhttp.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/parse.h"
#include "config/route_syntax.h"
#include "config/text_util.h"

namespace ringway::config::detail {
namespace {

// A header value is compared byte for byte with what the client sent, which
// can never contain these.
// "routes[3]": what an unnamed route is called.
bool is_automatic_name(std::string_view name) {
  constexpr std::string_view kPrefix = "routes[";
  if (!name.starts_with(kPrefix) || !name.ends_with(']') || name.size() == kPrefix.size() + 1)
    return false;
  for (char c : name.substr(kPrefix.size(), name.size() - kPrefix.size() - 1))
    if (c < '0' || c > '9') return false;
  return true;
}

// Reads the route's name before its keys are checked, so that even an
// unknown-key error can say which route it is in.
std::string peek_name(const YAML::Node& route) {
  for (const auto& entry : route)
    if (entry.first.IsScalar() && entry.first.Scalar() == "name" && entry.second.IsScalar())
      return entry.second.Scalar();
  return "";
}

void parse_hosts(const Field& field, RouteMatch& match) {
  for (const Field& item : list_elements(field, true, "a host name or a list of host names")) {
    std::string host, error;
    if (!canonical_host_pattern(get_nonempty_string(item), host, error)) item.fail(error);
    if (std::find(match.hosts.begin(), match.hosts.end(), host) != match.hosts.end())
      item.fail("host " + quote(host) + " is listed twice");
    match.hosts.push_back(std::move(host));
  }
}

// Whether the gateway serves requests with this method at all: llhttp's
// request parser knows a fixed set (others are refused before routing), and
// CONNECT and TRACE are answered 501. A route listing another could never match.
bool servable_method(std::string_view method) {
  static constexpr std::string_view kParsed[] = {
#define RINGWAY_METHOD_NAME(num, name, string) #string,
      HTTP_METHOD_MAP(RINGWAY_METHOD_NAME)
#undef RINGWAY_METHOD_NAME
  };
  if (method == "CONNECT" || method == "TRACE") return false;
  return std::find(std::begin(kParsed), std::end(kParsed), method) != std::end(kParsed);
}

void parse_methods(const Field& field, RouteMatch& match) {
  for (const Field& item : list_elements(field, true, "a method or a list of methods")) {
    std::string method = to_upper(get_nonempty_string(item));
    if (!is_http_token(method)) item.fail("invalid method " + quote(item.value.Scalar()));
    if (!servable_method(method))
      item.fail("method " + quote(method) + " is not served by ringway (its HTTP parser knows a "
                "fixed set of methods, and CONNECT and TRACE are refused), so this route could "
                "never match");
    if (std::find(match.methods.begin(), match.methods.end(), method) != match.methods.end())
      item.fail("method " + quote(method) + " is listed twice");
    match.methods.push_back(std::move(method));
  }
}

void parse_headers(const Field& field, RouteMatch& match) {
  for (const Field& entry : map_entries(field, "header")) {
    HeaderMatch header{to_lower(entry.key.Scalar()), get_string(entry)};
    if (!is_http_token(header.name))
      fail_at(entry.key.Mark(), field.path + ": invalid header name " + quote(entry.key.Scalar()));
    for (const auto& other : match.headers)
      if (other.name == header.name)
        fail_at(entry.key.Mark(), field.path + ": header " + quote(header.name) +
                                      " is listed twice (names are case-insensitive)");
    if (!is_field_value(header.value)) entry.fail(kFieldValueRule);
    // Request values are compared without their surrounding whitespace
    // (RFC 9110 5.5), so a value that has some would never match.
    const std::string& v = header.value;
    if (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t'))
      entry.fail("header value " + quote(header.value) + " has spaces around it, so no request would match it");
    match.headers.push_back(std::move(header));
  }
}

void parse_path_criterion(const Field& field, PathMatchKind kind, RouteMatch& match) {
  match.path_kind = kind;
  if (kind == PathMatchKind::kRegex) {
    // Compiled (and so syntax-checked) by the router, which owns RE2.
    match.path = get_nonempty_string(field);
    return;
  }
  std::string error;
  if (!canonical_path(get_string(field), false, match.path, error)) field.fail(error);
}

RouteMatch parse_match(const Field& field, const std::string& label) {
  RouteMatch match;
  MapReader map(field, "in the match of " + label,
                {"host", "prefix", "path", "regex", "methods", "headers"});
  const Field* path_field = nullptr;
  // In file order, so that the second of two path criteria is the one blamed.
  for (const Field& f : map.fields()) {
    const std::string& key = f.key.Scalar();
    PathMatchKind kind = key == "prefix" ? PathMatchKind::kPrefix
                         : key == "path" ? PathMatchKind::kExact
                         : key == "regex" ? PathMatchKind::kRegex
                                          : PathMatchKind::kNone;
    if (kind == PathMatchKind::kNone) continue;
    if (path_field)
      fail_at(f.key.Mark(), field.path + ": " + quote(key) + " cannot be combined with " +
                                quote(path_field->key.Scalar()) + "; use one of prefix, path, regex");
    path_field = &f;
    parse_path_criterion(f, kind, match);
  }
  if (const Field* f = map.find("host")) parse_hosts(*f, match);
  if (const Field* f = map.find("methods")) parse_methods(*f, match);
  if (const Field* f = map.find("headers")) parse_headers(*f, match);
  return match;
}

// Two routes with equal keys match exactly the same requests.
std::string normalised_key(const RouteMatch& match) {
  std::vector<std::string> hosts = match.hosts, methods = match.methods, headers;
  for (const auto& h : match.headers) headers.push_back(h.name + '\0' + h.value);
  std::sort(hosts.begin(), hosts.end());
  std::sort(methods.begin(), methods.end());
  std::sort(headers.begin(), headers.end());
  std::string key = std::to_string(static_cast<int>(match.path_kind)) + '\0' + match.path + '\1';
  for (const auto* list : {&hosts, &methods, &headers}) {
    for (const auto& s : *list) key += s + '\1';
    key += '\2';
  }
  return key;
}

// Upstream names to their index in config.upstreams.
using UpstreamIndex = std::unordered_map<std::string_view, size_t>;

size_t resolve_upstream(const Field& field, const std::vector<Upstream>& upstreams,
                        const UpstreamIndex& index) {
  std::string name = get_nonempty_string(field);
  if (auto it = index.find(name); it != index.end()) return it->second;
  std::vector<std::string> names;
  for (const Upstream& u : upstreams) names.push_back(u.name);
  field.fail("unknown upstream " + quote(name) + did_you_mean(name, names));
}

void parse_rewrite(const MapReader& map, Route& route) {
  const Field* strip = map.find("strip_prefix");
  const Field* replace = map.find("replace_prefix");
  std::string error;
  if (strip && !canonical_path(get_string(*strip), false, route.strip_prefix, error))
    strip->fail(error);
  if (!replace) return;
  if (!strip) fail_at(replace->key_mark(), replace->path + ": requires strip_prefix");
  if (!canonical_path(get_string(*replace), true, route.replace_prefix, error)) replace->fail(error);
}

}  // namespace

void parse_routes(const Field& field, const std::string& file_name, Config& config) {
  struct Seen {
    std::string label;
    int line;
  };
  // Hashed, not scanned: configs with tens of thousands of routes exist.
  std::unordered_map<std::string, Seen> seen;       // normalised match -> its route
  std::unordered_map<std::string, int> names;       // explicit names -> their lines
  UpstreamIndex upstream_index;
  for (size_t i = 0; i < config.upstreams.size(); ++i)
    upstream_index.emplace(config.upstreams[i].name, i);
  std::vector<Field> items = list_elements(field, false, "a list of routes");
  for (size_t i = 0; i < items.size(); ++i) {
    const Field& item = items[i];
    if (!item.value.IsMap()) item.fail_type("a map");
    std::string name = peek_name(item.value);
    const std::string label = name.empty() ? item.path : "route " + quote(name);
    MapReader map(item, "in " + label,
                  {"name", "match", "upstream", "strip_prefix", "replace_prefix", "websocket", "filters"});
    Route route;
    const YAML::Mark mark = item.value.Mark();
    route.location = SourceLocation{file_name, mark.line + 1, mark.column + 1};
    route.name = item.path;
    if (const Field* f = map.find("name")) {
      route.name = get_nonempty_string(*f);
      // Names appear in logs, errors and headers (${route}): one line, and
      // never one an unnamed route gets.
      if (!is_field_value(route.name)) f->fail("a route name cannot contain control characters");
      if (is_automatic_name(route.name))
        f->fail("names of the form \"routes[N]\" are those of unnamed routes");
      auto [it, added] = names.emplace(route.name, line_of(f->mark()));
      if (!added)
        f->fail("duplicate route name " + quote(route.name) + " (first at line " +
                std::to_string(it->second) + ")");
    }
    route.match = parse_match(map.require("match"), label);
    if (const Field* f = map.find("filters"))
      route.filters = parse_filter_names(*f, config.filters);
    else
      route.filters = config.default_filters;
    if (const Field* upstream = map.find("upstream")) {
      route.upstream_index = resolve_upstream(*upstream, config.upstreams, upstream_index);
      route.upstream = config.upstreams[route.upstream_index].name;
    } else if (route.filters.empty()) {
      // Without filters nothing could answer its requests.
      fail_at(map.mark(), "missing required key \"upstream\" in " + label +
                              " (only a route with filters that answer, such as respond or "
                              "redirect, may omit it)");
    }
    parse_rewrite(map, route);
    if (const Field* f = map.find("websocket")) route.websocket = get_bool(*f);

    // A later route with an identical match can never be chosen: first match
    // wins. One merely shadowed by a broader earlier route is left alone --
    // "catch-all first" is sometimes deliberate during a migration.
    auto [it, added] = seen.emplace(normalised_key(route.match), Seen{label, route.location.line});
    if (!added)
      fail_at(mark, label + ": same match as " + it->second.label + " at line " +
                        std::to_string(it->second.line) + ", so it can never be chosen");
    config.routes.push_back(std::move(route));
  }
}

}  // namespace ringway::config::detail
