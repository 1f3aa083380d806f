// The JWS layer: RFC 7515 Appendix A and RFC 8037 vectors, every supported
// algorithm with fresh keys, and the attacks a verifier must refuse.

#include <gtest/gtest.h>

#include <string>

#include "filters/jwt/claims.h"
#include "filters/jwt/jwks.h"
#include "filters/jwt/jws.h"
#include "filters/jwt/key_material.h"
#include "tests/unit/filters/jwt/jwt_test_util.h"

namespace ringway::filters::jwt {
namespace {

using testing::b64;
using testing::TestKeys;

// RFC 7515 A.1: the HMAC key as a JWK. The RFC's JWK has no "alg"; oct keys
// here must name theirs.
constexpr const char* kA1Jwk =
    R"({"kty":"oct","alg":"HS256",
        "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";
constexpr const char* kA1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// RFC 7515 A.2: the RSA public key (n, e of the appendix's key) and token.
constexpr const char* kA2Jwk =
    R"({"kty":"RSA","e":"AQAB","n":")"
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
    "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
    "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
    "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}";
constexpr const char* kA2Token =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGb"
    "ds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0Gar"
    "ZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9"
    "Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515 A.3 (ES256) and A.4 (ES512; its payload is the text "Payload").
constexpr const char* kA3Jwk =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
constexpr const char* kA3Token =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
constexpr const char* kA4Jwk =
    R"({"kty":"EC","crv":"P-521",
        "x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
        "y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"})";
constexpr const char* kA4Token =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdC"
    "APZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

// RFC 8037 A.2 public key and A.4 JWS (payload "Example of Ed25519 signing").
constexpr const char* kEd25519Jwk =
    R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
constexpr const char* kEd25519Token =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// The RFC claims' exp is 1300819380 (2011-03-22T18:43:00Z).
constexpr int64_t kRfcExpMs = 1300819380LL * 1000;

KeySetPtr jwks(const std::string& json) {
  JwksResult r = parse_jwks(json, "test");
  EXPECT_EQ(r.error, "") << json;
  return std::make_shared<const KeySet>(std::move(r.keys));
}

Failure verify(const std::string& token, const KeySet& keys, std::string* payload = nullptr) {
  TokenScratch scratch(64 * 1024);
  std::string_view p;
  const Key* key = nullptr;
  Failure f = verify_jws(token, keys, scratch, &p, &key);
  if (f == Failure::kNone) {
    EXPECT_NE(key, nullptr);
    std::string decoded;
    EXPECT_TRUE(base64url_decode(p, &decoded));
    if (payload != nullptr) *payload = decoded;
  }
  return f;
}

// Replaces the character at `pos` (negative: from the end) with another valid one.
std::string flip(std::string token, long pos) {
  const size_t i = pos >= 0 ? static_cast<size_t>(pos) : token.size() - static_cast<size_t>(-pos);
  token[i] = token[i] == 'A' ? 'B' : 'A';
  return token;
}

std::string segment(const std::string& token, int n) {
  size_t start = 0;
  for (int i = 0; i < n; ++i) start = token.find('.', start) + 1;
  return token.substr(start, token.find('.', start) - start);
}

// ---- RFC vectors ----

TEST(RfcVectors, A1HmacSha256) {
  auto keys = jwks(kA1Jwk);
  std::string payload;
  ASSERT_EQ(verify(kA1Token, *keys, &payload), Failure::kNone);
  EXPECT_EQ(payload, "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");

  // The claims pass just before exp (no leeway) and fail at it.
  ClaimPolicy policy;
  policy.issuers = {"joe"};
  policy.leeway_ms = 0;
  TokenScratch scratch(8192);
  Grant grant;
  EXPECT_EQ(check_claims(segment(kA1Token, 1), policy, kRfcExpMs - 1, scratch, &grant), Failure::kNone);
  EXPECT_EQ(grant.valid_until_ms, kRfcExpMs);
  EXPECT_EQ(check_claims(segment(kA1Token, 1), policy, kRfcExpMs, scratch, &grant), Failure::kExpired);

  EXPECT_NE(verify(flip(kA1Token, 10), *keys), Failure::kNone) << "header changed";
  EXPECT_EQ(verify(flip(kA1Token, 60), *keys), Failure::kSignature) << "payload changed";
  EXPECT_EQ(verify(flip(kA1Token, -10), *keys), Failure::kSignature) << "signature changed";
}

TEST(RfcVectors, A2RsaPkcs1Sha256) {
  auto keys = jwks(kA2Jwk);
  ASSERT_EQ(keys->keys().size(), 1u);
  EXPECT_EQ(keys->keys()[0].alg, Alg::kRS256) << "RSA JWK without alg: RS256";
  std::string payload;
  EXPECT_EQ(verify(kA2Token, *keys, &payload), Failure::kNone);
  EXPECT_EQ(payload.substr(0, 12), "{\"iss\":\"joe\"");
  EXPECT_EQ(verify(flip(kA2Token, 60), *keys), Failure::kSignature);
  EXPECT_EQ(verify(flip(kA2Token, -20), *keys), Failure::kSignature);
}

TEST(RfcVectors, A3EcdsaP256Sha256) {
  auto keys = jwks(kA3Jwk);
  EXPECT_EQ(keys->keys()[0].alg, Alg::kES256) << "implied by the curve";
  EXPECT_EQ(verify(kA3Token, *keys), Failure::kNone);
  EXPECT_EQ(verify(flip(kA3Token, 60), *keys), Failure::kSignature);
  EXPECT_EQ(verify(flip(kA3Token, -30), *keys), Failure::kSignature);
}

TEST(RfcVectors, A4EcdsaP521Sha512OverANonJsonPayload) {
  auto keys = jwks(kA4Jwk);
  EXPECT_EQ(keys->keys()[0].alg, Alg::kES512);
  std::string payload;
  ASSERT_EQ(verify(kA4Token, *keys, &payload), Failure::kNone);
  EXPECT_EQ(payload, "Payload");
  // A valid JWS, but not a JWT: its payload is not a claims set.
  TokenScratch scratch(8192);
  Grant grant;
  EXPECT_EQ(check_claims(segment(kA4Token, 1), ClaimPolicy{}, testing::kNowMs, scratch, &grant),
            Failure::kMalformed);
  EXPECT_EQ(verify(flip(kA4Token, -40), *keys), Failure::kSignature);
}

TEST(RfcVectors, Rfc8037Ed25519) {
  auto keys = jwks(kEd25519Jwk);
  EXPECT_EQ(keys->keys()[0].alg, Alg::kEdDSA);
  std::string payload;
  ASSERT_EQ(verify(kEd25519Token, *keys, &payload), Failure::kNone);
  EXPECT_EQ(payload, "Example of Ed25519 signing");
  EXPECT_EQ(verify(flip(kEd25519Token, 25), *keys), Failure::kSignature);
  EXPECT_EQ(verify(flip(kEd25519Token, -30), *keys), Failure::kSignature);
  // RFC 9864's fully-specified name for the same algorithm.
  const std::string in = b64(R"({"alg":"Ed25519"})") + "." + segment(kEd25519Token, 1);
  EXPECT_EQ(verify(in + "." + segment(kEd25519Token, 2), *keys), Failure::kSignature)
      << "the header is signed too; renaming the alg changes the input";
}

TEST(RfcVectors, AKeyOnlyVerifiesItsOwnAlgorithm) {
  // The A.1 token against the A.2 RSA key: HS256 can never meet an RSA key.
  EXPECT_EQ(verify(kA1Token, *jwks(kA2Jwk)), Failure::kAlgorithm);
  EXPECT_EQ(verify(kA2Token, *jwks(kA1Jwk)), Failure::kAlgorithm);
  EXPECT_EQ(verify(kA3Token, *jwks(kA4Jwk)), Failure::kAlgorithm);
}

// ---- every algorithm with fresh keys ----

struct AlgCase {
  Alg alg;
  EVP_PKEY* key;  // private; null for HMAC
};

TEST(AllAlgorithms, SignAndVerifyWithFreshKeys) {
  const TestKeys& k = TestKeys::get();
  const std::string secret(64, 's');
  const AlgCase cases[] = {
      {Alg::kHS256, nullptr},        {Alg::kHS384, nullptr},        {Alg::kHS512, nullptr},
      {Alg::kRS256, k.rsa.get()},    {Alg::kRS384, k.rsa.get()},    {Alg::kRS512, k.rsa.get()},
      {Alg::kPS256, k.rsa.get()},    {Alg::kPS384, k.rsa.get()},    {Alg::kPS512, k.rsa.get()},
      {Alg::kES256, k.p256.get()},   {Alg::kES384, k.p384.get()},   {Alg::kES512, k.p521.get()},
      {Alg::kEdDSA, k.ed25519.get()},
  };
  for (const AlgCase& c : cases) {
    SCOPED_TRACE(std::string(alg_name(c.alg)));
    Key key;
    key.kid = "k";
    std::string error;
    if (c.key == nullptr) {
      error = make_hmac_key(secret, c.alg, &key);
    } else {
      error = make_public_key(pem_public_key(testing::public_pem(c.key), &error), c.alg, &key);
    }
    ASSERT_EQ(error, "");
    std::vector<Key> list;
    list.push_back(std::move(key));
    KeySet keys(std::move(list));
    const std::string header = R"({"alg":")" + std::string(alg_name(c.alg)) + R"(","kid":"k"})";
    const std::string payload = R"({"sub":"alice"})";
    const std::string token = c.key == nullptr
                                  ? testing::token_with_secret(secret, c.alg, header, payload)
                                  : testing::token_with_key(c.key, c.alg, header, payload);
    EXPECT_EQ(verify(token, keys), Failure::kNone);
    EXPECT_EQ(verify(flip(token, static_cast<long>(token.find('.')) + 3), keys), Failure::kSignature);
    EXPECT_EQ(verify(flip(token, -5), keys), Failure::kSignature);
  }
}

TEST(AllAlgorithms, PssAndPkcs1AreNotInterchangeable) {
  const TestKeys& k = TestKeys::get();
  Key key;
  std::string error;
  ASSERT_EQ(make_public_key(pem_public_key(testing::public_pem(k.rsa.get()), &error), Alg::kRS256, &key), "");
  std::vector<Key> list;
  list.push_back(std::move(key));
  KeySet keys(std::move(list));
  // A PKCS#1 signature presented as RS256 verifies; the same key's PSS
  // signature under the RS256 name does not.
  const std::string in = testing::signing_input(R"({"alg":"RS256"})", "{}");
  EXPECT_EQ(verify(in + "." + b64(testing::sign_with(k.rsa.get(), Alg::kRS256, in)), keys), Failure::kNone);
  EXPECT_EQ(verify(in + "." + b64(testing::sign_with(k.rsa.get(), Alg::kPS256, in)), keys),
            Failure::kSignature);
}

// ---- attacks ----

class Attacks : public ::testing::Test {
 protected:
  void SetUp() override {
    const TestKeys& k = TestKeys::get();
    pem_ = testing::public_pem(k.rsa.get());
    std::string error;
    Key rsa;
    rsa.kid = "rsa";
    ASSERT_EQ(make_public_key(pem_public_key(pem_, &error), Alg::kRS256, &rsa), "");
    Key ec;
    ec.kid = "ec";
    ASSERT_EQ(make_public_key(pem_public_key(testing::public_pem(k.p256.get()), &error), Alg::kES256, &ec), "");
    std::vector<Key> list;
    list.push_back(std::move(rsa));
    list.push_back(std::move(ec));
    keys_ = std::make_shared<const KeySet>(std::move(list));
  }
  std::string rsa_token(const std::string& header, const std::string& payload = "{}") {
    return testing::token_with_key(TestKeys::get().rsa.get(), Alg::kRS256, header, payload);
  }
  std::string ec_token(const std::string& header, const std::string& payload = "{}") {
    return testing::token_with_key(TestKeys::get().p256.get(), Alg::kES256, header, payload);
  }
  Failure check(const std::string& token) { return verify(token, *keys_); }

  std::string pem_;
  KeySetPtr keys_;
};

TEST_F(Attacks, ValidTokensPass) {
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa"})")), Failure::kNone);
  EXPECT_EQ(check(ec_token(R"({"alg":"ES256","kid":"ec"})")), Failure::kNone);
}

TEST_F(Attacks, AlgNoneInAnySpelling) {
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    const std::string in = testing::signing_input(R"({"alg":")" + std::string(alg) + R"(","kid":"rsa"})", "{}");
    EXPECT_EQ(check(in + "."), Failure::kMalformed) << alg << ": empty signature";
    EXPECT_EQ(check(in + ".AAAA"), Failure::kAlgorithm) << alg;
  }
}

TEST_F(Attacks, HmacWithThePublicKeyAsSecretIsKeyConfusion) {
  // The classic: the attacker HMACs with the server's public key bytes and
  // names HS256, hoping the verifier feeds "the key" to HMAC.
  for (const std::string& secret : {pem_, testing::bn_param(TestKeys::get().rsa.get(), "n")}) {
    EXPECT_EQ(check(testing::token_with_secret(secret, Alg::kHS256, R"({"alg":"HS256","kid":"rsa"})",
                                               R"({"sub":"admin"})")),
              Failure::kAlgorithm);
  }
  // And an RSA signature under an EC key's kid.
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"ec"})")), Failure::kAlgorithm);
  EXPECT_EQ(check(rsa_token(R"({"alg":"ES256","kid":"rsa"})")), Failure::kAlgorithm);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS512","kid":"rsa"})")), Failure::kAlgorithm);
  EXPECT_EQ(check(rsa_token(R"({"alg":"rs256","kid":"rsa"})")), Failure::kAlgorithm) << "case-sensitive";
}

TEST_F(Attacks, KidSelectsTheKey) {
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"nope"})")), Failure::kUnknownKey);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256"})")), Failure::kUnknownKey) << "no kid, two keys";
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":""})")), Failure::kUnknownKey);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":7})")), Failure::kMalformed);
  // With exactly one key, a token without kid uses it.
  std::vector<Key> one;
  std::string error;
  Key rsa;
  ASSERT_EQ(make_public_key(pem_public_key(pem_, &error), Alg::kRS256, &rsa), "");
  one.push_back(std::move(rsa));
  EXPECT_EQ(verify(rsa_token(R"({"alg":"RS256"})"), KeySet(std::move(one))), Failure::kNone);
}

TEST_F(Attacks, EmbeddedKeysAndKeyUrlsAreNeverUsed) {
  // Signed with the attacker's own key, which the header carries or points at.
  const TestKeys& k = TestKeys::get();
  const std::string jwk = testing::public_jwk(k.rsa_other.get());
  for (const std::string& extra :
       {R"("jwk":)" + jwk, std::string(R"("jku":"https://evil.example/jwks.json")"),
        std::string(R"("x5u":"https://evil.example/cert.pem")"), std::string(R"("x5c":["MIIB"])")}) {
    const std::string header = R"({"alg":"RS256","kid":"rsa",)" + extra + "}";
    EXPECT_EQ(check(testing::token_with_key(k.rsa_other.get(), Alg::kRS256, header, "{}")),
              Failure::kSignature)
        << extra;
  }
  // Present but harmless: the right key still verifies.
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","jku":"https://evil.example/"})")), Failure::kNone);
}

TEST_F(Attacks, TamperedPayloadAndSignature) {
  const std::string good = rsa_token(R"({"alg":"RS256","kid":"rsa"})", R"({"sub":"alice"})");
  const std::string other = rsa_token(R"({"alg":"RS256","kid":"rsa"})", R"({"sub":"admin"})");
  // Alice's signature on the admin payload.
  const std::string spliced = good.substr(0, good.find('.') + 1) + segment(other, 1) + "." + segment(good, 2);
  EXPECT_EQ(check(spliced), Failure::kSignature);
  std::string sig;
  ASSERT_TRUE(base64url_decode(segment(good, 2), &sig));
  const std::string signed_part = good.substr(0, good.rfind('.') + 1);
  EXPECT_EQ(check(signed_part + b64(sig.substr(0, sig.size() - 1))), Failure::kSignature) << "truncated";
  EXPECT_EQ(check(signed_part + b64(sig.substr(1))), Failure::kSignature) << "truncated at the front";
  EXPECT_EQ(check(good + "AAAA"), Failure::kSignature) << "extended signature";
  EXPECT_EQ(check(good.substr(0, good.rfind('.') + 1) + b64(std::string(256, '\0'))), Failure::kSignature);
}

TEST_F(Attacks, CriticalHeadersAndUnencodedPayloads) {
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1})")), Failure::kCritical);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","crit":[]})")), Failure::kCritical);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","b64":false,"crit":["b64"]})")), Failure::kCritical);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","b64":false})")), Failure::kCritical);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","b64":true})")), Failure::kNone);
  EXPECT_EQ(check(rsa_token(R"({"alg":"RS256","kid":"rsa","enc":"A128GCM"})")), Failure::kMalformed);
}

TEST_F(Attacks, MalformedShapes) {
  const std::string good = rsa_token(R"({"alg":"RS256","kid":"rsa"})");
  const std::string h = segment(good, 0), p = segment(good, 1), s = segment(good, 2);
  EXPECT_EQ(check(h + "." + p), Failure::kMalformed) << "two segments";
  EXPECT_EQ(check(h + "." + p + "." + s + "." + s), Failure::kMalformed) << "four";
  EXPECT_EQ(check(h + "." + p + "." + s + ".x.y"), Failure::kMalformed) << "five (JWE)";
  EXPECT_EQ(check("." + p + "." + s), Failure::kMalformed) << "empty header";
  EXPECT_EQ(check(h + ".." + s), Failure::kMalformed) << "empty payload";
  EXPECT_EQ(check(""), Failure::kMalformed);
  EXPECT_EQ(check(".."), Failure::kMalformed);
  EXPECT_EQ(check(h + "=." + p + "." + s), Failure::kMalformed) << "padding";
  EXPECT_EQ(check(h + "." + p + "." + s + "=="), Failure::kMalformed) << "padded signature";
  std::string plus = good;
  plus[good.rfind('.') + 3] = '+';
  EXPECT_EQ(check(plus), Failure::kMalformed) << "standard alphabet";
  EXPECT_EQ(check(h + " ." + p + "." + s), Failure::kMalformed) << "space";
  EXPECT_EQ(check(h + "." + p + "." + s + "\n"), Failure::kMalformed) << "newline";
}

TEST_F(Attacks, HeadersThatAreNotCleanJsonObjects) {
  const std::string p = b64("{}");
  auto with_header = [&](const std::string& json) { return b64(json) + "." + p + ".AAAA"; };
  EXPECT_EQ(check(with_header("not json")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"(["alg","RS256"])")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"("RS256")")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"({"alg":"RS256","kid":"rsa"} x)")), Failure::kMalformed) << "trailing bytes";
  EXPECT_EQ(check(with_header(R"({"alg":"RS256","kid":"rsa")")), Failure::kMalformed) << "truncated";
  EXPECT_EQ(check(with_header(R"({"kid":"rsa"})")), Failure::kMalformed) << "no alg";
  EXPECT_EQ(check(with_header(R"({"alg":null,"kid":"rsa"})")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"({"alg":["RS256"],"kid":"rsa"})")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(std::string("{\"alg\":\"RS256\xff\",\"kid\":\"rsa\"}"))), Failure::kMalformed)
      << "invalid UTF-8";
  // Duplicate names, also when one is spelt with an escape.
  EXPECT_EQ(check(with_header(R"({"alg":"HS256","alg":"RS256","kid":"rsa"})")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"({"alg":"RS256","a\u006cg":"none","kid":"rsa"})")), Failure::kMalformed);
  EXPECT_EQ(check(with_header(R"({"alg":"RS256","kid":"rsa","kid":"ec"})")), Failure::kMalformed);
  // Deep nesting is refused before it costs anything.
  EXPECT_EQ(check(with_header(R"({"alg":"RS256","kid":"rsa","x":)" + std::string(100, '[') +
                              std::string(100, ']') + "}")),
            Failure::kMalformed);
  // An escaped alg is still the alg.
  EXPECT_EQ(check(rsa_token(R"({"\u0061lg":"RS256","kid":"r\u0073a"})")), Failure::kNone);
}

TEST_F(Attacks, EcdsaSignatureEncodings) {
  const std::string header = R"({"alg":"ES256","kid":"ec"})";
  const std::string in = testing::signing_input(header, "{}");
  const std::string raw = testing::sign_with(TestKeys::get().p256.get(), Alg::kES256, in);
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_EQ(check(in + "." + b64(raw)), Failure::kNone);

  std::string n(32, '\0');
  EXPECT_EQ(keys_->select("ec", true)->ecdsa_order.size(), 32u);
  n = keys_->select("ec", true)->ecdsa_order;
  const std::string zero(32, '\0');
  EXPECT_EQ(check(in + "." + b64(zero + raw.substr(32))), Failure::kSignature) << "r = 0";
  EXPECT_EQ(check(in + "." + b64(raw.substr(0, 32) + zero)), Failure::kSignature) << "s = 0";
  EXPECT_EQ(check(in + "." + b64(zero + zero)), Failure::kSignature) << "r = s = 0";
  EXPECT_EQ(check(in + "." + b64(raw.substr(0, 32) + n)), Failure::kSignature) << "s = n";
  EXPECT_EQ(check(in + "." + b64(n + raw.substr(32))), Failure::kSignature) << "r = n";
  EXPECT_EQ(check(in + "." + b64(raw.substr(0, 32) + std::string(32, '\xFF'))), Failure::kSignature) << "s > n";
  EXPECT_EQ(check(in + "." + b64(raw.substr(1))), Failure::kSignature) << "63 bytes";
  EXPECT_EQ(check(in + "." + b64(raw + "\x01")), Failure::kSignature) << "65 bytes";
  // The DER form OpenSSL itself produces is not a JWS signature.
  unsigned char der[kMaxEcdsaDer];
  const size_t len = ecdsa_der(raw, n, der);
  ASSERT_GT(len, 0u);
  EXPECT_EQ(check(in + "." + b64(std::string(reinterpret_cast<char*>(der), len))), Failure::kSignature);
}

// ---- JWKS ----

TEST(Jwks, SkipsKeysItCannotUseAndRefusesBrokenOnes) {
  const TestKeys& k = TestKeys::get();
  const std::string ec = testing::public_jwk(k.p256.get(), "ec1");
  JwksResult r = parse_jwks(R"({"keys":[)" + ec +
                                R"(,{"kty":"RSA","use":"enc","kid":"enc","n":"AQAB","e":"AQAB"},
                                 {"kty":"EC","crv":"secp256k1","kid":"k1","x":"AA","y":"AA"},
                                 {"kty":"OKP","crv":"X25519","kid":"x","x":"AA"},
                                 {"kty":"RSA","alg":"RSA-OAEP","kid":"oaep","n":"AQAB","e":"AQAB"},
                                 {"kty":"EC","key_ops":["encrypt"],"crv":"P-256","x":"AA","y":"AA"},
                                 {"kty":"XYZ"}]})",
                            "keys.json");
  EXPECT_EQ(r.error, "");
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.skipped, 6u);
  EXPECT_EQ(r.keys[0].kid, "ec1");
  EXPECT_EQ(r.keys[0].origin, "keys.json key 1 (kid \"ec1\")");

  auto error = [](const std::string& json) { return parse_jwks(json, "k").error; };
  EXPECT_EQ(error("nope"), "is not valid JSON");
  EXPECT_EQ(error("[]"), "is not a JSON object (a JWK set {\"keys\": [...]} or one JWK)");
  EXPECT_EQ(error(R"({"keys":{}})"), "has \"keys\" that is not an array");
  EXPECT_EQ(error(R"({"keys":[]})"),
            "has no usable signature verification key (0 skipped: encryption keys, or unsupported "
            "types, curves or algorithms)");
  EXPECT_EQ(error(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"AA","y":"AA"}]})"),
            "key 1 (kid \"a\") has x or y of the wrong length for P-256 (32 bytes each)");
  EXPECT_EQ(error(R"({"keys":[{"kty":"RSA","kid":"a","n":"AQAB"}]})"), "key 1 (kid \"a\") has no \"e\"");
  EXPECT_EQ(error(R"({"keys":[{"kty":"RSA","n":"AQA=","e":"AQAB"}]})"),
            "key 1 member \"n\" is not strict base64url");
  EXPECT_EQ(error(R"({"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"}]})"),
            "key 1 is an oct (HMAC) key without \"alg\"; add \"alg\": \"HS256\" (or HS384, HS512)");
  EXPECT_EQ(error(R"({"kty":"oct","alg":"HS256","k":"c2hvcnQ"})"),
            "key 1 secret is 5 bytes; HS256 needs a secret of at least 32 bytes (RFC 7518 3.2)");
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","alg":"none","x":"AA","y":"AA"})"),
            "key 1 has alg \"none\"");
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","kty":"RSA"})"), "key 1 has member \"kty\" twice");
  // A private JWK (the RFC 7515 A.3 key with its "d") does not belong here.
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                     "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})"),
            "key 1 contains private key parameters (\"d\"); give the public key only");
  // A point not on the curve (the first character of y changed).
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y":"y_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})"),
            "key 1 is not a valid P-256 public key (point not on the curve?)");
  // A key whose alg does not fit it.
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","alg":"ES384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})"),
            "key 1 is an EC P-256 key, which cannot verify ES384");
  EXPECT_EQ(error(R"({"kty":"EC","crv":"P-256","alg":"HS256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})"),
            "key 1 is a public key; HS256 needs a secret (secret_file)");
}

TEST(Jwks, RefusesShortRsaKeys) {
  testing::Pkey small = testing::generate("RSA", nullptr, 1024);
  JwksResult r = parse_jwks(testing::public_jwk(small.get(), "old"), "k");
  EXPECT_EQ(r.error, "key 1 (kid \"old\") is an RSA 1024-bit key; RS256 needs at least 2048 bits");
}

}  // namespace
}  // namespace ringway::filters::jwt
