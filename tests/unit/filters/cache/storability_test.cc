#include "filters/cache/storability.h"

#include <gtest/gtest.h>

#include "headers.h"

namespace ringway::filters::cache {

void PrintTo(StoreVerdict v, std::ostream* os) { *os << verdict_name(v); }

namespace {

using testing::headers;

constexpr int64_t kT = 784111777;

struct Case {
  std::string_view method = "GET";
  http::HeaderList request;
  int status = 200;
  http::HeaderList response;
  StorePolicy policy;
  bool authenticated = false;  // by an earlier filter, credentials maybe gone
};

StoreVerdict verdict(const Case& c) {
  CacheControl rcc = parse_cache_control(c.request);
  ResponseFacts f = read_response_facts(c.response, kT);
  bool authorized = c.authenticated || find_header(c.request, "authorization") != nullptr;
  return storability(c.method, authorized, rcc, c.status, c.response, f, kT, c.policy);
}

TEST(Storability, PlainMaxAge) {
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

TEST(Storability, OnlyGet) {
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60"}});
  for (std::string_view m : {"HEAD", "POST", "PUT", "OPTIONS"}) {
    c.method = m;
    EXPECT_EQ(verdict(c), StoreVerdict::kMethod) << m;
  }
}

TEST(Storability, Statuses) {
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60"}});
  for (int s : {100, 206, 304}) {
    c.status = s;
    EXPECT_EQ(verdict(c), StoreVerdict::kStatus) << s;
  }
  for (int s : {200, 201, 301, 302, 404, 500, 503}) {
    c.status = s;
    EXPECT_EQ(verdict(c), StoreVerdict::kStore) << s;
  }
}

TEST(Storability, NoStoreInRequestOrResponse) {
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60, no-store"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kNoStore);
  c.response = headers({{"Cache-Control", "max-age=60"}});
  c.request = headers({{"Cache-Control", "no-store"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kNoStore);
}

TEST(Storability, MustUnderstandOverridesNoStore) {
  // RFC 9111 5.2.2.3: a cache that understands the status ignores no-store.
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60, must-understand, no-store"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

TEST(Storability, MustUnderstandOnlyForStatusesItUnderstands) {
  // ... and only those: a status it does not know is never stored.
  Case c;
  for (const char* cc : {"max-age=60, must-understand, no-store", "max-age=60, must-understand"}) {
    c.response = headers({{"Cache-Control", cc}});
    for (int status : {299, 418, 599, 451}) {
      c.status = status;
      EXPECT_EQ(verdict(c), StoreVerdict::kStatus) << status << " " << cc;
    }
  }
  c.response = headers({{"Cache-Control", "max-age=60, must-understand, no-store"}});
  for (int status : {200, 404, 410, 501}) {
    c.status = status;
    EXPECT_EQ(verdict(c), StoreVerdict::kStore) << status;
  }
}

TEST(Storability, AuthenticatedRequestCountsAsAuthorized) {
  // An auth filter may have removed the credentials (a JWT not forwarded,
  // a cookie): the response is still one user's (3.5).
  Case c;
  c.authenticated = true;
  c.response = headers({{"Cache-Control", "max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kAuthorization);
  c.policy.cache_authorized = true;
  c.response = headers({{"Cache-Control", "public, max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

TEST(Storability, PrivateIsNeverStoredInASharedCache) {
  Case c;
  c.response = headers({{"Cache-Control", "private, max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kPrivate);
  c.response = headers({{"Cache-Control", "private=\"Set-Cookie\", max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kPrivate);
}

TEST(Storability, AuthorizationRules) {
  Case c;
  c.request = headers({{"Authorization", "Bearer x"}});
  c.response = headers({{"Cache-Control", "max-age=60"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kAuthorization);
  c.policy.cache_authorized = true;
  EXPECT_EQ(verdict(c), StoreVerdict::kAuthorization);  // 3.5 needs an explicit permission
  for (std::string_view cc : {"public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"}) {
    c.response = headers({{"Cache-Control", cc}});
    c.policy.cache_authorized = true;
    EXPECT_EQ(verdict(c), StoreVerdict::kStore) << cc;
    c.policy.cache_authorized = false;  // the filter's default: never
    EXPECT_EQ(verdict(c), StoreVerdict::kAuthorization) << cc;
  }
}

TEST(Storability, SetCookieIsNotStored) {
  Case c;
  c.response = headers({{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "id=1"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kSetCookie);
}

TEST(Storability, VaryStar) {
  Case c;
  c.response = headers({{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding, *"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kVaryStar);
  c.response = headers({{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

TEST(Storability, NeedsFreshnessOrHeuristicStatus) {
  Case c;
  c.status = 302;
  c.response = headers({{"Location", "/x"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kNotCacheable);
  c.response = headers({{"Location", "/x"}, {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
  // A 200 without freshness and without validators would be stale on arrival
  // and could never be revalidated: not worth storing.
  c.status = 200;
  c.response = headers({{"Content-Type", "text/plain"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kNotCacheable);
  // With a validator it is kept and revalidated on use.
  c.response = headers({{"ETag", "\"v1\""}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
  // Heuristic freshness from Last-Modified.
  c.response = headers({{"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

TEST(Storability, NoCacheResponsesAreStoredWhenRevalidatable) {
  Case c;
  c.response = headers({{"Cache-Control", "no-cache, max-age=600"}});
  EXPECT_EQ(verdict(c), StoreVerdict::kNotCacheable);
  c.response = headers({{"Cache-Control", "no-cache, max-age=600"}, {"ETag", "W/\"1\""}});
  EXPECT_EQ(verdict(c), StoreVerdict::kStore);
}

}  // namespace
}  // namespace ringway::filters::cache
