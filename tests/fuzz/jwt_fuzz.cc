// The jwt filter's token handling (filters/jwt): everything that reads bytes
// a client or a key file controls. The first byte picks what the rest is:
//
//   '0' (mod 4)  a compact JWS, verified against one of four key sets chosen
//                by the second byte (the RFC 7515 A.1 HMAC key, A.2 RSA key,
//                A.3 P-256 key, RFC 8037 Ed25519 key), then its claims
//                checked. The seeds are the RFCs' own tokens, which verify.
//   '1'          a claims set (raw JSON; the harness base64url-encodes it),
//                checked against a policy that uses every feature: what
//                mutated payloads can only reach behind a valid signature.
//   '2'          a JWK set for parse_jwks().
//   '3'          base64url text, and a request whose Authorization and
//                Cookie headers and query carry the input.
//
// Invariants: whatever a Grant holds can go into a header (no CR/LF/NUL,
// no control bytes) and stays within the attribute bounds; a decoded
// base64url string re-encodes to exactly its input (one spelling per value);
// found tokens are views into the request.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/text_util.h"
#include "filters/jwt/base64url.h"
#include "filters/jwt/claims.h"
#include "filters/jwt/jwks.h"
#include "filters/jwt/jws.h"
#include "filters/jwt/token_source.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ringway;
using namespace ringway::filters::jwt;

namespace {

// Public keys of RFC 7515 A.1-A.3 and RFC 8037 A.2 (oct keys must name their alg here).
const char* const kJwks[4] = {
    R"({"kty":"oct","alg":"HS256","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})",
    R"({"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"})",
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",
    R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
};

constexpr int64_t kNow = 1300819000LL * 1000;  // before the RFC tokens' exp

struct Setup {
  KeySetPtr keys[4];
  ClaimPolicy policy;
  ClaimPolicy lax;  // nothing required, so more inputs reach the grant
  TokenScratch scratch{8192};
  Setup() {
    for (int i = 0; i < 4; ++i) {
      JwksResult r = parse_jwks(kJwks[i], "fuzz");
      FUZZ_CHECK(r.error.empty() && r.keys.size() == 1);
      keys[i] = std::make_shared<const KeySet>(std::move(r.keys));
    }
    policy.issuers = {"joe", "https://issuer.example"};
    policy.audiences = {"api"};
    policy.required_claims = {"sub"};
    policy.scopes = {"read"};
    policy.forward_claims = {"sub", "email", "roles"};
    lax.require_exp = false;
    lax.forward_claims = policy.forward_claims;
  }
};

Setup& setup() {
  static Setup* s = new Setup;
  return *s;
}

void check_grant(const Grant& g, size_t forward_count) {
  for (const auto& [index, value] : g.headers) {
    FUZZ_CHECK(index < forward_count);
    FUZZ_CHECK(config::detail::is_field_value(value));
  }
  FUZZ_CHECK(g.attributes.size() <= kMaxAttributes);
  for (const auto& [name, value] : g.attributes) {
    FUZZ_CHECK(name.size() > 4 && name.compare(0, 4, "jwt.") == 0);
    FUZZ_CHECK(name.size() <= 4 + kMaxAttributeNameBytes);
    FUZZ_CHECK(value.size() <= kMaxAttributeValueBytes);
    FUZZ_CHECK(config::detail::is_field_value(value));
  }
}

void fuzz_token(std::string_view token, int key_index) {
  Setup& s = setup();
  if (token.size() > 8192) return;  // the filter refuses these before parsing
  const fuzz::Buffer buf(reinterpret_cast<const uint8_t*>(token.data()), token.size());
  const std::string_view t(buf.begin(), buf.size);
  std::string_view payload;
  const Key* key = nullptr;
  const Failure f = verify_jws(t, *s.keys[key_index], s.scratch, &payload, &key);
  if (f != Failure::kNone) return;
  FUZZ_CHECK(key == &s.keys[key_index]->keys()[0]);
  FUZZ_CHECK(buf.holds(payload));
  Grant grant;
  if (check_claims(payload, s.lax, kNow, s.scratch, &grant) == Failure::kNone)
    check_grant(grant, s.lax.forward_claims.size());
}

void fuzz_claims(std::string_view json) {
  Setup& s = setup();
  const std::string segment = base64url_encode(json);
  Grant grant;
  Failure f = check_claims(segment, s.policy, kNow, s.scratch, &grant);
  if (f == Failure::kNone) {
    check_grant(grant, s.policy.forward_claims.size());
    FUZZ_CHECK(grant.valid_until_ms > kNow);
  }
  f = check_claims(segment, s.lax, kNow, s.scratch, &grant);
  if (f == Failure::kNone) check_grant(grant, s.lax.forward_claims.size());
}

void fuzz_jwks(std::string_view json) {
  JwksResult r = parse_jwks(json, "fuzz");
  if (!r.error.empty()) {
    FUZZ_CHECK(r.keys.empty());
    FUZZ_CHECK(r.error.find('\n') == std::string::npos);
    return;
  }
  FUZZ_CHECK(!r.keys.empty());
  for (const Key& k : r.keys) {
    FUZZ_CHECK((k.pkey != nullptr) != (k.hmac != nullptr));
    if (alg_family(k.alg) == AlgFamily::kEcdsa)
      FUZZ_CHECK(k.ecdsa_order.size() == alg_ecdsa_coordinate_size(k.alg));
  }
}

void fuzz_text(std::string_view text) {
  std::string decoded;
  if (base64url_decode(text, &decoded)) FUZZ_CHECK(base64url_encode(decoded) == text);
  FUZZ_CHECK(base64url_decode(base64url_encode(text), &decoded) && decoded == text);

  const fuzz::Buffer buf(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  const std::string_view v(buf.begin(), buf.size);
  http::RequestHead head;
  head.headers.push_back({"Authorization", v});
  head.headers.push_back({"Cookie", v});
  head.query = v;
  std::vector<TokenSource> sources(3);
  sources[1].kind = TokenSource::Kind::kCookie;
  sources[1].name = "session";
  sources[2].kind = TokenSource::Kind::kQuery;
  sources[2].name = "access_token";
  for (size_t first = 0; first < 3; ++first) {
    std::vector<TokenSource> one{sources[first]};
    std::string_view token;
    if (find_token(one, head, &token) == Lookup::kFound) {
      FUZZ_CHECK(!token.empty());
      FUZZ_CHECK(buf.holds(token));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      if (!rest.empty()) fuzz_token(rest.substr(1), static_cast<unsigned char>(rest[0]) % 4);
      break;
    case 1:
      fuzz_claims(rest);
      break;
    case 2:
      fuzz_jwks(rest);
      break;
    case 3:
      fuzz_text(rest);
      break;
  }
  return 0;
}
