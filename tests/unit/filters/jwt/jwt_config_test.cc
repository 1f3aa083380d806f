// The jwt filter's config errors, each with its exact "FILE:LINE:COLUMN:
// message" line (the YAML below is the filter's own map; line 1 is "type").
// Also: what a correct config turns into.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/filters/jwt/jwt_test_util.h"

namespace ringway::filters::jwt {
namespace {

using testing::Harness;
using testing::TestKeys;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecretText = "tooshort-secret-value";

class JwtConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const TestKeys& k = TestKeys::get();
    dir_.write("rsa.pem", testing::public_pem(k.rsa.get()));
    dir_.write("ec.pem", testing::public_pem(k.p256.get()));
    dir_.write("priv.pem", testing::private_pem(k.p256.get()));
    dir_.write("short.key", std::string(kSecretText) + "\n");
    dir_.write("good.key", std::string(64, 'k'));
    dir_.write("keys.json", "{\"keys\":[" + testing::public_jwk(k.p256.get(), "ec") + "]}");
    dir_.write("private.json", testing::public_jwk(k.p256.get(), "ec").insert(1, "\"d\":\"AAAA\","));
    dir_.write("garbage.pem", "hello\n");
  }

  std::string error(const std::string& yaml) {
    EXPECT_FALSE(h_.build(yaml)) << yaml;
    EXPECT_EQ(h_.error().find('\n'), std::string::npos) << "one line";
    return h_.error();
  }

  testing::TempDir dir_;
  Harness h_{dir_};
};

TEST_F(JwtConfigTest, AMinimalConfigAndItsDefaults) {
  ASSERT_TRUE(h_.build("{ type: jwt, jwks_file: keys.json, issuer: \"https://issuer.example\", audience: api }"))
      << h_.error();
  const JwtSettings& s = h_.jwt().settings();
  EXPECT_THAT(s.policy.issuers, ::testing::ElementsAre("https://issuer.example"));
  EXPECT_THAT(s.policy.audiences, ::testing::ElementsAre("api"));
  EXPECT_EQ(s.policy.leeway_ms, 60'000);
  EXPECT_TRUE(s.policy.require_exp);
  EXPECT_TRUE(s.policy.claim_attributes);
  EXPECT_EQ(s.cache_entries, 10000u);
  EXPECT_EQ(s.cache_ttl_ms, 300'000);
  EXPECT_EQ(s.max_token_bytes, 8192u);
  EXPECT_EQ(s.realm, "ringway");
  EXPECT_TRUE(s.forward_token);
  ASSERT_EQ(s.sources.size(), 1u);
  EXPECT_EQ(s.sources[0].name, "Authorization");
  EXPECT_EQ(s.sources[0].scheme, "Bearer");
  uint64_t version = 0;
  EXPECT_EQ(h_.jwt().key_store().current(&version)->keys().size(), 1u);
  EXPECT_EQ(h_.filter()->phases(), filter::kRequestHead);
}

TEST_F(JwtConfigTest, EveryKeyRead) {
  ASSERT_TRUE(h_.build("type: jwt\n"
                       "keys: [{file: rsa.pem, kid: r, alg: PS384}, {secret_file: good.key, kid: h, alg: HS512}]\n"
                       "jwks_file: keys.json\n"
                       "leeway: 5s\n"
                       "require_exp: false\n"
                       "required_claims: sub\n"
                       "scopes: [read, \"write:all\"]\n"
                       "forward_claims: {sub: X-User-Id, tenant: X-Tenant}\n"
                       "claim_attributes: false\n"
                       "token: [{header: X-Token, scheme: Token}, {cookie: s}, {query: t}]\n"
                       "cache_entries: 0\n"
                       "cache_ttl: 30s\n"
                       "max_token_size: 2KiB\n"
                       "realm: \"my api\"\n"))
      << h_.error();
  const JwtSettings& s = h_.jwt().settings();
  uint64_t version = 0;
  const auto keys = h_.jwt().key_store().current(&version);
  ASSERT_EQ(keys->keys().size(), 3u);
  EXPECT_EQ(keys->keys()[0].kid, "ec") << "jwks_file first";
  EXPECT_EQ(keys->keys()[1].alg, Alg::kPS384);
  EXPECT_EQ(keys->keys()[2].alg, Alg::kHS512);
  EXPECT_EQ(s.policy.leeway_ms, 5000);
  EXPECT_FALSE(s.policy.require_exp);
  EXPECT_THAT(s.policy.required_claims, ::testing::ElementsAre("sub"));
  EXPECT_THAT(s.policy.scopes, ::testing::ElementsAre("read", "write:all"));
  EXPECT_THAT(s.policy.forward_claims, ::testing::ElementsAre("sub", "tenant"));
  EXPECT_THAT(s.forward_headers, ::testing::ElementsAre("X-User-Id", "X-Tenant"));
  EXPECT_FALSE(s.policy.claim_attributes);
  ASSERT_EQ(s.sources.size(), 3u);
  EXPECT_EQ(s.sources[0].scheme, "Token");
  EXPECT_EQ(s.sources[1].kind, TokenSource::Kind::kCookie);
  EXPECT_EQ(s.sources[2].kind, TokenSource::Kind::kQuery);
  EXPECT_EQ(s.cache_entries, 0u);
  EXPECT_EQ(s.cache_ttl_ms, 30'000);
  EXPECT_EQ(s.max_token_bytes, 2048u);
  EXPECT_EQ(s.realm, "my api");
}

TEST_F(JwtConfigTest, JwksUrlNamesAnUpstream) {
  h_.add_upstream("idp");
  h_.add_upstream("origin");
  ASSERT_TRUE(h_.build("type: jwt\n"
                       "jwks_url: http://idp/.well-known/jwks.json?v=1\n"))
      << h_.error();
  const auto& jwks = h_.jwt().settings().jwks;
  ASSERT_TRUE(jwks.has_value());
  EXPECT_EQ(jwks->url, "http://idp/.well-known/jwks.json?v=1");
  EXPECT_EQ(jwks->upstream, "idp");
  EXPECT_EQ(jwks->path, "/.well-known/jwks.json?v=1");
  EXPECT_EQ(jwks->refresh_ms, 300'000);
  EXPECT_EQ(jwks->min_refresh_ms, 30'000);
  EXPECT_EQ(jwks->max_bytes, 1024u * 1024);
  uint64_t version = 0;
  EXPECT_EQ(h_.jwt().key_store().current(&version)->keys().size(), 0u) << "empty until fetched";

  // With static keys, and every jwks_ setting.
  ASSERT_TRUE(h_.build("type: jwt\n"
                       "jwks_url: HTTP://origin/keys%2Fall\n"
                       "jwks_file: keys.json\n"
                       "keys: [{file: rsa.pem, kid: r, alg: RS256}]\n"
                       "jwks_refresh: 1h\n"
                       "jwks_min_refresh: 5s\n"
                       "jwks_max_bytes: 64KiB\n"))
      << h_.error();
  const auto& all = h_.jwt().settings().jwks;
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->upstream, "origin");
  EXPECT_EQ(all->path, "/keys%2Fall");
  EXPECT_EQ(all->refresh_ms, 3'600'000);
  EXPECT_EQ(all->min_refresh_ms, 5'000);
  EXPECT_EQ(all->max_bytes, 64u * 1024);
  EXPECT_EQ(h_.jwt().key_store().current(&version)->keys().size(), 2u);

  // Without jwks_url there is nothing to fetch.
  ASSERT_TRUE(h_.build("type: jwt\njwks_file: keys.json\n")) << h_.error();
  EXPECT_FALSE(h_.jwt().settings().jwks.has_value());
}

TEST_F(JwtConfigTest, JwksUrlErrors) {
  h_.add_upstream("idp");
  h_.add_upstream("origin");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: https://idp/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: https is not supported: the engine has no TLS to "
            "upstreams yet (use http://UPSTREAM/PATH)");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idq/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: unknown upstream \"idq\" (did you mean \"idp\"?)");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://login.example.com/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: unknown upstream \"login.example.com\"; the host of "
            "jwks_url names an entry of upstreams (whose endpoints give the address)");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp:8080/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: unknown upstream \"idp:8080\"; the host of jwks_url "
            "names an entry of upstreams (whose endpoints give the address)");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: ftp://idp/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: expected http://UPSTREAM/PATH, UPSTREAM being one of "
            "the config's upstreams, got \"ftp://idp/jwks.json\"");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: idp/jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: expected http://UPSTREAM/PATH, UPSTREAM being one of "
            "the config's upstreams, got \"idp/jwks.json\"");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http:///jwks.json\n"),
            "t.yaml:2:11: filters.auth.jwks_url: expected http://UPSTREAM/PATH, UPSTREAM being one of "
            "the config's upstreams, got \"http:///jwks.json\"");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp\n"),
            "t.yaml:2:11: filters.auth.jwks_url: \"http://idp\" has no path; give the key set's path "
            "(http://idp/.well-known/jwks.json)");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp?x=1\n"),
            "t.yaml:2:11: filters.auth.jwks_url: \"http://idp?x=1\" has no path; give the key set's path "
            "(http://idp/.well-known/jwks.json)");
  const std::string not_origin_form =
      " is not origin-form (RFC 9112 3.2.1): no spaces, \"#\", non-ASCII or control characters; "
      "percent-encode them";
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: \"http://idp/my keys.json\"\n"),
            "t.yaml:2:11: filters.auth.jwks_url: the path \"/my keys.json\"" + not_origin_form);
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: \"http://idp/jwks.json#top\"\n"),
            "t.yaml:2:11: filters.auth.jwks_url: the path \"/jwks.json#top\"" + not_origin_form);
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp/100%\n"),
            "t.yaml:2:11: filters.auth.jwks_url: the path \"/100%\"" + not_origin_form);
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp/jwks.json\n"
                  "jwks_refresh: 1s\n"),
            "t.yaml:3:15: filters.auth.jwks_refresh: must be between 10s and 24h, got 1s");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp/jwks.json\n"
                  "jwks_min_refresh: 0s\n"),
            "t.yaml:3:19: filters.auth.jwks_min_refresh: must be between 1s and 1h, got 0s");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp/jwks.json\n"
                  "jwks_max_bytes: 100\n"),
            "t.yaml:3:17: filters.auth.jwks_max_bytes: must be between 1KiB and 16MiB, got 100");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_file: keys.json\n"
                  "jwks_refresh: 10m\n"),
            "t.yaml:3:1: filters.auth.jwks_refresh: applies only with \"jwks_url\"");
  // A static key must have a kid once fetched keys may join it.
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_url: http://idp/jwks.json\n"
                  "keys:\n"
                  "  - {file: rsa.pem, alg: RS256}\n"),
            "t.yaml:4:5: filters.auth.keys[0]: rsa.pem has no kid; every key needs one when jwks_url "
            "adds keys");
}

TEST_F(JwtConfigTest, UnreadableAndUnusableKeyFiles) {
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_file: missing.json\n"),
            "t.yaml:2:12: filters.auth.jwks_file: cannot read \"missing.json\": No such file or directory");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_file: private.json\n"),
            "t.yaml:2:12: filters.auth.jwks_file: \"private.json\" key 1 (kid \"ec\") contains private key "
            "parameters (\"d\"); give the public key only");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_file: rsa.pem\n"),
            "t.yaml:2:12: filters.auth.jwks_file: \"rsa.pem\" is not valid JSON");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: nothere.pem\n"),
            "t.yaml:3:11: filters.auth.keys[0].file: cannot read \"nothere.pem\": No such file or directory");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: priv.pem\n"),
            "t.yaml:3:11: filters.auth.keys[0].file: \"priv.pem\" holds a private key; give the public key "
            "only (openssl pkey -in KEY -pubout)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: garbage.pem\n"),
            "t.yaml:3:11: filters.auth.keys[0].file: \"garbage.pem\" holds no PEM public key or certificate");
}

TEST_F(JwtConfigTest, AlgorithmsMustFitTheKey) {
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: rsa.pem\n"
                  "    alg: RS257\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: unknown alg \"RS257\" (expected one of HS256, HS384, "
            "HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: rsa.pem\n"
                  "    alg: none\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: alg \"none\" (unsigned tokens) is never accepted");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: rsa.pem\n"
                  "    alg: ES256\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: \"rsa.pem\" is an RSA 2048-bit key, which cannot verify ES256");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: rsa.pem\n"
                  "    alg: HS256\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: \"rsa.pem\" is a public key; HS256 needs a secret (secret_file)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: ec.pem\n"
                  "    alg: ES384\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: \"ec.pem\" is an EC P-256 key, which cannot verify ES384");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - file: rsa.pem\n"),
            "t.yaml:3:5: filters.auth.keys[0]: \"rsa.pem\" is an RSA 2048-bit key; give its \"alg\" (RS256, "
            "PS256, ...)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - secret_file: good.key\n"
                  "    alg: RS256\n"),
            "t.yaml:4:10: filters.auth.keys[0].alg: \"good.key\" is a secret; RS256 needs a public key");
}

TEST_F(JwtConfigTest, ShortRsaKeysAreRefused) {
  testing::Pkey small = testing::generate("RSA", nullptr, 1024);
  dir_.write("small.pem", testing::public_pem(small.get()));
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - {file: small.pem, alg: RS256}\n"),
            "t.yaml:3:28: filters.auth.keys[0].alg: \"small.pem\" is an RSA 1024-bit key; RS256 needs at "
            "least 2048 bits");
}

TEST_F(JwtConfigTest, HmacSecretsAreCheckedButNeverShown) {
  const std::string e = error("type: jwt\n"
                              "keys:\n"
                              "  - secret_file: short.key\n"
                              "    alg: HS256\n");
  EXPECT_EQ(e, "t.yaml:3:18: filters.auth.keys[0].secret_file: \"short.key\" is 21 bytes; HS256 needs a "
               "secret of at least 32 bytes (RFC 7518 3.2)");
  EXPECT_THAT(e, Not(HasSubstr(kSecretText)));
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - secret_file: good.key\n"),
            "t.yaml:3:5: filters.auth.keys[0]: an HMAC secret needs \"alg\" (HS256, HS384 or HS512)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - {secret_file: good.key, file: rsa.pem, alg: HS256}\n"),
            "t.yaml:3:5: filters.auth.keys[0]: give exactly one of \"file\" (a PEM public key) or "
            "\"secret_file\" (an HMAC secret)");
  // A 64-byte secret is enough for HS512.
  EXPECT_TRUE(h_.build("type: jwt\nkeys: [{secret_file: good.key, alg: HS512}]\n")) << h_.error();
}

TEST_F(JwtConfigTest, KeysAndKids) {
  EXPECT_EQ(error("type: jwt\n"
                  "issuer: x\n"),
            "t.yaml:1:1: filters.auth: a jwt filter needs keys: give \"jwks_file\", \"keys\" or "
            "\"jwks_url\"");
  EXPECT_EQ(error("type: jwt\n"
                  "jwks_file: keys.json\n"
                  "keys:\n"
                  "  - {file: rsa.pem, kid: ec, alg: RS256}\n"),
            "t.yaml:4:5: filters.auth.keys[0]: kid \"ec\" is used twice (keys.json key 1 (kid \"ec\"), rsa.pem)");
  EXPECT_EQ(error("type: jwt\n"
                  "keys:\n"
                  "  - {file: rsa.pem, kid: r, alg: RS256}\n"
                  "  - {file: ec.pem}\n"),
            "t.yaml:4:5: filters.auth.keys[1]: ec.pem has no kid; every key needs one when there are several");
  EXPECT_EQ(error("type: jwt\n"
                  "keys: []\n"),
            "t.yaml:2:7: filters.auth.keys: must not be empty");
  EXPECT_EQ(error("type: jwt\n"
                  "keys: [{file: rsa.pem, alg: RS256, use: sig}]\n"),
            "t.yaml:2:36: unknown key \"use\" in filters.auth.keys[0]");
}

TEST_F(JwtConfigTest, OtherSettings) {
  const std::string head = "type: jwt\njwks_file: keys.json\n";  // the setting under test is line 3
  EXPECT_EQ(error(head + "issuers: x\n"),
            "t.yaml:3:1: unknown key \"issuers\" in filter \"auth\" (did you mean \"issuer\"?)");
  EXPECT_EQ(error(head + "leeway: 1d\n"),
            "t.yaml:3:9: filters.auth.leeway: expected a duration such as 500ms or 10s (units ms, s, m, h), got \"1d\"");
  EXPECT_EQ(error(head + "leeway: 1h\n"), "t.yaml:3:9: filters.auth.leeway: must be between 0ms and 10m, got 1h");
  EXPECT_EQ(error(head + "cache_entries: -1\n"),
            "t.yaml:3:16: filters.auth.cache_entries: must be between 0 and 10000000, got -1");
  EXPECT_EQ(error(head + "max_token_size: 1MiB\n"),
            "t.yaml:3:17: filters.auth.max_token_size: must be between 1KiB and 64KiB, got 1MiB");
  EXPECT_EQ(error(head + "scopes: \"read write\"\n"),
            "t.yaml:3:9: filters.auth.scopes: invalid scope \"read write\" (list scopes separately: [read, write])");
  EXPECT_EQ(error(head + "scopes: [read, read]\n"), "t.yaml:3:16: filters.auth.scopes[1]: \"read\" is listed twice");
  EXPECT_EQ(error(head + "forward_claims: {sub: Host}\n"),
            "t.yaml:3:23: filters.auth.forward_claims.sub: \"Host\" is managed by the proxy and cannot carry a claim");
  EXPECT_EQ(error(head + "forward_claims: {sub: \"X User\"}\n"),
            "t.yaml:3:23: filters.auth.forward_claims.sub: invalid header name \"X User\"");
  EXPECT_EQ(error(head + "forward_claims: {sub: X-User, email: x-user}\n"),
            "t.yaml:3:38: filters.auth.forward_claims.email: header \"x-user\" is used twice");
  EXPECT_EQ(error(head + "token: {header: Authorization, cookie: s}\n"),
            "t.yaml:3:8: filters.auth.token: give exactly one of \"header\", \"cookie\" or \"query\"");
  EXPECT_EQ(error(head + "token: {cookie: s, scheme: Bearer}\n"),
            "t.yaml:3:28: filters.auth.token.scheme: \"scheme\" applies to a header source only");
  EXPECT_EQ(error(head + "token: [{query: \"a&b\"}]\n"),
            "t.yaml:3:17: filters.auth.token[0].query: invalid query parameter name \"a&b\"");
  EXPECT_EQ(error(head + "realm: 'say \"hi\"'\n"),
            "t.yaml:3:8: filters.auth.realm: realm must not contain quotes, backslashes or control characters");
  EXPECT_EQ(error(head + "token: {query: t}\nforward_token: false\n"),
            "t.yaml:4:16: filters.auth.forward_token: forward_token: false is not supported with a query "
            "token source yet");
  EXPECT_EQ(error(head + "require_exp: maybe\n"),
            "t.yaml:3:14: filters.auth.require_exp: expected true or false, got \"maybe\"");
}

}  // namespace
}  // namespace ringway::filters::jwt
