#include "filters/jwt/jwt_config.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/text_util.h"
#include "filters/header_rules.h"
#include "filters/jwt/jwks.h"
#include "filters/jwt/key_material.h"

namespace ringway::filters::jwt {
namespace {

using config::detail::Field;
using config::detail::MapReader;
using config::detail::quote;

constexpr size_t kMaxListEntries = 64;  // required_claims, scopes, forward_claims
constexpr size_t kMaxKeyFileBytes = 1024 * 1024;

// Reads a whole file, or fails at `field` (the key naming it). Messages give
// the path as written and the OS reason, never the content.
std::string read_file(const FilterBuild& build, const Field& field, const std::string& path) {
  const std::string resolved = build.resolve_path(path);
  std::ifstream in(resolved, std::ios::binary);
  if (!in) field.fail("cannot read " + quote(path) + ": " + std::strerror(errno));
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxKeyFileBytes) field.fail(quote(path) + " is larger than 1MiB");
  }
  if (in.bad()) field.fail("cannot read " + quote(path));
  return data;
}

Alg read_alg(const Field& field) {
  const std::string name = config::detail::get_nonempty_string(field);
  if (name == "none" || name == "None" || name == "NONE")
    field.fail("alg \"none\" (unsigned tokens) is never accepted");
  auto alg = parse_alg(name);
  if (!alg)
    field.fail("unknown alg " + quote(name) + " (expected one of " +
               std::string(alg_names_for_messages()) + ")");
  return *alg;
}

// One entry of `keys:` -- {file: k.pem, kid: k1, alg: RS256} or
// {secret_file: s.key, kid: h1, alg: HS256}.
Key read_key_entry(const FilterBuild& build, const Field& entry) {
  MapReader m(entry, "in " + entry.path, {"file", "secret_file", "kid", "alg"});
  const Field* file = m.find("file");
  const Field* secret = m.find("secret_file");
  const Field* kid = m.find("kid");
  const Field* alg_field = m.find("alg");
  if ((file == nullptr) == (secret == nullptr))
    config::detail::fail_at(m.mark(), entry.path + ": give exactly one of \"file\" (a PEM public key) "
                                      "or \"secret_file\" (an HMAC secret)");
  std::optional<Alg> alg;
  if (alg_field != nullptr) alg = read_alg(*alg_field);

  Key key;
  if (kid != nullptr) key.kid = config::detail::get_nonempty_string(*kid);
  if (secret != nullptr) {
    if (!alg) config::detail::fail_at(m.mark(), entry.path + ": an HMAC secret needs \"alg\" (HS256, HS384 or HS512)");
    const std::string path = config::detail::get_nonempty_string(*secret);
    std::string bytes = read_file(build, *secret, path);
    // Editors and `echo` end files with a newline that is not part of the secret.
    if (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
    if (!bytes.empty() && bytes.back() == '\r') bytes.pop_back();
    std::string error = make_hmac_key(bytes, *alg, &key);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (!error.empty()) {
      if (alg_family(*alg) != AlgFamily::kHmac) alg_field->fail(quote(path) + " " + error);
      secret->fail(quote(path) + " " + error);
    }
    key.origin = path;
    return key;
  }
  const std::string path = config::detail::get_nonempty_string(*file);
  const std::string pem = read_file(build, *file, path);
  std::string error;
  PkeyPtr pkey = pem_public_key(pem, &error);
  if (!pkey) file->fail(quote(path) + " " + error);
  if (!alg) alg = implied_alg(pkey.get(), /*rsa_default=*/false);
  if (!alg)
    config::detail::fail_at(m.mark(), entry.path + ": " + quote(path) + " is " +
                                          describe_key(pkey.get()) +
                                          "; give its \"alg\" (RS256, PS256, ...)");
  error = make_public_key(std::move(pkey), *alg, &key);
  if (!error.empty()) (alg_field != nullptr ? *alg_field : *file).fail(quote(path) + " " + error);
  key.origin = path;
  return key;
}

std::vector<std::string> read_string_list(const Field& field, const std::string& expected) {
  std::vector<std::string> out;
  for (const Field& item : config::detail::list_elements(field, true, expected)) {
    std::string s = config::detail::get_nonempty_string(item);
    for (const auto& seen : out)
      if (seen == s) item.fail(quote(s) + " is listed twice");
    out.push_back(std::move(s));
  }
  if (out.size() > kMaxListEntries) field.fail("at most 64 entries");
  return out;
}

// RFC 6749 3.3 scope-token characters (which also keeps the scope="..."
// attribute of WWW-Authenticate well-formed).
bool is_scope_token(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}


TokenSource read_source(const Field& field) {
  MapReader m(field, "in " + field.path, {"header", "cookie", "query", "scheme"});
  const Field* header = m.find("header");
  const Field* cookie = m.find("cookie");
  const Field* query = m.find("query");
  const Field* scheme = m.find("scheme");
  const int given = (header != nullptr) + (cookie != nullptr) + (query != nullptr);
  if (given != 1)
    config::detail::fail_at(m.mark(), field.path + ": give exactly one of \"header\", \"cookie\" or \"query\"");
  TokenSource src;
  if (header != nullptr) {
    src.kind = TokenSource::Kind::kHeader;
    src.name = config::detail::get_nonempty_string(*header);
    if (!config::detail::is_http_token(src.name)) header->fail("invalid header name " + quote(src.name));
    src.scheme = http::iequals(src.name, "Authorization") ? "Bearer" : "";
    if (scheme != nullptr) {
      src.scheme = config::detail::get_string(*scheme);
      if (!src.scheme.empty() && !config::detail::is_http_token(src.scheme))
        scheme->fail("invalid auth scheme " + quote(src.scheme));
    }
    return src;
  }
  if (scheme != nullptr) scheme->fail("\"scheme\" applies to a header source only");
  const Field& f = cookie != nullptr ? *cookie : *query;
  src.kind = cookie != nullptr ? TokenSource::Kind::kCookie : TokenSource::Kind::kQuery;
  src.name = config::detail::get_nonempty_string(f);
  src.scheme.clear();
  const bool ok = cookie != nullptr ? config::detail::is_http_token(src.name)
                                    : src.name.find_first_of("&=#?% ") == std::string::npos;
  if (!ok) f.fail("invalid " + std::string(cookie != nullptr ? "cookie" : "query parameter") +
                  " name " + quote(src.name));
  return src;
}

void read_forward_claims(const Field& field, JwtSettings& s) {
  for (const Field& entry : config::detail::map_entries(field, "claim")) {
    const std::string& claim = entry.key.Scalar();
    if (claim.empty()) config::detail::fail_at(entry.key_mark(), field.path + ": empty claim name");
    std::string header = config::detail::get_nonempty_string(entry);
    if (!config::detail::is_http_token(header)) entry.fail("invalid header name " + quote(header));
    if (is_gateway_managed_header(header) || is_written_by_gateway(header))
      entry.fail(quote(header) + " is managed by the proxy and cannot carry a claim");
    for (const auto& seen : s.forward_headers)
      if (http::iequals(seen, header)) entry.fail("header " + quote(header) + " is used twice");
    s.policy.forward_claims.push_back(claim);
    s.forward_headers.push_back(std::move(header));
  }
  if (s.forward_headers.size() > kMaxListEntries) field.fail("at most 64 entries");
}

// Characters an origin-form target may hold as written (RFC 9112 3.2.1,
// RFC 3986 pchar, "/" and "?"; "%" for escapes, checked below).
bool is_target_char(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?%").find(ch) != std::string_view::npos;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// jwks_url: "http://UPSTREAM/PATH", where UPSTREAM names an entry of the
// config's upstreams (its endpoints, balancer and timeouts are used), as
// nginx's proxy_pass http://name/ does.
JwksUrl read_jwks_url(const FilterBuild& build, const Field& field) {
  JwksUrl u;
  u.url = config::detail::get_nonempty_string(field);
  const std::string_view url = u.url;
  const size_t colon = url.find("://");
  const std::string scheme = config::detail::to_lower(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  if (scheme == "https")
    field.fail("https is not supported: the engine has no TLS to upstreams yet (use http://UPSTREAM/PATH)");
  if (scheme != "http")
    field.fail("expected http://UPSTREAM/PATH, UPSTREAM being one of the config's upstreams, got " +
               quote(u.url));
  const std::string_view rest = url.substr(colon + 3);
  const size_t slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  if (authority.empty())
    field.fail("expected http://UPSTREAM/PATH, UPSTREAM being one of the config's upstreams, got " +
               quote(u.url));
  u.upstream = std::string(authority);
  if (build.config.find_upstream(u.upstream) == nullptr) {
    std::vector<std::string> names;
    for (const auto& up : build.config.upstreams) names.push_back(up.name);
    std::string hint = config::detail::did_you_mean(u.upstream, names);
    if (hint.empty())
      hint = "; the host of jwks_url names an entry of upstreams (whose endpoints give the address)";
    field.fail("unknown upstream " + quote(u.upstream) + hint);
  }
  if (slash == std::string_view::npos || rest[slash] != '/')
    field.fail(quote(u.url) + " has no path; give the key set's path (http://" + u.upstream +
               "/.well-known/jwks.json)");
  u.path = std::string(rest.substr(slash));
  for (size_t i = 0; i < u.path.size(); ++i) {
    const char c = u.path[i];
    const bool escape_ok = c != '%' || (i + 2 < u.path.size() && is_hex(u.path[i + 1]) && is_hex(u.path[i + 2]));
    if (!is_target_char(c) || !escape_ok)
      field.fail("the path " + quote(u.path) +
                 " is not origin-form (RFC 9112 3.2.1): no spaces, \"#\", non-ASCII or control "
                 "characters; percent-encode them");
  }
  return u;
}

}  // namespace

JwtSettings read_jwt_settings(const FilterBuild& build) {
  const std::string where = "in filter " + quote(build.spec.name);
  MapReader m(build.field, where,
              {"type", "jwks_file", "jwks_url", "jwks_refresh", "jwks_min_refresh", "jwks_max_bytes",
               "keys", "issuer", "audience", "leeway",
               "require_exp", "required_claims", "scopes", "forward_claims", "claim_attributes",
               "token", "forward_token", "cache_entries", "cache_ttl", "max_token_size", "realm"});
  JwtSettings s;

  if (const Field* url = m.find("jwks_url")) {
    s.jwks = read_jwks_url(build, *url);
    if (const Field* f = m.find("jwks_refresh"))
      s.jwks->refresh_ms =
          config::detail::get_duration(*f, std::chrono::seconds(10), std::chrono::hours(24)).count();
    if (const Field* f = m.find("jwks_min_refresh"))
      s.jwks->min_refresh_ms =
          config::detail::get_duration(*f, std::chrono::seconds(1), std::chrono::hours(1)).count();
    if (const Field* f = m.find("jwks_max_bytes"))
      s.jwks->max_bytes = config::detail::get_size(*f, 1024, 16 * 1024 * 1024);
  } else {
    for (const char* key : {"jwks_refresh", "jwks_min_refresh", "jwks_max_bytes"})
      if (const Field* f = m.find(key))
        config::detail::fail_at(f->key_mark(), f->path + ": applies only with \"jwks_url\"");
  }

  // Keys, remembering which field brought each one for the checks across them.
  std::vector<Key> keys;
  std::vector<const Field*> key_fields;
  if (const Field* f = m.find("jwks_file")) {
    const std::string path = config::detail::get_nonempty_string(*f);
    JwksResult jwks = parse_jwks(read_file(build, *f, path), path);
    if (!jwks.error.empty()) f->fail(quote(path) + " " + jwks.error);
    for (Key& k : jwks.keys) {
      keys.push_back(std::move(k));
      key_fields.push_back(f);
    }
  }
  std::vector<Field> key_entries;
  if (const Field* f = m.find("keys")) {
    key_entries = config::detail::list_elements(*f, false, "a list of keys");
    for (const Field& entry : key_entries) {
      keys.push_back(read_key_entry(build, entry));
      key_fields.push_back(&entry);
    }
  }
  if (keys.empty() && !s.jwks)
    config::detail::fail_at(m.mark(), build.field.path + ": a jwt filter needs keys: give "
                                      "\"jwks_file\", \"keys\" or \"jwks_url\"");
  for (size_t i = 0; i < keys.size(); ++i) {
    // Without kids a token cannot say which key it needs; trying each in turn
    // would multiply the cost of a bad token by the number of keys.
    if (keys.size() > 1 && keys[i].kid.empty())
      key_fields[i]->fail(keys[i].origin + " has no kid; every key needs one when there are several");
    if (s.jwks && keys[i].kid.empty())
      key_fields[i]->fail(keys[i].origin + " has no kid; every key needs one when jwks_url adds keys");
    for (size_t j = 0; j < i; ++j)
      if (keys[j].kid == keys[i].kid)
        key_fields[i]->fail("kid " + quote(keys[i].kid) + " is used twice (" + keys[j].origin +
                            ", " + keys[i].origin + ")");
  }
  s.keys = std::make_shared<const KeySet>(std::move(keys));

  if (const Field* f = m.find("issuer")) s.policy.issuers = read_string_list(*f, "a string or a list of strings");
  if (const Field* f = m.find("audience")) s.policy.audiences = read_string_list(*f, "a string or a list of strings");
  if (const Field* f = m.find("leeway"))
    s.policy.leeway_ms = config::detail::get_duration(*f, std::chrono::milliseconds(0),
                                                      std::chrono::minutes(10)).count();
  if (const Field* f = m.find("require_exp")) s.policy.require_exp = config::detail::get_bool(*f);
  if (const Field* f = m.find("required_claims"))
    s.policy.required_claims = read_string_list(*f, "a claim name or a list of claim names");
  if (const Field* f = m.find("scopes")) {
    s.policy.scopes = read_string_list(*f, "a scope or a list of scopes");
    for (size_t i = 0; i < s.policy.scopes.size(); ++i)
      if (!is_scope_token(s.policy.scopes[i])) {
        const std::string& scope = s.policy.scopes[i];
        const std::string hint = scope.find(' ') != std::string::npos
                                     ? " (list scopes separately: [read, write])" : "";
        f->fail("invalid scope " + quote(scope) + hint);
      }
  }
  if (const Field* f = m.find("forward_claims")) read_forward_claims(*f, s);
  if (const Field* f = m.find("claim_attributes")) s.policy.claim_attributes = config::detail::get_bool(*f);

  s.sources.push_back(TokenSource{});  // Authorization: Bearer
  if (const Field* f = m.find("token")) {
    s.sources.clear();
    if (f->value.IsMap()) {
      s.sources.push_back(read_source(*f));
    } else {
      for (const Field& item : config::detail::list_elements(*f, false, "a token source or a list of them"))
        s.sources.push_back(read_source(item));
    }
  }

  if (const Field* f = m.find("forward_token")) {
    s.forward_token = config::detail::get_bool(*f);
    // Taking a parameter out of the request target is the engine's business
    // (target, path and query are kept together there).
    for (const TokenSource& src : s.sources)
      if (!s.forward_token && src.kind == TokenSource::Kind::kQuery)
        f->fail("forward_token: false is not supported with a query token source yet");
  }
  if (const Field* f = m.find("cache_entries"))
    s.cache_entries = static_cast<size_t>(config::detail::get_int(*f, 0, 10'000'000));
  if (const Field* f = m.find("cache_ttl"))
    s.cache_ttl_ms = config::detail::get_duration(*f, std::chrono::seconds(1), std::chrono::hours(24)).count();
  if (const Field* f = m.find("max_token_size"))
    s.max_token_bytes = config::detail::get_size(*f, 1024, 64 * 1024);
  if (const Field* f = m.find("realm")) {
    s.realm = config::detail::get_nonempty_string(*f);
    for (char ch : s.realm) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
        f->fail("realm must not contain quotes, backslashes or control characters");
    }
  }
  return s;
}

}  // namespace ringway::filters::jwt
