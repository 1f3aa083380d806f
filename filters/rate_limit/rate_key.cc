#include "filters/rate_limit/rate_key.h"

#include <absl/hash/hash.h>

#include "config/config.h"
#include "config/text_util.h"
#include "filters/jwt/claims.h"

namespace ringway::filters::rate_limit {
namespace {

// How a part's value got into the hash; hashed with it, so a consumer named
// "10.0.0.1" and a request without a consumer from 10.0.0.1 stay apart.
enum Origin : uint8_t { kPresent = 1, kFallbackIp = 2, kMissingShared = 3 };

// The client's address: the ip_rules filter's resolved one (behind trusted
// proxies, from X-Forwarded-For) when it ran before us, else the peer's.
std::string_view client_address(const filter::Context& ctx) {
  std::string_view resolved = ctx.attribute("client_ip");
  return resolved.empty() ? ctx.client_ip : resolved;
}

std::string_view value_of(const filter::Context& ctx, const KeyPart& part) {
  switch (part.kind) {
    case KeyPart::kClientIp:
      return client_address(ctx);
    case KeyPart::kHeader:
      if (ctx.request != nullptr)
        if (const http::Header* h = ctx.request->find(part.name)) return h->value;
      return {};
    case KeyPart::kAttribute:
      return ctx.attribute(part.name);
    case KeyPart::kRoute:
      return ctx.route != nullptr ? std::string_view(ctx.route->name) : std::string_view();
  }
  return {};
}

}  // namespace

std::vector<std::string> key_part_names() {
  return {"client_ip", "consumer", "route", "header:", "claim:"};
}

std::optional<KeyPart> parse_key_part(std::string_view text, std::string& error) {
  KeyPart part;
  part.text = std::string(text);
  if (text == "client_ip") {
    part.kind = KeyPart::kClientIp;
    return part;
  }
  if (text == "route") {
    part.kind = KeyPart::kRoute;
    return part;
  }
  if (text == "consumer") {
    part.kind = KeyPart::kAttribute;
    part.name = "consumer";  // set by an authentication filter (api_key, ...)
    return part;
  }
  if (text.substr(0, 7) == "header:") {
    std::string_view name = text.substr(7);
    if (!config::detail::is_http_token(name)) {
      error = "\"header:\" needs a header name, as in header:X-Api-Key";
      return std::nullopt;
    }
    part.kind = KeyPart::kHeader;
    part.name = config::detail::to_lower(name);  // so duplicates compare equal
    return part;
  }
  if (text.substr(0, 6) == "claim:") {
    std::string_view name = text.substr(6);
    // Only such names become attributes (the jwt filter's rule): any other
    // would key every request on the missing_key fallback.
    if (!jwt::is_attribute_name(name)) {
      error = "\"claim:\" needs a JWT claim name of at most 64 letters, digits and _ . : / -, "
              "as in claim:sub";
      return std::nullopt;
    }
    part.kind = KeyPart::kAttribute;
    part.name = "jwt." + std::string(name);  // the jwt filter's attribute for the claim
    return part;
  }
  // "headr:X-Id" is compared by its prefix, "headr:".
  size_t colon = text.find(':');
  std::string_view word = colon == std::string_view::npos ? text : text.substr(0, colon + 1);
  error = "unknown key " + config::detail::quote(text) +
          "; a key is client_ip, consumer, route, header:NAME or claim:NAME" +
          config::detail::did_you_mean(word, key_part_names());
  return std::nullopt;
}

std::optional<uint64_t> key_hash(const filter::Context& ctx, const std::vector<KeyPart>& parts,
                                 MissingKey missing) {
  // The part order is fixed by the config, so values are hashed in sequence
  // without their part names; absl::Hash of a string_view includes its length,
  // so ("ab", "c") and ("a", "bc") differ.
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (const KeyPart& part : parts) {
    std::string_view value = value_of(ctx, part);
    uint8_t origin = kPresent;
    if (value.empty()) {
      switch (missing) {
        case MissingKey::kSkip:
          return std::nullopt;
        case MissingKey::kClientIp:
          value = client_address(ctx);
          origin = kFallbackIp;
          break;
        case MissingKey::kShared:
          origin = kMissingShared;
          break;
      }
    }
    h = absl::HashOf(h, origin, value);
  }
  return h;
}

}  // namespace ringway::filters::rate_limit
