#include "filters/jwt/jws.h"

#include <algorithm>

#include "filters/jwt/base64url.h"

namespace ringway::filters::jwt {

namespace dom = simdjson::dom;

TokenScratch::TokenScratch(size_t max_token_bytes) {
  // Sized for the largest segment a token of max_token_bytes can hold, so
  // parsing never allocates after the first token.
  if (parser.allocate(max_token_bytes, kMaxJsonDepth) != simdjson::SUCCESS) {
    // Out of memory now; the first parse will try to allocate again.
  }
  json.reserve(base64url_decoded_size(max_token_bytes) + simdjson::SIMDJSON_PADDING);
  signature.reserve(base64url_decoded_size(max_token_bytes));
  names.reserve(kMaxJsonMembers);
}

bool parse_segment_object(std::string_view segment, TokenScratch& s, dom::object* object) {
  s.json.resize(base64url_decoded_size(segment.size()) + simdjson::SIMDJSON_PADDING);
  size_t size = 0;
  if (!base64url_decode(segment, reinterpret_cast<unsigned char*>(s.json.data()), &size))
    return false;
  dom::element root;
  if (s.parser.parse(s.json.data(), size, /*realloc_if_needed=*/false).get(root) !=
      simdjson::SUCCESS)
    return false;
  if (root.get_object().get(*object) != simdjson::SUCCESS) return false;
  // Member names as the parser unescaped them, so "a\u006cg" and "alg" are
  // the same name here, as they are to any other JSON reader.
  s.names.clear();
  for (dom::key_value_pair kv : *object) {
    if (s.names.size() == kMaxJsonMembers) return false;
    s.names.push_back(kv.key);
  }
  std::sort(s.names.begin(), s.names.end());
  return std::adjacent_find(s.names.begin(), s.names.end()) == s.names.end();
}

Failure verify_jws(std::string_view token, const KeySet& keys, TokenScratch& s,
                   std::string_view* payload_segment, const Key** key) {
  // Exactly three segments. Five would be a JWE, which is not supported.
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Failure::kMalformed;
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Failure::kMalformed;
  if (token.find('.', dot2 + 1) != std::string_view::npos) return Failure::kMalformed;
  const std::string_view header = token.substr(0, dot1);
  const std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature = token.substr(dot2 + 1);
  // An empty signature is what an "alg": "none" token looks like.
  if (header.empty() || payload.empty() || signature.empty()) return Failure::kMalformed;

  dom::object h;
  if (!parse_segment_object(header, s, &h)) return Failure::kMalformed;
  std::string_view alg_text, kid;
  bool has_alg = false, has_kid = false;
  for (dom::key_value_pair kv : h) {
    if (kv.key == "alg") {
      if (kv.value.get_string().get(alg_text) != simdjson::SUCCESS) return Failure::kMalformed;
      has_alg = true;
    } else if (kv.key == "kid") {
      if (kv.value.get_string().get(kid) != simdjson::SUCCESS) return Failure::kMalformed;
      has_kid = true;
    } else if (kv.key == "crit") {
      // Every crit entry names an extension the recipient MUST understand;
      // this filter understands none.
      return Failure::kCritical;
    } else if (kv.key == "b64") {
      bool b = false;
      if (kv.value.get_bool().get(b) != simdjson::SUCCESS || !b) return Failure::kCritical;
    } else if (kv.key == "enc" || kv.key == "zip") {
      return Failure::kMalformed;  // JWE header parameters
    }
    // Everything else, jwk/jku/x5u/x5c included, is ignored: never a source of keys.
  }
  if (!has_alg) return Failure::kMalformed;
  const std::optional<Alg> alg = parse_alg(alg_text);
  if (!alg) return Failure::kAlgorithm;  // "none", "None", unknown
  const Key* k = keys.select(kid, has_kid);
  if (k == nullptr) return Failure::kUnknownKey;
  if (k->alg != *alg) return Failure::kAlgorithm;

  s.signature.resize(base64url_decoded_size(signature.size()));
  size_t sig_size = 0;
  if (!base64url_decode(signature, reinterpret_cast<unsigned char*>(s.signature.data()), &sig_size))
    return Failure::kMalformed;
  if (!verify_signature(*k, token.substr(0, dot2), std::string_view(s.signature.data(), sig_size),
                        s.crypto))
    return Failure::kSignature;
  *payload_segment = payload;
  *key = k;
  return Failure::kNone;
}

}  // namespace ringway::filters::jwt
