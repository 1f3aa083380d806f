// The jwt filter end to end through its request-head phase: built from YAML
// with key files on disk, fed requests the way the engine does, checked on
// outcome, response, forwarded headers, attributes, cache and counters.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "filters/jwt/key_material.h"
#include "tests/unit/filters/jwt/jwt_test_util.h"

namespace ringway::filters::jwt {
namespace {

using filter::Outcome;
using testing::b64;
using testing::Exchange;
using testing::Harness;
using testing::kNowMs;
using testing::kNowS;
using testing::TestKeys;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef-hmac";  // 37 bytes

class JwtFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const TestKeys& k = TestKeys::get();
    dir_.write("keys.json", R"({"keys":[)" + testing::public_jwk(k.rsa.get(), "rsa-1", "RS256") + "," +
                                testing::public_jwk(k.p256.get(), "ec-1") + "," +
                                testing::public_jwk(k.ed25519.get(), "ed-1") + "]}");
    dir_.write("ed.pem", testing::public_pem(k.ed25519.get()));
    dir_.write("hs.key", std::string(kSecret) + "\n");
    ASSERT_TRUE(build(kBase)) << h_.error();
  }

  static constexpr const char* kBase =
      "type: jwt\n"
      "jwks_file: keys.json\n"
      "issuer: \"https://issuer.example\"\n"
      "audience: api\n"
      "forward_claims: {sub: X-User-Id, email: X-User-Email}\n";

  bool build(const std::string& yaml) { return h_.build(yaml); }

  // Claims valid at kNowMs, with `extra` members appended.
  static std::string claims(const std::string& extra = "") {
    return R"({"iss":"https://issuer.example","aud":"api","sub":"alice","iat":)" + std::to_string(kNowS) +
           ",\"exp\":" + std::to_string(kNowS + 600) + extra + "}";
  }
  static std::string rs256(const std::string& payload, const std::string& kid = "rsa-1") {
    return testing::token_with_key(TestKeys::get().rsa.get(), Alg::kRS256,
                                   R"({"alg":"RS256","typ":"JWT","kid":")" + kid + "\"}", payload);
  }
  static std::string es256(const std::string& payload) {
    return testing::token_with_key(TestKeys::get().p256.get(), Alg::kES256,
                                   R"({"alg":"ES256","kid":"ec-1"})", payload);
  }

  // The request's outcome when it carries `token`.
  std::unique_ptr<Exchange> send(const std::string& token, int64_t now = kNowMs) {
    return h_.bearer(token, now);
  }
  // The error_description of a refused request, "" when it went through.
  std::string refusal(const std::string& token, int64_t now = kNowMs) {
    auto x = send(token, now);
    if (x->outcome == Outcome::kProceed) return "";
    const std::string www = x->response_header("WWW-Authenticate");
    const size_t at = www.find("error_description=\"");
    if (at == std::string::npos) return www;
    return www.substr(at + 19, www.find('"', at + 19) - at - 19);
  }

  testing::TempDir dir_;
  Harness h_{dir_};
};

TEST_F(JwtFilterTest, AValidTokenPassesWithItsClaimsForwarded) {
  auto x = send(rs256(claims(R"(,"email":"alice@example.com","admin":true,"n":-7,"https://example.com/tenant":"acme")")));
  EXPECT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_EQ(x->status(), 0) << "no local response";
  EXPECT_THAT(x->request_headers("X-User-Id"), ElementsAre("alice"));
  EXPECT_THAT(x->request_headers("X-User-Email"), ElementsAre("alice@example.com"));
  EXPECT_EQ(x->attribute("jwt.sub"), "alice");
  EXPECT_EQ(x->attribute("jwt.iss"), "https://issuer.example");
  EXPECT_EQ(x->attribute("jwt.exp"), std::to_string(kNowS + 600));
  EXPECT_EQ(x->attribute("jwt.n"), "-7");
  EXPECT_EQ(x->attribute("jwt.https://example.com/tenant"), "acme") << "namespaced claims too";
  EXPECT_FALSE(x->ctx.has_attribute("jwt.admin")) << "strings and integers only";
  // The token itself still goes upstream.
  EXPECT_EQ(x->request_headers("Authorization").size(), 1u);
  EXPECT_EQ(h_.counters().accepted, 1u);
  EXPECT_EQ(h_.counters().verified, 1u);
  EXPECT_EQ(h_.counters().failed(), 0u);
}

TEST_F(JwtFilterTest, EveryKeyTypeOfTheSetWorks) {
  EXPECT_EQ(refusal(es256(claims())), "");
  EXPECT_EQ(refusal(testing::token_with_key(TestKeys::get().ed25519.get(), Alg::kEdDSA,
                                            R"({"alg":"EdDSA","kid":"ed-1"})", claims())),
            "");
}

TEST_F(JwtFilterTest, ClientCopiesOfForwardedHeadersAreAlwaysRemoved) {
  Exchange x;
  x.header("X-User-Id", "mallory").header("x-user-id", "eve").header("X-USER-EMAIL", "boss@example.com");
  x.header("Authorization", "Bearer " + rs256(claims()));  // no email claim
  h_.run(x);
  ASSERT_EQ(x.outcome, Outcome::kProceed);
  EXPECT_THAT(x.request_headers("X-User-Id"), ElementsAre("alice"));
  EXPECT_THAT(x.request_headers("X-User-Email"), IsEmpty());
}

TEST_F(JwtFilterTest, AMissingTokenGetsABareChallenge) {
  Exchange x;
  x.header("Accept", "*/*");
  h_.run(x);
  EXPECT_EQ(x.outcome, Outcome::kRespond);
  EXPECT_EQ(x.status(), 401);
  EXPECT_EQ(x.response_header("WWW-Authenticate"), "Bearer realm=\"ringway\"");
  EXPECT_EQ(x.response_header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(x.body(), "unauthorized: missing token\n");
  // Another auth scheme counts as no token (RFC 6750 3.1).
  Exchange basic;
  basic.header("Authorization", "Basic YWxpY2U6cHc=");
  h_.run(basic);
  EXPECT_EQ(basic.status(), 401);
  EXPECT_EQ(basic.response_header("WWW-Authenticate"), "Bearer realm=\"ringway\"");
  EXPECT_EQ(h_.counters().failures[static_cast<size_t>(Failure::kMissingToken)], 2u);
}

TEST_F(JwtFilterTest, AnInvalidTokenGetsInvalidToken) {
  auto x = send(rs256(claims()) + "x");
  EXPECT_EQ(x->outcome, Outcome::kRespond);
  EXPECT_EQ(x->status(), 401);
  EXPECT_EQ(x->response_header("WWW-Authenticate"),
            "Bearer realm=\"ringway\", error=\"invalid_token\", error_description=\"malformed token\"");
  EXPECT_EQ(x->body(), "unauthorized: malformed token\n");
  EXPECT_THAT(x->request_headers("X-User-Id"), IsEmpty());
  EXPECT_FALSE(x->ctx.has_attribute("jwt.sub"));
}

TEST_F(JwtFilterTest, TwoTokensAreABadRequest) {
  Exchange x;
  x.header("Authorization", "Bearer " + rs256(claims())).header("Authorization", "Bearer " + es256(claims()));
  h_.run(x);
  EXPECT_EQ(x.status(), 400);
  EXPECT_EQ(x.response_header("WWW-Authenticate"),
            "Bearer realm=\"ringway\", error=\"invalid_request\", error_description=\"more than one token "
            "in the request\"");
  // An empty credential is a malformed request too (RFC 6750 3.1).
  Exchange empty;
  empty.header("Authorization", "Bearer ");
  h_.run(empty);
  EXPECT_EQ(empty.status(), 400);
  EXPECT_EQ(empty.response_header("WWW-Authenticate"),
            "Bearer realm=\"ringway\", error=\"invalid_request\", error_description=\"empty token\"");
}

TEST_F(JwtFilterTest, TimeClaimsWithLeeway) {
  // Default leeway: 60 s either way.
  EXPECT_EQ(refusal(rs256(claims()), (kNowS + 600 + 59) * 1000), "");
  EXPECT_EQ(refusal(rs256(claims()), (kNowS + 600 + 60) * 1000), "token expired");
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api","exp":)" +
                          std::to_string(kNowS - 61) + "}")),
            "token expired");
  EXPECT_EQ(refusal(rs256(claims(",\"nbf\":" + std::to_string(kNowS + 60)))), "");
  EXPECT_EQ(refusal(rs256(claims(",\"nbf\":" + std::to_string(kNowS + 61)))), "token not yet valid");
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api","iat":)" +
                          std::to_string(kNowS + 61) + ",\"exp\":" + std::to_string(kNowS + 600) + "}")),
            "token issued in the future");
  // NumericDate may be fractional.
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api","exp":)" +
                          std::to_string(kNowS) + ".5}"),
                    kNowMs + 60'499),
            "");
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api","exp":)" +
                          std::to_string(kNowS) + ".5}"),
                    kNowMs + 60'500),
            "token expired");
  // Wrong types are invalid, not ignored.
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api","exp":")" +
                          std::to_string(kNowS + 600) + "\"}")),
            "invalid claim value");
  EXPECT_EQ(refusal(rs256(claims(R"(,"nbf":null)"))), "invalid claim value");
  // exp is required unless require_exp: false.
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api"})")), "missing required claim");
  ASSERT_TRUE(build(std::string(kBase) + "require_exp: false\nleeway: 0s\n")) << h_.error();
  EXPECT_EQ(refusal(rs256(R"({"iss":"https://issuer.example","aud":"api"})")), "");
  EXPECT_EQ(refusal(rs256(claims()), (kNowS + 600) * 1000), "token expired") << "no leeway";
}

TEST_F(JwtFilterTest, IssuerAndAudience) {
  auto with = [](const std::string& iss_aud) {
    return "{" + iss_aud + ",\"exp\":" + std::to_string(kNowS + 600) + "}";
  };
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":"api")"))), "");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example/","aud":"api")"))), "invalid issuer");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://ISSUER.example","aud":"api")"))), "invalid issuer");
  EXPECT_EQ(refusal(rs256(with(R"("aud":"api")"))), "invalid issuer") << "missing";
  EXPECT_EQ(refusal(rs256(with(R"("iss":["https://issuer.example"],"aud":"api")"))), "invalid claim value");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":["web","api"])"))), "");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":["web","apix"])"))), "invalid audience");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":[])"))), "invalid audience");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":"web")"))), "invalid audience");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","x":1)"))), "invalid audience") << "missing";
  EXPECT_EQ(refusal(rs256(with(R"("iss":"https://issuer.example","aud":["api",7])"))), "invalid claim value");
  // Lists in the config.
  ASSERT_TRUE(build("type: jwt\njwks_file: keys.json\nissuer: [a, b]\naudience: [x, y]\n")) << h_.error();
  EXPECT_EQ(refusal(rs256(with(R"("iss":"b","aud":["z","y"])"))), "");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"c","aud":"x")"))), "invalid issuer");
  // Neither configured: any issuer; but a token naming recipients is for
  // them, not for a gateway that is none (RFC 7519 4.1.3).
  ASSERT_TRUE(build("type: jwt\njwks_file: keys.json\n")) << h_.error();
  EXPECT_EQ(refusal(rs256(with(R"("iss":"anyone")"))), "");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"anyone","aud":"anything")"))), "invalid audience");
  EXPECT_EQ(refusal(rs256(with(R"("iss":"anyone","aud":[])"))), "invalid audience");
}

TEST_F(JwtFilterTest, RequiredClaims) {
  ASSERT_TRUE(build(std::string(kBase) + "required_claims: [sub, tenant]\n")) << h_.error();
  EXPECT_EQ(refusal(rs256(claims(R"(,"tenant":"t1")"))), "");
  EXPECT_EQ(refusal(rs256(claims(R"(,"tenant":null)"))), "missing required claim");
  EXPECT_EQ(refusal(rs256(claims())), "missing required claim");
}

TEST_F(JwtFilterTest, MissingScopesAre403) {
  ASSERT_TRUE(build(std::string(kBase) + "scopes: [read, write]\n")) << h_.error();
  EXPECT_EQ(refusal(rs256(claims(R"(,"scope":"admin write read")"))), "");
  EXPECT_EQ(refusal(rs256(claims(R"(,"scp":["read","write"])"))), "");
  EXPECT_EQ(refusal(rs256(claims(R"(,"scp":"read write")"))), "");
  EXPECT_EQ(refusal(rs256(claims(R"(,"scope":"read","scp":["write"])"))), "");

  auto x = send(rs256(claims(R"(,"scope":"read writer")")));
  EXPECT_EQ(x->outcome, Outcome::kRespond);
  EXPECT_EQ(x->status(), 403);
  EXPECT_EQ(x->response_header("WWW-Authenticate"),
            "Bearer realm=\"ringway\", error=\"insufficient_scope\", error_description=\"insufficient "
            "scope\", scope=\"read write\"");
  EXPECT_EQ(x->body(), "forbidden: insufficient scope\n");
  EXPECT_EQ(send(rs256(claims()))->status(), 403) << "no scope at all";
  EXPECT_EQ(refusal(rs256(claims(R"(,"scope":["read","write"])"))), "invalid claim value");
  // A token failing something else is still a 401.
  EXPECT_EQ(send(rs256(claims(R"(,"scope":"read write")")), (kNowS + 3600) * 1000)->status(), 401);
}

TEST_F(JwtFilterTest, ForwardedValuesMustBeSafeHeaderText) {
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"a@b\r\nX-Admin: yes")"))), "invalid claim value");
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"a@b\nX-Admin: yes")"))), "invalid claim value");
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"a\u0000b")"))), "invalid claim value");
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"a\u007fb")"))), "invalid claim value");
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"tab\tok")"))), "");
  // What an upstream would read as another value (whitespace it strips, an
  // array element that its comma splits in two) is not forwarded; the token
  // is still good (an LDAP DN in a group claim holds commas).
  for (const char* value : {R"("admin\t")", R"(" admin")", R"(["user,admin"])", R"(["CN=A,OU=B"])"}) {
    auto x = send(rs256(claims(std::string(R"(,"email":)") + value)));
    ASSERT_EQ(x->outcome, Outcome::kProceed) << value;
    EXPECT_THAT(x->request_headers("X-User-Email"), IsEmpty()) << value;
  }
  EXPECT_EQ(refusal(rs256(claims(R"(,"email":"a,b")"))), "") << "a string is one value";
  // A claim that is not forwarded may hold anything.
  EXPECT_EQ(refusal(rs256(claims(R"(,"note":"line1\r\nline2")"))), "");

  auto x = send(rs256(R"({"iss":"https://issuer.example","aud":"api","exp":)" + std::to_string(kNowS + 60) +
                      R"(,"sub":12345678901234,"email":["a@x","b@y",3,true]})"));
  ASSERT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_THAT(x->request_headers("X-User-Id"), ElementsAre("12345678901234"));
  EXPECT_THAT(x->request_headers("X-User-Email"), ElementsAre("a@x,b@y,3,true"));
  // Objects and null forward nothing (and still strip the client's copy).
  x = std::make_unique<Exchange>();
  x->header("X-User-Id", "mallory").header("X_User_Id", "mallory").header("x_user-ID", "mallory");
  x->header("Authorization", "Bearer " + rs256(R"({"iss":"https://issuer.example","aud":"api","exp":)" +
                                               std::to_string(kNowS + 60) +
                                               R"(,"sub":{"id":1},"email":null})"));
  h_.run(*x);
  ASSERT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_THAT(x->request_headers("X-User-Id"), IsEmpty());
  EXPECT_THAT(x->request_headers("X_User_Id"), IsEmpty()) << "CGI reads it as X-User-Id";
  EXPECT_THAT(x->request_headers("x_user-ID"), IsEmpty());
  EXPECT_THAT(x->request_headers("X-User-Email"), IsEmpty());
}

TEST_F(JwtFilterTest, AttributesAreBounded) {
  std::string extra;
  for (int i = 0; i < 40; ++i) extra += ",\"c" + std::to_string(i) + "\":\"v\"";
  extra += R"(,"long":")" + std::string(300, 'x') + "\"";
  extra += R"(,"http://example.com/is_root":"yes","ctl":"a\u0001b")";
  auto x = send(rs256(claims(extra)));
  ASSERT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_EQ(x->attribute("jwt.sub"), "alice");
  EXPECT_EQ(x->attribute("jwt.c0"), "v");
  EXPECT_FALSE(x->ctx.has_attribute("jwt.c39")) << "at most 32";
  EXPECT_FALSE(x->ctx.has_attribute("jwt.long"));
  EXPECT_FALSE(x->ctx.has_attribute("jwt.http://example.com/is_root"));
  EXPECT_FALSE(x->ctx.has_attribute("jwt.ctl"));
  // Whitespace an upstream strips would make " admin" read as "admin" once a
  // header template carries it: set no attribute, as forward_claims sets no header.
  x = send(rs256(claims(R"(,"pad":" admin","tab":"admin\t","inner":"a b")")));
  ASSERT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_FALSE(x->ctx.has_attribute("jwt.pad"));
  EXPECT_FALSE(x->ctx.has_attribute("jwt.tab"));
  EXPECT_EQ(x->attribute("jwt.inner"), "a b");
  ASSERT_TRUE(build(std::string(kBase) + "claim_attributes: false\n")) << h_.error();
  x = send(rs256(claims()));
  ASSERT_EQ(x->outcome, Outcome::kProceed);
  EXPECT_FALSE(x->ctx.has_attribute("jwt.sub"));
  EXPECT_THAT(x->request_headers("X-User-Id"), ElementsAre("alice"));
}

TEST_F(JwtFilterTest, PayloadsThatAreNotCleanClaimSets) {
  EXPECT_EQ(refusal(rs256(R"({"sub":"alice","sub":"admin","iss":"https://issuer.example","aud":"api","exp":)" +
                          std::to_string(kNowS + 60) + "}")),
            "malformed token")
      << "duplicate claim";
  EXPECT_EQ(refusal(rs256("[1,2]")), "malformed token");
  EXPECT_EQ(refusal(rs256("not json")), "malformed token");
  EXPECT_EQ(refusal(rs256(claims() + " ")), "");  // trailing whitespace is still JSON
  EXPECT_EQ(refusal(rs256(claims() + "{}")), "malformed token");
}

TEST_F(JwtFilterTest, SizeLimit) {
  const std::string big = rs256(claims(R"(,"pad":")" + std::string(9000, 'p') + "\""));
  ASSERT_GT(big.size(), 8192u);
  EXPECT_EQ(refusal(big), "token too large");
  EXPECT_EQ(refusal(std::string(100'000, 'A')), "token too large");
  ASSERT_TRUE(build(std::string(kBase) + "max_token_size: 16KiB\n")) << h_.error();
  EXPECT_EQ(refusal(big), "");
}

TEST_F(JwtFilterTest, CookieAndQuerySources) {
  ASSERT_TRUE(build(std::string(kBase) + "token: [{cookie: session}, {query: access_token}]\n")) << h_.error();
  const std::string token = rs256(claims());
  Exchange c;
  c.header("Cookie", "theme=dark; session=" + token);
  h_.run(c);
  EXPECT_EQ(c.outcome, Outcome::kProceed);
  Exchange q;
  q.query("a=1&access_token=" + token);
  h_.run(q);
  EXPECT_EQ(q.outcome, Outcome::kProceed);
  // The Authorization header is not a source any more.
  EXPECT_EQ(send(token)->status(), 401);
  EXPECT_EQ(send(token)->response_header("WWW-Authenticate"), "Bearer realm=\"ringway\"");

  ASSERT_TRUE(build(std::string(kBase) + "token: {header: X-Token}\nrealm: internal\n")) << h_.error();
  Exchange raw;
  raw.header("X-Token", token);
  h_.run(raw);
  EXPECT_EQ(raw.outcome, Outcome::kProceed);
  Exchange none;
  h_.run(none);
  EXPECT_EQ(none.response_header("WWW-Authenticate"), "Bearer realm=\"internal\"");
}

TEST_F(JwtFilterTest, TheTokenCanBeKeptFromTheUpstream) {
  const std::string token = rs256(claims());
  ASSERT_TRUE(build(std::string(kBase) + "forward_token: false\n")) << h_.error();
  for (int i = 0; i < 2; ++i) {  // verified, then from the cache
    Exchange x;
    x.header("Accept", "*/*").header("Authorization", "Bearer " + token);
    h_.run(x);
    ASSERT_EQ(x.outcome, Outcome::kProceed);
    EXPECT_THAT(x.request_headers("Authorization"), IsEmpty());
    EXPECT_THAT(x.request_headers("Accept"), ElementsAre("*/*"));
  }
  EXPECT_EQ(h_.counters().cache_hits, 1u);

  ASSERT_TRUE(build(std::string(kBase) + "token: {cookie: session}\nforward_token: false\n")) << h_.error();
  Exchange c;
  c.header("Cookie", "theme=dark; session=" + token + "; lang=en").header("cookie", "session2=x");
  h_.run(c);
  ASSERT_EQ(c.outcome, Outcome::kProceed);
  EXPECT_THAT(c.request_headers("Cookie"), ElementsAre("theme=dark; lang=en", "session2=x"));
  Exchange only;
  only.header("Cookie", "session=" + token);
  h_.run(only);
  ASSERT_EQ(only.outcome, Outcome::kProceed);
  EXPECT_THAT(only.request_headers("Cookie"), IsEmpty());

  // The same token in two sources is accepted: no copy of it goes on.
  ASSERT_TRUE(build(std::string(kBase) +
                    "token: [{header: Authorization}, {cookie: session}, {header: X-Token, scheme: \"\"}]\n"
                    "forward_token: false\n"))
      << h_.error();
  for (int i = 0; i < 2; ++i) {  // verified, then from the cache
    Exchange both;
    both.header("Authorization", "Bearer " + token)
        .header("Cookie", "session=" + token + "; theme=dark")
        .header("X-Token", token);
    h_.run(both);
    ASSERT_EQ(both.outcome, Outcome::kProceed);
    EXPECT_THAT(both.request_headers("Authorization"), IsEmpty());
    EXPECT_THAT(both.request_headers("Cookie"), ElementsAre("theme=dark"));
    EXPECT_THAT(both.request_headers("X-Token"), IsEmpty());
  }
  // A source holding something else is not the token's: it goes on.
  ASSERT_TRUE(build(std::string(kBase) +
                    "token: [{cookie: session}, {header: Authorization}]\nforward_token: false\n"))
      << h_.error();
  Exchange basic;
  basic.header("Cookie", "session=" + token).header("Authorization", "Basic dXNlcjpwdw==");
  h_.run(basic);
  ASSERT_EQ(basic.outcome, Outcome::kProceed);
  EXPECT_THAT(basic.request_headers("Cookie"), IsEmpty());
  EXPECT_THAT(basic.request_headers("Authorization"), ElementsAre("Basic dXNlcjpwdw=="));
}

TEST_F(JwtFilterTest, KeysFromPemAndSecretFiles) {
  ASSERT_TRUE(build("type: jwt\n"
                    "keys:\n"
                    "  - {file: ed.pem, kid: ed}\n"
                    "  - {secret_file: hs.key, kid: hs, alg: HS256}\n"
                    "forward_claims: {sub: X-User-Id}\n"))
      << h_.error();
  const std::string body = R"({"sub":"bob","exp":)" + std::to_string(kNowS + 60) + "}";
  EXPECT_EQ(refusal(testing::token_with_secret(kSecret, Alg::kHS256, R"({"alg":"HS256","kid":"hs"})", body)), "");
  // The newline at the end of the file is not part of the secret.
  EXPECT_EQ(refusal(testing::token_with_secret(std::string(kSecret) + "\n", Alg::kHS256,
                                               R"({"alg":"HS256","kid":"hs"})", body)),
            "invalid signature");
  EXPECT_EQ(refusal(testing::token_with_secret(kSecret, Alg::kHS512, R"({"alg":"HS512","kid":"hs"})", body)),
            "signature algorithm not allowed");
  EXPECT_EQ(refusal(testing::token_with_key(TestKeys::get().ed25519.get(), Alg::kEdDSA,
                                            R"({"alg":"EdDSA","kid":"ed"})", body)),
            "");
  EXPECT_EQ(refusal(testing::token_with_key(TestKeys::get().ed25519.get(), Alg::kEdDSA,
                                            R"({"alg":"EdDSA","kid":"hs"})", body)),
            "signature algorithm not allowed");
}

TEST_F(JwtFilterTest, AttacksEndToEnd) {
  const TestKeys& k = TestKeys::get();
  // alg none.
  EXPECT_EQ(refusal(b64(R"({"alg":"none","kid":"rsa-1"})") + "." + b64(claims()) + "."), "malformed token");
  EXPECT_EQ(refusal(b64(R"({"alg":"none","kid":"rsa-1"})") + "." + b64(claims()) + ".e30"),
            "signature algorithm not allowed");
  // HS256 keyed with the RSA public key's PEM.
  EXPECT_EQ(refusal(testing::token_with_secret(testing::public_pem(k.rsa.get()), Alg::kHS256,
                                               R"({"alg":"HS256","kid":"rsa-1"})", claims())),
            "signature algorithm not allowed");
  EXPECT_EQ(refusal(rs256(claims(), "rsa-2")), "unknown signing key");
  EXPECT_EQ(refusal(testing::token_with_key(k.rsa_other.get(), Alg::kRS256, R"({"alg":"RS256","kid":"rsa-1"})",
                                            claims())),
            "invalid signature");
  EXPECT_EQ(refusal(testing::token_with_key(k.rsa.get(), Alg::kRS256,
                                            R"({"alg":"RS256","kid":"rsa-1","crit":["x"],"x":1})", claims())),
            "unsupported critical header");
  const std::string good = rs256(claims());
  const std::string tampered = good.substr(0, good.find('.') + 1) + b64(claims(R"(,"admin":true)")) +
                               good.substr(good.rfind('.'));
  EXPECT_EQ(refusal(tampered), "invalid signature");
}

TEST_F(JwtFilterTest, TheCacheSkipsVerificationForARepeatedToken) {
  ASSERT_TRUE(build(std::string(kBase) + "cache_ttl: 1h\n")) << h_.error();
  const std::string token = rs256(claims(R"(,"email":"a@x")"));
  for (int i = 0; i < 3; ++i) {
    Exchange x;
    x.header("X-User-Id", "mallory").header("Authorization", "Bearer " + token);
    h_.run(x, kNowMs + i);
    ASSERT_EQ(x.outcome, Outcome::kProceed);
    EXPECT_THAT(x.request_headers("X-User-Id"), ElementsAre("alice")) << i;
    EXPECT_THAT(x.request_headers("X-User-Email"), ElementsAre("a@x")) << i;
    EXPECT_EQ(x.attribute("jwt.sub"), "alice") << i;
  }
  EXPECT_EQ(h_.counters().verified, 1u);
  EXPECT_EQ(h_.counters().cache_hits, 2u);
  EXPECT_EQ(h_.counters().accepted, 3u);
  EXPECT_EQ(h_.worker().cache.size(), 1u);

  // The entry dies with the token (exp + leeway); then the token is refused.
  EXPECT_EQ(refusal(token, (kNowS + 659) * 1000), "");
  EXPECT_EQ(h_.counters().cache_hits, 3u);
  EXPECT_EQ(refusal(token, (kNowS + 660) * 1000), "token expired");
  EXPECT_EQ(h_.counters().verified, 2u);
}

TEST_F(JwtFilterTest, TheCacheHoldsOnlySuccessesAndHonoursItsTtl) {
  ASSERT_TRUE(build(std::string(kBase) + "scopes: write\ncache_ttl: 10s\n")) << h_.error();
  const std::string no_scope = rs256(claims());
  EXPECT_EQ(send(no_scope)->status(), 403);
  EXPECT_EQ(send(no_scope)->status(), 403);
  EXPECT_EQ(h_.counters().verified, 2u) << "refusals are not cached";
  EXPECT_EQ(h_.worker().cache.size(), 0u);

  const std::string ok = rs256(claims(R"(,"scope":"write")"));
  EXPECT_EQ(refusal(ok), "");
  EXPECT_EQ(refusal(ok, kNowMs + 9'999), "");
  EXPECT_EQ(h_.counters().cache_hits, 1u);
  EXPECT_EQ(refusal(ok, kNowMs + 10'000), "");
  EXPECT_EQ(h_.counters().cache_hits, 1u) << "ttl over: verified again";
  EXPECT_EQ(h_.counters().verified, 4u);
}

TEST_F(JwtFilterTest, CacheCanBeDisabled) {
  ASSERT_TRUE(build(std::string(kBase) + "cache_entries: 0\n")) << h_.error();
  const std::string token = rs256(claims());
  EXPECT_EQ(refusal(token), "");
  EXPECT_EQ(refusal(token), "");
  EXPECT_EQ(h_.counters().verified, 2u);
  EXPECT_EQ(h_.counters().cache_hits, 0u);
}

TEST_F(JwtFilterTest, ANewKeySetTakesEffectAtOnceAndEmptiesTheCache) {
  const std::string token = rs256(claims());
  EXPECT_EQ(refusal(token), "");
  EXPECT_EQ(refusal(token), "");
  EXPECT_EQ(h_.counters().cache_hits, 1u);

  // Publish a set with only the EC key (what a JWKS refresher will do).
  std::vector<Key> keys;
  Key ec;
  ec.kid = "ec-1";
  std::string error;
  ASSERT_EQ(make_public_key(pem_public_key(testing::public_pem(TestKeys::get().p256.get()), &error),
                            Alg::kES256, &ec),
            "");
  keys.push_back(std::move(ec));
  h_.jwt().key_store().replace(std::make_shared<const KeySet>(std::move(keys)));

  EXPECT_EQ(refusal(token), "unknown signing key");
  EXPECT_EQ(h_.counters().cache_hits, 1u);
  EXPECT_EQ(refusal(es256(claims())), "");
}

TEST_F(JwtFilterTest, FailuresAreCountedByReason) {
  send(rs256(claims()));
  send(rs256(claims()) + "x");
  send(rs256(claims(), "nope"));
  send(rs256(claims()), (kNowS + 3600) * 1000);
  send(rs256(claims()), (kNowS + 3601) * 1000);
  const JwtCounters& c = h_.counters();
  EXPECT_EQ(c.accepted, 1u);
  EXPECT_EQ(c.failures[static_cast<size_t>(Failure::kMalformed)], 1u);
  EXPECT_EQ(c.failures[static_cast<size_t>(Failure::kUnknownKey)], 1u);
  EXPECT_EQ(c.failures[static_cast<size_t>(Failure::kExpired)], 2u);
  EXPECT_EQ(c.failed(), 4u);
  EXPECT_EQ(failure_name(Failure::kExpired), "expired");
  EXPECT_EQ(jwt_counters(nullptr), nullptr);
}

}  // namespace
}  // namespace ringway::filters::jwt
