#include "filters/jwt/claims.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "config/text_util.h"

namespace ringway::filters::jwt {
namespace {

namespace dom = simdjson::dom;

// A NumericDate (seconds since the epoch, possibly fractional) in ms. False
// for anything that is not a JSON number.
bool numeric_date_ms(dom::element e, double* ms) {
  double seconds = 0;
  if (e.get_double().get(seconds) != simdjson::SUCCESS) return false;
  *ms = seconds * 1000.0;
  return std::isfinite(*ms);
}

template <typename T>
void append_number(std::string* out, T value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) out->append(buf, end);
}

// A scalar as header text. False for null, objects and arrays.
bool append_scalar(dom::element e, std::string* out) {
  switch (e.type()) {
    case dom::element_type::STRING: {
      out->append(e.get_string().value_unsafe());
      return true;
    }
    case dom::element_type::INT64:
      append_number(out, int64_t(e.get_int64().value_unsafe()));
      return true;
    case dom::element_type::UINT64:
      append_number(out, uint64_t(e.get_uint64().value_unsafe()));
      return true;
    case dom::element_type::DOUBLE:
      append_number(out, double(e.get_double().value_unsafe()));
      return true;
    case dom::element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return true;
    default:
      return false;
  }
}

// RFC 9110 5.5: recipients strip a field value's leading and trailing
// whitespace.
bool reads_differently(std::string_view value) {
  return !value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
                            value.back() == '\t');
}

// A forwarded claim's header value: a scalar as text, an array of scalars
// joined with ","; false (header left unset) for null, objects and nested
// arrays. *split is set when an element holds a ',' itself: ["user,admin"]
// would read upstream as the two elements of ["user", "admin"].
bool header_value(dom::element e, std::string* out, bool* split) {
  out->clear();
  *split = false;
  if (e.type() != dom::element_type::ARRAY) return append_scalar(e, out);
  dom::array items;
  if (e.get_array().get(items) != simdjson::SUCCESS) return false;
  bool first = true;
  for (dom::element item : items) {
    if (!first) out->push_back(',');
    first = false;
    const size_t from = out->size();
    if (!append_scalar(item, out)) return false;
    *split = *split || out->find(',', from) != std::string::npos;
  }
  return !first;
}

bool contains(const std::vector<std::string>& list, std::string_view s) {
  for (const auto& x : list)
    if (x == s) return true;
  return false;
}

// Does the space-separated list `granted` contain `scope`?
bool has_scope_word(std::string_view granted, std::string_view scope) {
  size_t i = 0;
  while (i < granted.size()) {
    const size_t end = std::min(granted.find(' ', i), granted.size());
    if (granted.substr(i, end - i) == scope) return true;
    i = end + 1;
  }
  return false;
}

// "aud": a string or an array of strings, one of which is configured.
Failure check_audience(dom::element aud, const std::vector<std::string>& audiences) {
  std::string_view s;
  if (aud.get_string().get(s) == simdjson::SUCCESS)
    return contains(audiences, s) ? Failure::kNone : Failure::kAudience;
  dom::array list;
  if (aud.get_array().get(list) != simdjson::SUCCESS) return Failure::kClaimValue;
  bool match = false;
  for (dom::element item : list) {
    if (item.get_string().get(s) != simdjson::SUCCESS) return Failure::kClaimValue;
    match = match || contains(audiences, s);
  }
  return match ? Failure::kNone : Failure::kAudience;
}

// "scope" (a space-separated string, RFC 8693 4.2) and "scp" (an array of
// strings, or a string, as some issuers write it) must together grant every
// required scope.
Failure check_scopes(const dom::element* scope, const dom::element* scp,
                     const std::vector<std::string>& required) {
  std::string_view scope_text, scp_text;
  dom::array scp_list;
  bool has_scp_list = false;
  if (scope != nullptr && scope->get_string().get(scope_text) != simdjson::SUCCESS)
    return Failure::kClaimValue;
  if (scp != nullptr && scp->get_string().get(scp_text) != simdjson::SUCCESS) {
    if (scp->get_array().get(scp_list) != simdjson::SUCCESS) return Failure::kClaimValue;
    has_scp_list = true;
  }
  for (const std::string& want : required) {
    bool granted = has_scope_word(scope_text, want) || has_scope_word(scp_text, want);
    if (!granted && has_scp_list) {
      for (dom::element item : scp_list) {
        std::string_view s;
        if (item.get_string().get(s) == simdjson::SUCCESS && s == want) {
          granted = true;
          break;
        }
      }
    }
    if (!granted) return Failure::kInsufficientScope;
  }
  return Failure::kNone;
}

}  // namespace

bool is_attribute_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttributeNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

Failure check_claims(std::string_view payload_segment, const ClaimPolicy& policy,
                     int64_t now_unix_ms, TokenScratch& scratch, Grant* grant) {
  grant->clear();
  dom::object claims;
  if (!parse_segment_object(payload_segment, scratch, &claims)) return Failure::kMalformed;

  dom::element exp, nbf, iat, iss, aud, scope, scp;
  bool has_exp = false, has_nbf = false, has_iat = false, has_iss = false, has_aud = false,
       has_scope = false, has_scp = false;
  uint64_t required_seen = 0;  // bit i: required_claims[i] present (config caps the list at 64)
  std::string value;
  for (dom::key_value_pair kv : claims) {
    const std::string_view name = kv.key;
    const dom::element v = kv.value;
    if (name == "exp") exp = v, has_exp = true;
    else if (name == "nbf") nbf = v, has_nbf = true;
    else if (name == "iat") iat = v, has_iat = true;
    else if (name == "iss") iss = v, has_iss = true;
    else if (name == "aud") aud = v, has_aud = true;
    else if (name == "scope") scope = v, has_scope = true;
    else if (name == "scp") scp = v, has_scp = true;

    if (!v.is_null())
      for (size_t i = 0; i < policy.required_claims.size(); ++i)
        if (policy.required_claims[i] == name) required_seen |= uint64_t{1} << i;

    for (size_t i = 0; i < policy.forward_claims.size(); ++i) {
      bool split = false;
      if (policy.forward_claims[i] != name || !header_value(v, &value, &split)) continue;
      // A claim value is attacker-influenced text about to become a header:
      // CR/LF would split it, NUL truncates it in some upstreams: refused.
      if (!config::detail::is_field_value(value)) return Failure::kClaimValue;
      // What an upstream would read as another value (whitespace it strips,
      // an array element its comma splits in two) could name another user
      // or role: not forwarded (the client's copies are gone all the same).
      if (split || reads_differently(value)) continue;
      grant->headers.emplace_back(static_cast<uint32_t>(i), value);
    }

    if (policy.claim_attributes && grant->attributes.size() < kMaxAttributes &&
        is_attribute_name(name)) {
      const dom::element_type t = v.type();
      if (t == dom::element_type::STRING || t == dom::element_type::INT64 ||
          t == dom::element_type::UINT64) {
        value.clear();
        append_scalar(v, &value);
        // The rule of forward_claims: a header template may carry it upstream.
        if (value.size() <= kMaxAttributeValueBytes && config::detail::is_field_value(value) &&
            !reads_differently(value))
          grant->attributes.emplace_back("jwt." + std::string(name), value);
      }
    }
  }

  // Registered time claims (RFC 7519 4.1.4-4.1.6), each with the leeway.
  const double now = static_cast<double>(now_unix_ms);
  const double leeway = static_cast<double>(policy.leeway_ms);
  double ms = 0;
  grant->valid_until_ms = std::numeric_limits<int64_t>::max();
  if (has_exp) {
    if (!numeric_date_ms(exp, &ms)) return Failure::kClaimValue;
    if (now >= ms + leeway) return Failure::kExpired;
    const double until = std::ceil(ms + leeway);
    if (until < 9.2e18) grant->valid_until_ms = static_cast<int64_t>(until);
  } else if (policy.require_exp) {
    return Failure::kMissingClaim;
  }
  if (has_nbf) {
    if (!numeric_date_ms(nbf, &ms)) return Failure::kClaimValue;
    if (now + leeway < ms) return Failure::kNotYetValid;
  }
  if (has_iat) {
    if (!numeric_date_ms(iat, &ms)) return Failure::kClaimValue;
    if (ms > now + leeway) return Failure::kIssuedInFuture;
  }

  if (!policy.issuers.empty()) {
    std::string_view s;
    if (!has_iss) return Failure::kIssuer;
    if (iss.get_string().get(s) != simdjson::SUCCESS) return Failure::kClaimValue;
    if (!contains(policy.issuers, s)) return Failure::kIssuer;
  }
  // RFC 7519 4.1.3: a recipient that does not identify itself with a value
  // of a present aud MUST reject the token. Without `audience` the gateway
  // is no named recipient, so only tokens without aud pass (RFC 8725 3.9:
  // one relying party's token must not be accepted by another).
  if (policy.audiences.empty()) {
    if (has_aud) return Failure::kAudience;
  } else {
    if (!has_aud) return Failure::kAudience;
    if (Failure f = check_audience(aud, policy.audiences); f != Failure::kNone) return f;
  }
  const uint64_t all_required =
      policy.required_claims.empty() ? 0 : (~uint64_t{0} >> (64 - policy.required_claims.size()));
  if (required_seen != all_required) return Failure::kMissingClaim;

  // Last: a token that is valid but lacks a scope is a 403, not a 401.
  if (!policy.scopes.empty())
    return check_scopes(has_scope ? &scope : nullptr, has_scp ? &scp : nullptr, policy.scopes);
  return Failure::kNone;
}

}  // namespace ringway::filters::jwt
