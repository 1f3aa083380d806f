#include "filters/cors/cors_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "config/text_util.h"
#include "engine/http/field_value.h"

namespace ringway::filters {
namespace {

using config::detail::Field;
using config::detail::MapReader;

struct CorsPolicy {
  bool any_origin = false;
  std::vector<std::string> origins;                 // serialised as browsers send them (canonical_origin)
  std::vector<std::unique_ptr<re2::RE2>> patterns;  // "~regex", full match
  std::vector<std::string> methods;                 // upper-case
  bool any_header = false;
  std::vector<std::string> headers;  // lower-case
  std::string allow_methods;         // joined, for preflight answers
  std::string allow_headers;
  std::string expose_headers;
  bool credentials = false;
  std::string max_age;  // seconds as text, empty = not sent
};

struct CorsState : filter::RequestState {
  std::string_view origin;  // allowed origin of this request, empty = none
};

// The elements of a comma-separated field value.
template <typename F>
void for_each_token(std::string_view list, F&& f) {
  std::string_view element;
  while (http::next_list_element(list, element)) f(element);
}

class CorsFilter final : public filter::Filter {
 public:
  explicit CorsFilter(CorsPolicy p) : p_(std::move(p)) {}

  uint8_t phases() const override { return filter::kRequestHead | filter::kResponseHead; }

  filter::Outcome on_request_head(filter::Context& ctx) const override {
    const http::Header* origin = ctx.request->find("origin");
    if (origin == nullptr) return filter::Outcome::kProceed;  // not a CORS request
    bool allowed = origin_allowed(origin->value);
    const http::Header* method = ctx.request->find("access-control-request-method");
    if (ctx.request->method == "OPTIONS" && method != nullptr) return preflight(ctx, *origin, *method, allowed);
    if (allowed) ctx.state<CorsState>().origin = origin->value;
    return filter::Outcome::kProceed;
  }

  filter::Outcome on_response_head(filter::Context& ctx) const override {
    // The route's CORS answer is the gateway's alone: the upstream's own
    // headers would let through origins the policy refuses.
    for (const char* h : {"access-control-allow-origin", "access-control-allow-credentials",
                          "access-control-expose-headers", "access-control-allow-methods",
                          "access-control-allow-headers", "access-control-max-age"})
      ctx.remove_response_header(h);
    // "*" (never with credentials, refused at load) is everyone's answer,
    // also to requests without Origin, so that a cache may hand it to any.
    // Otherwise the answer depends on Origin, also for a request without
    // one: a cache must not give the answer without Allow-Origin to an
    // allowed origin.
    std::string_view allow;
    if (p_.any_origin) {
      allow = "*";
    } else {
      add_vary(ctx, "Origin");
      CorsState* s = ctx.state_if_any<CorsState>();
      if (s == nullptr || s->origin.empty()) return filter::Outcome::kProceed;
      allow = s->origin;
    }
    ctx.add_response_header("Access-Control-Allow-Origin", allow);
    if (p_.credentials) ctx.add_response_header("Access-Control-Allow-Credentials", "true");
    if (!p_.expose_headers.empty())
      ctx.add_response_header("Access-Control-Expose-Headers", p_.expose_headers);
    return filter::Outcome::kProceed;
  }

 private:
  bool origin_allowed(std::string_view origin) const {
    if (p_.any_origin) return true;
    // "null" (sandboxed frames, data: URLs) can be sent by any page: only
    // "*", which answers "*", lets it read.
    if (origin == "null") return false;
    for (const auto& o : p_.origins)
      if (o == origin) return true;
    for (const auto& re : p_.patterns)
      if (re2::RE2::FullMatch(re2::StringPiece(origin.data(), origin.size()), *re)) return true;
    return false;
  }

  // "*" only when any origin is allowed without credentials; otherwise the
  // origin itself (the spec forbids "*" with credentials).
  std::string_view allow_origin_value(std::string_view origin) const {
    return p_.any_origin && !p_.credentials ? std::string_view("*") : origin;
  }

  filter::Outcome preflight(filter::Context& ctx, const http::Header& origin,
                            const http::Header& method, bool allowed) const {
    filter::LocalResponse& r = ctx.local();
    r.headers.push_back({"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"});
    std::string_view refused;
    if (!allowed) refused = "CORS origin not allowed\n";
    else if (std::find(p_.methods.begin(), p_.methods.end(), method.value) == p_.methods.end())
      refused = "CORS method not allowed\n";
    else if (const http::Header* h = ctx.request->find("access-control-request-headers");
             h != nullptr && !p_.any_header) {
      for_each_token(h->value, [&](std::string_view name) {
        bool ok = false;
        for (const auto& a : p_.headers) ok = ok || http::iequals(a, name);
        if (!ok) refused = "CORS header not allowed\n";
      });
    }
    if (!refused.empty()) {
      r.status = 403;
      r.body = refused;
      r.headers.push_back({"Content-Type", "text/plain"});
      return filter::Outcome::kRespond;
    }
    r.status = 204;
    r.headers.push_back({"Access-Control-Allow-Origin", allow_origin_value(origin.value)});
    r.headers.push_back({"Access-Control-Allow-Methods", p_.allow_methods});
    if (p_.any_header) {
      // "*" is not a wildcard for credentialed requests: echo what was asked.
      if (const http::Header* h = ctx.request->find("access-control-request-headers"))
        r.headers.push_back({"Access-Control-Allow-Headers", h->value});
    } else if (!p_.allow_headers.empty()) {
      r.headers.push_back({"Access-Control-Allow-Headers", p_.allow_headers});
    }
    if (p_.credentials) r.headers.push_back({"Access-Control-Allow-Credentials", "true"});
    if (!p_.max_age.empty()) r.headers.push_back({"Access-Control-Max-Age", p_.max_age});
    return filter::Outcome::kRespond;
  }

  static void add_vary(filter::Context& ctx, std::string_view token) {
    for (auto& h : ctx.response.headers) {
      if (!http::iequals(h.name, "vary")) continue;
      bool present = false;
      for_each_token(h.value, [&](std::string_view t) { present = present || t == "*" || http::iequals(t, token); });
      if (present) return;
      h.value = ctx.keep(std::string(h.value) + ", " + std::string(token));
      return;
    }
    ctx.add_response_header("Vary", token);
  }

  CorsPolicy p_;
};

constexpr const char* kUnrelatedOrigin = "https://unrelated-site.invalid";

// An origin as a browser serialises it in Origin (RFC 6454 6.2): scheme and
// host lower-case, no port where it is the scheme's default, nothing after
// the authority. Configured origins are compared with the request's byte for
// byte, so "https://App.example.com:443" is stored as the browser would send
// it, or it would never match. False when `o` is no origin at all.
bool canonical_origin(std::string_view o, std::string& out) {
  const size_t sep = o.find("://");
  if (sep == 0 || sep == std::string_view::npos) return false;
  std::string_view scheme = o.substr(0, sep), authority = o.substr(sep + 3);
  for (size_t i = 0; i < scheme.size(); ++i) {
    const char c = scheme[i];
    if (!(std::isalpha(static_cast<unsigned char>(c)) ||
          (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))))
      return false;
  }
  // No path, query, fragment or user info, and an ASCII host: a browser
  // sends an internationalised name in its punycode (xn--) form.
  if (authority.empty() || authority.find_first_of("/?#@ \t") != std::string_view::npos) return false;
  for (char ch : authority)
    if (static_cast<unsigned char>(ch) >= 0x80 || static_cast<unsigned char>(ch) < 0x20) return false;
  size_t host_end = authority[0] == '[' ? authority.find(']') : authority.find(':');
  if (authority[0] == '[') {
    if (host_end == std::string_view::npos) return false;
    ++host_end;
  }
  if (host_end == std::string_view::npos) host_end = authority.size();
  std::string_view host = authority.substr(0, host_end), port = authority.substr(host_end);
  if (host.empty() || (!port.empty() && port[0] != ':')) return false;
  out = config::detail::to_lower(scheme) + "://" + config::detail::to_lower(host);
  if (port.empty()) return true;
  port.remove_prefix(1);
  const int64_t number = http::parse_digits(port);
  if (number < 1 || number > 65535) return false;
  const bool default_port = (number == 80 && out.starts_with("http://")) ||
                            (number == 443 && out.starts_with("https://"));
  if (!default_port) out += ":" + std::to_string(number);
  return true;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::shared_ptr<const filter::Filter> compile_cors(const FilterBuild& build) {
  using namespace config::detail;
  MapReader map(build.field, "in filter " + quote(build.spec.name),
                {"type", "origins", "methods", "headers", "expose_headers", "credentials", "max_age"});
  CorsPolicy p;
  const Field& origins = map.require("origins");
  for (const Field& item : list_elements(origins, true, "an origin or a list of origins")) {
    std::string o = get_nonempty_string(item);
    if (o == "*") {
      p.any_origin = true;
    } else if (o[0] == '~') {
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<re2::RE2>(o.substr(1), options);
      if (!re->ok()) item.fail("invalid regular expression: " + config::detail::quote(re->error()));
      p.patterns.push_back(std::move(re));
    } else {
      std::string canonical;
      if (!canonical_origin(o, canonical))
        item.fail("an origin is scheme://host[:port] without a path, e.g. \"https://app.example.com\"");
      p.origins.push_back(std::move(canonical));
    }
  }
  p.methods = {"GET", "HEAD", "POST"};
  if (const Field* f = map.find("methods")) {
    p.methods.clear();
    for (const Field& item : list_elements(*f, true, "a method or a list of methods")) {
      std::string m = to_upper(get_nonempty_string(item));
      if (!is_http_token(m)) item.fail("invalid method " + quote(m));
      p.methods.push_back(m);
    }
  }
  if (const Field* f = map.find("headers")) {
    for (const Field& item : list_elements(*f, true, "a header name or a list of them")) {
      std::string h = get_nonempty_string(item);
      if (h == "*") p.any_header = true;
      else if (!is_http_token(h)) item.fail("invalid header name " + quote(h));
      else p.headers.push_back(h);
    }
  }
  std::vector<std::string> expose;
  if (const Field* f = map.find("expose_headers")) {
    for (const Field& item : list_elements(*f, true, "a header name or a list of them")) {
      std::string h = get_nonempty_string(item);
      if (!is_http_token(h)) item.fail("invalid header name " + quote(h));
      expose.push_back(h);
    }
  }
  if (const Field* f = map.find("credentials")) {
    p.credentials = get_bool(*f);
    if (p.credentials && p.any_origin)
      f->fail("credentials: true needs an explicit list of origins, not \"*\" "
              "(any site could then read responses with the user's cookies)");
    // The same hole through a pattern: one that matches an origin nobody
    // owns matches everybody's ("~.*", "~https://.*").
    for (const auto& re : p.patterns)
      if (p.credentials && re2::RE2::FullMatch(kUnrelatedOrigin, *re))
        f->fail("credentials: true with the origin pattern \"~" + re->pattern() +
                "\", which matches any site (it matches " + std::string(kUnrelatedOrigin) + ")");
  }
  if (const Field* f = map.find("max_age")) {
    const int64_t ms = get_duration(*f, std::chrono::seconds(0), std::chrono::hours(24)).count();
    // Access-Control-Max-Age counts whole seconds: 500ms would become 0.
    if (ms % 1000 != 0) f->fail("must be whole seconds (Access-Control-Max-Age counts seconds)");
    p.max_age = std::to_string(ms / 1000);
  }
  p.allow_methods = join(p.methods);
  p.allow_headers = join(p.headers);
  p.expose_headers = join(expose);
  return std::make_shared<CorsFilter>(std::move(p));
}

}  // namespace ringway::filters
