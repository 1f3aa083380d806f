// The jwt filter's building blocks without crypto keys: strict base64url,
// the ECDSA raw-to-DER conversion and its range checks, token sources, and
// the verified-token cache.

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <string>

#include "filters/jwt/base64url.h"
#include "filters/jwt/signature.h"
#include "filters/jwt/token_cache.h"
#include "filters/jwt/token_source.h"

namespace ringway::filters::jwt {
namespace {

// ---- base64url ----

std::string decode(std::string_view s, bool* ok) {
  std::string out;
  *ok = base64url_decode(s, &out);
  return out;
}

TEST(Base64Url, DecodesRfc4648Vectors) {
  bool ok = false;
  EXPECT_EQ(decode("", &ok), "");
  EXPECT_TRUE(ok);
  EXPECT_EQ(decode("Zg", &ok), "f");
  EXPECT_TRUE(ok);
  EXPECT_EQ(decode("Zm8", &ok), "fo");
  EXPECT_TRUE(ok);
  EXPECT_EQ(decode("Zm9v", &ok), "foo");
  EXPECT_TRUE(ok);
  EXPECT_EQ(decode("Zm9vYmFy", &ok), "foobar");
  EXPECT_TRUE(ok);
  // The URL-safe characters: 0xFB 0xFF -> "-_8".
  EXPECT_EQ(decode("-_8", &ok), "\xFB\xFF");
  EXPECT_TRUE(ok);
}

TEST(Base64Url, RefusesEverythingButTheCanonicalSpelling) {
  bool ok = true;
  decode("Zg==", &ok);  // padding
  EXPECT_FALSE(ok);
  decode("Zm9v=", &ok);
  EXPECT_FALSE(ok);
  decode("+/8", &ok);  // standard alphabet
  EXPECT_FALSE(ok);
  decode("Zm 9v", &ok);  // whitespace
  EXPECT_FALSE(ok);
  decode("Zm9v\n", &ok);
  EXPECT_FALSE(ok);
  decode("Z", &ok);  // 4n+1 characters
  EXPECT_FALSE(ok);
  decode("Zm9vY", &ok);
  EXPECT_FALSE(ok);
  decode("Zh", &ok);  // "Zg" with a trailing bit set: same byte, other spelling
  EXPECT_FALSE(ok);
  decode("Zm9", &ok);  // "Zm8" with trailing bits set
  EXPECT_FALSE(ok);
  decode(std::string_view("Zm\0v", 4), &ok);
  EXPECT_FALSE(ok);
  decode("Zm9v\xC3\xA9", &ok);  // non-ASCII
  EXPECT_FALSE(ok);
}

TEST(Base64Url, EncodeRoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bool ok = false;
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos);
    EXPECT_EQ(decode(encoded, &ok), bytes) << i;
    EXPECT_TRUE(ok) << i;
    bytes.push_back(static_cast<char>(i * 37 + 11));
  }
}

// ---- ECDSA R || S -> DER ----

std::string order_of(int nid, size_t size) {
  EC_GROUP* g = EC_GROUP_new_by_curve_name(nid);
  std::string out(size, '\0');
  BN_bn2binpad(EC_GROUP_get0_order(g), reinterpret_cast<unsigned char*>(out.data()),
               static_cast<int>(size));
  EC_GROUP_free(g);
  return out;
}

std::string der(std::string_view raw, std::string_view order) {
  unsigned char out[kMaxEcdsaDer];
  const size_t n = ecdsa_der(raw, order, out);
  return std::string(reinterpret_cast<char*>(out), n);
}

TEST(EcdsaDer, EncodesMinimalPositiveIntegers) {
  const std::string n = order_of(NID_X9_62_prime256v1, 32);
  std::string raw(64, '\0');
  raw[31] = 1;                           // r = 1
  raw[32] = static_cast<char>(0x80);     // s = 0x80 00..00: needs a 0x00 pad
  const std::string d = der(raw, n);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.substr(0, 5), std::string("\x30\x26\x02\x01\x01", 5));
  EXPECT_EQ(d.substr(5, 4), std::string("\x02\x21\x00\x80", 4));
  EXPECT_EQ(d.size(), 2u + 3u + 35u);
}

TEST(EcdsaDer, RefusesZeroAndOutOfRangeValues) {
  const std::string n = order_of(NID_X9_62_prime256v1, 32);
  std::string one(32, '\0');
  one[31] = 1;
  const std::string zero(32, '\0');
  std::string n_minus_1 = n;
  n_minus_1[31] = static_cast<char>(n_minus_1[31] - 1);
  const std::string ff(32, '\xFF');

  EXPECT_FALSE(der(one + one, n).empty());
  EXPECT_FALSE(der(n_minus_1 + n_minus_1, n).empty());
  EXPECT_TRUE(der(zero + one, n).empty()) << "r = 0";
  EXPECT_TRUE(der(one + zero, n).empty()) << "s = 0";
  EXPECT_TRUE(der(n + one, n).empty()) << "r = n";
  EXPECT_TRUE(der(one + n, n).empty()) << "s = n";
  EXPECT_TRUE(der(one + ff, n).empty()) << "s > n";
  EXPECT_TRUE(der((one + one).substr(1), n).empty()) << "63 bytes";
  EXPECT_TRUE(der(one + one + "x", n).empty()) << "65 bytes";
  EXPECT_TRUE(der("", n).empty());
}

TEST(EcdsaDer, P521UsesTheLongLengthForm) {
  const std::string n = order_of(NID_secp521r1, 66);
  std::string big = n;
  big[65] = static_cast<char>(big[65] - 1);  // n-1: 0x01 FF ... top byte below 0x80
  std::string r(66, '\0');
  r[1] = static_cast<char>(0x80);  // 0x00 0x80 ...: 65 significant bytes, padded to 66
  const std::string d = der(r + big, n);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0x30);
  EXPECT_EQ(static_cast<unsigned char>(d[1]), 0x81);
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(d[2])), d.size() - 3);
}

// ---- token sources ----

struct Head {
  http::RequestHead head;
  Head& h(std::string_view name, std::string_view value) {
    head.headers.push_back({name, value});
    return *this;
  }
};

Lookup find(const std::vector<TokenSource>& sources, const Head& h, std::string* token) {
  std::string_view t;
  Lookup l = find_token(sources, h.head, &t);
  *token = std::string(t);
  return l;
}

TEST(TokenSource, BearerSchemeIsCaseInsensitiveAndOtherSchemesAreAbsent) {
  const std::vector<TokenSource> bearer{TokenSource{}};
  std::string token;
  EXPECT_EQ(find(bearer, Head().h("authorization", "bearer abc"), &token), Lookup::kFound);
  EXPECT_EQ(token, "abc");
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Bearer    a.b.c  "), &token), Lookup::kFound);
  EXPECT_EQ(token, "a.b.c");
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Basic dXNlcjpwdw=="), &token), Lookup::kAbsent);
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Bearerabc"), &token), Lookup::kAbsent);
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Bearer"), &token), Lookup::kEmpty);
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Bearer   "), &token), Lookup::kEmpty);
  EXPECT_EQ(find(bearer, Head(), &token), Lookup::kAbsent);
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Bearer a").h("Authorization", "Bearer b"), &token),
            Lookup::kAmbiguous);
  EXPECT_EQ(find(bearer, Head().h("Authorization", "Basic x").h("authorization", "Bearer b"), &token),
            Lookup::kAmbiguous);
  // CGI-style upstreams read a header's '_' spelling as the header.
  TokenSource x_auth;
  x_auth.name = "X-Auth";
  x_auth.scheme = "";
  EXPECT_EQ(find({x_auth}, Head().h("X-Auth", "good").h("X_Auth", "forged"), &token), Lookup::kAmbiguous);
}

TEST(TokenSource, CookiesQueryAndFallbackOrder) {
  TokenSource cookie;
  cookie.kind = TokenSource::Kind::kCookie;
  cookie.name = "session";
  cookie.scheme = "";
  TokenSource query;
  query.kind = TokenSource::Kind::kQuery;
  query.name = "access_token";
  query.scheme = "";
  const std::vector<TokenSource> sources{TokenSource{}, cookie, query};
  std::string token;

  EXPECT_EQ(find(sources, Head().h("Cookie", "a=1; session=tok; b=2"), &token), Lookup::kFound);
  EXPECT_EQ(token, "tok");
  EXPECT_EQ(find(sources, Head().h("Cookie", "session=\"quoted\""), &token), Lookup::kFound);
  EXPECT_EQ(token, "quoted");
  EXPECT_EQ(find(sources, Head().h("Cookie", "xsession=1; sessionx=2"), &token), Lookup::kAbsent);
  EXPECT_EQ(find(sources, Head().h("Cookie", "session=1").h("Cookie", "session=2"), &token),
            Lookup::kAmbiguous);
  // One method per request (RFC 6750 2): a second token elsewhere would
  // reach the upstream unverified. Another scheme is not a token.
  EXPECT_EQ(find(sources, Head().h("Cookie", "session=c").h("Authorization", "Bearer h"), &token),
            Lookup::kAmbiguous);
  EXPECT_EQ(find(sources, Head().h("Cookie", "session=c").h("Authorization", "Basic h"), &token),
            Lookup::kFound);
  EXPECT_EQ(token, "c");
  // The same token in two places is no ambiguity.
  EXPECT_EQ(find(sources, Head().h("Cookie", "session=t").h("Authorization", "Bearer t"), &token),
            Lookup::kFound);
  EXPECT_EQ(token, "t");

  Head q;
  q.head.query = "x=1&access_token=qt&y=2";
  EXPECT_EQ(find(sources, q, &token), Lookup::kFound);
  EXPECT_EQ(token, "qt");
  q.head.query = "access_token=a&access_token=b";
  EXPECT_EQ(find(sources, q, &token), Lookup::kAmbiguous);
  q.head.query = "access_token=";
  EXPECT_EQ(find(sources, q, &token), Lookup::kEmpty);
  q.head.query = "my_access_token=a";
  EXPECT_EQ(find(sources, q, &token), Lookup::kAbsent);
  // Names compare percent-decoded, as most upstreams read them.
  q.head.query = "access%5Ftoken=qt";
  EXPECT_EQ(find(sources, q, &token), Lookup::kFound);
  EXPECT_EQ(token, "qt");
  q.head.query = "access_token=a&access%5ftoken=b";
  EXPECT_EQ(find(sources, q, &token), Lookup::kAmbiguous);
  Head both = Head().h("Authorization", "Bearer h");
  both.head.query = "access_token=q";
  EXPECT_EQ(find(sources, both, &token), Lookup::kAmbiguous);
}

TEST(TokenSource, CookieHeaderWithoutOneCookie) {
  EXPECT_EQ(cookie_header_without("a=1; session=t; b=2", "session"), "a=1; b=2");
  EXPECT_EQ(cookie_header_without("session=t", "session"), "");
  EXPECT_EQ(cookie_header_without("session=t;session=u; sessionx=1", "session"), "sessionx=1");
  EXPECT_EQ(cookie_header_without(" a=1 ;; b ", "session"), "a=1; b");
}

// ---- verified-token cache ----

Grant grant_until(int64_t until, std::string value = "v") {
  Grant g;
  g.valid_until_ms = until;
  g.headers.emplace_back(0, std::move(value));
  return g;
}

TEST(TokenCache, HitsUntilTheTokenExpiresOrTheTtlRunsOut) {
  TokenCache cache(10, /*ttl_ms=*/1000);
  const uint64_t h = TokenCache::hash("t1");
  cache.insert("t1", h, grant_until(5000), 0);
  ASSERT_NE(cache.find("t1", h, 999), nullptr);
  EXPECT_EQ(cache.find("t1", h, 999)->headers[0].second, "v");
  EXPECT_EQ(cache.find("t1", h, 1000), nullptr) << "ttl";
  EXPECT_EQ(cache.size(), 0u) << "expired entries are dropped on lookup";

  cache.insert("t1", h, grant_until(500), 0);
  EXPECT_NE(cache.find("t1", h, 499), nullptr);
  EXPECT_EQ(cache.find("t1", h, 500), nullptr) << "token exp";

  cache.insert("t1", h, grant_until(100), 100);  // already expired: not cached
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, AHashCollisionIsAMissNotSomeoneElsesGrant) {
  TokenCache cache(10, 60'000);
  const uint64_t h = 42;  // two tokens forced onto one hash
  cache.insert("alice-token", h, grant_until(INT64_MAX, "alice"), 0);
  EXPECT_EQ(cache.find("mallory-token", h, 1), nullptr);
  ASSERT_NE(cache.find("alice-token", h, 1), nullptr);
  cache.insert("mallory-token", h, grant_until(INT64_MAX, "mallory"), 0);
  EXPECT_EQ(cache.find("alice-token", h, 1), nullptr);
  ASSERT_NE(cache.find("mallory-token", h, 1), nullptr);
  EXPECT_EQ(cache.find("mallory-token", h, 1)->headers[0].second, "mallory");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(TokenCache, StaysWithinCapacityAndKeepsRecentlyUsedEntries) {
  TokenCache cache(3, 60'000);
  auto put = [&](const std::string& t) { cache.insert(t, TokenCache::hash(t), grant_until(INT64_MAX), 0); };
  auto has = [&](const std::string& t) { return cache.find(t, TokenCache::hash(t), 1) != nullptr; };
  put("a");
  put("b");
  put("c");
  EXPECT_TRUE(has("a"));  // a referenced: gets a second chance
  put("d");               // evicts b (first unreferenced after the hand)
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(has("a"));
  EXPECT_FALSE(has("b"));
  EXPECT_TRUE(has("d"));
  for (int i = 0; i < 100; ++i) put(std::to_string(i) + "x");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(has("99x"));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(has("99x"));
}

TEST(TokenCache, ZeroCapacityCachesNothing) {
  TokenCache cache(0, 60'000);
  cache.insert("t", TokenCache::hash("t"), grant_until(INT64_MAX), 0);
  EXPECT_EQ(cache.find("t", TokenCache::hash("t"), 1), nullptr);
}

}  // namespace
}  // namespace ringway::filters::jwt
