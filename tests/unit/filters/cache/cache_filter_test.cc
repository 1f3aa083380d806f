// The cache filter driven phase by phase: hits, misses, freshness, what is
// and is not stored, conditionals answered from the store, limits.

#include <gtest/gtest.h>

#include "filter_harness.h"

namespace ringway::filters::cache {
namespace {

using testing::Cache;
using testing::Exchange;
using testing::Fields;
using testing::get;
using testing::Origin;

constexpr const char* kConfig = "{ type: cache, max_bytes: 64MiB }";

Origin cacheable(std::string body = "hello", std::string cc = "max-age=60") {
  Origin o;
  o.headers = {{"Cache-Control", cc}, {"Content-Type", "text/plain"}, {"ETag", "\"v1\""}};
  o.body = std::move(body);
  return o;
}

TEST(CacheFilter, CompilesFromTheMinimalConfig) {
  Cache cache(kConfig);
  EXPECT_EQ(cache.impl().options().max_bytes, 64u << 20);
  EXPECT_EQ(cache.impl().options().max_entry_bytes, 1u << 20);
  EXPECT_EQ(cache.impl().options().status_header, "X-Cache");
}

TEST(CacheFilter, MissStoreThenHit) {
  Cache cache(kConfig);
  auto miss = get(cache, "/a", cacheable("hello world"));
  EXPECT_TRUE(miss.from_origin);
  EXPECT_EQ(miss.header("x-cache"), "MISS");
  EXPECT_EQ(miss.body, "hello world");
  EXPECT_EQ(cache.worker().stats.stored, 1u);

  auto hit = get(cache, "/a", Origin{});
  EXPECT_FALSE(hit.from_origin);
  EXPECT_EQ(hit.outcome, filter::Outcome::kRespond);
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.body, "hello world");
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.header("content-type"), "text/plain");
  EXPECT_EQ(hit.header("etag"), "\"v1\"");
  EXPECT_EQ(hit.header("age"), "0");
  EXPECT_FALSE(hit.has("content-length"));  // the engine frames local bodies
  EXPECT_EQ(cache.worker().stats.hits, 1u);
}

TEST(CacheFilter, HitKeepsTheEntryAlive) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("kept"));
  Exchange ex(cache, "GET", "/a");
  ASSERT_EQ(ex.request(), filter::Outcome::kRespond);
  cache.impl().purge("", "", true);
  Exchange other(cache, "GET", "/b");  // applies the purge
  other.request();
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  EXPECT_NE(ex.ctx().local().keep, nullptr);
  EXPECT_EQ(ex.ctx().local().body, "kept");
}

TEST(CacheFilter, AgeGrowsAndEntryExpires) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  cache.advance(25);
  auto hit = get(cache, "/a", Origin{});
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.header("age"), "25");
  cache.advance(35);  // age 60 = max-age: stale
  Exchange ex(cache, "GET", "/a");
  EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
  // Stale with an ETag: revalidated with it.
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
}

TEST(CacheFilter, AgeIncludesUpstreamAge) {
  Cache cache(kConfig);
  Origin o = cacheable();
  o.headers.push_back({"Age", "50"});
  get(cache, "/a", o);
  cache.advance(5);
  auto hit = get(cache, "/a", Origin{});
  EXPECT_EQ(hit.header("age"), "55");
  cache.advance(5);  // 60: stale
  EXPECT_TRUE(get(cache, "/a", cacheable()).from_origin);
}

TEST(CacheFilter, HeadIsServedFromTheGetEntry) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body"));
  Exchange head(cache, "HEAD", "/a");
  ASSERT_EQ(head.request(), filter::Outcome::kRespond);
  EXPECT_EQ(head.local().status, 200);
  EXPECT_EQ(head.local().header("x-cache"), "HIT");
  // The body is there for its length; the engine sends none for HEAD.
  EXPECT_EQ(head.local().body, "body");
}

TEST(CacheFilter, HeadMissIsNotStored) {
  Cache cache(kConfig);
  Exchange head(cache, "HEAD", "/a");
  auto r = head.run(cacheable(""));
  EXPECT_TRUE(r.from_origin);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(CacheFilter, KeyIncludesHostAndQuery) {
  Cache cache(kConfig);
  {
    Exchange ex(cache, "GET", "/a", {}, 0, "one.example", "x=1");
    ex.run(cacheable("one"));
  }
  Exchange same(cache, "GET", "/a", {}, 0, "ONE.example", "x=1");
  EXPECT_EQ(same.request(), filter::Outcome::kRespond);
  Exchange other_query(cache, "GET", "/a", {}, 0, "one.example", "x=2");
  EXPECT_EQ(other_query.request(), filter::Outcome::kProceed);
  Exchange other_host(cache, "GET", "/a", {}, 0, "two.example", "x=1");
  EXPECT_EQ(other_host.request(), filter::Outcome::kProceed);
}

TEST(CacheFilter, IgnoreQuery) {
  Cache cache("{ type: cache, ignore_query: true }");
  {
    Exchange ex(cache, "GET", "/a", {}, 0, "h", "x=1");
    ex.run(cacheable("one"));
  }
  Exchange other_query(cache, "GET", "/a", {}, 0, "h", "x=2");
  EXPECT_EQ(other_query.request(), filter::Outcome::kRespond);
}

TEST(CacheFilter, VaryVariants) {
  Cache cache(kConfig);
  Origin gz = cacheable("gzipped");
  gz.headers.push_back({"Vary", "Accept-Encoding"});
  gz.headers.push_back({"Content-Encoding", "gzip"});
  get(cache, "/a", gz, {{"Accept-Encoding", "gzip, deflate"}});
  Origin plain = cacheable("plain");
  plain.headers.push_back({"Vary", "Accept-Encoding"});
  get(cache, "/a", plain);  // no Accept-Encoding: a different variant
  EXPECT_EQ(cache.worker().store.entries(), 2u);

  auto a = get(cache, "/a", Origin{}, {{"Accept-Encoding", "deflate,GZIP"}});
  EXPECT_EQ(a.header("x-cache"), "HIT");
  EXPECT_EQ(a.body, "gzipped");
  auto b = get(cache, "/a", Origin{});
  EXPECT_EQ(b.header("x-cache"), "HIT");
  EXPECT_EQ(b.body, "plain");
  auto c = get(cache, "/a", cacheable("br"), {{"Accept-Encoding", "br"}});
  EXPECT_TRUE(c.from_origin);
}

TEST(CacheFilter, VaryUsesTheRequestAsTheCacheSawIt) {
  // A later filter (say, compression) rewrites Accept-Encoding upstream; the
  // stored variant is keyed on what the client sent.
  Cache cache(kConfig);
  Exchange ex(cache, "GET", "/a", {{"Accept-Encoding", "br"}});
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  ex.ctx().set_request_header("Accept-Encoding", "identity");
  Origin o = cacheable("x");
  o.headers.push_back({"Vary", "Accept-Encoding"});
  ex.respond(o);
  EXPECT_EQ(get(cache, "/a", Origin{}, {{"Accept-Encoding", "br"}}).header("x-cache"), "HIT");
}

TEST(CacheFilter, VaryStarIsNotStored) {
  Cache cache(kConfig);
  Origin o = cacheable();
  o.headers.push_back({"Vary", "*"});
  get(cache, "/a", o);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(CacheFilter, NoStorePrivateAndSetCookieAreNotStored) {
  Cache cache(kConfig);
  get(cache, "/1", cacheable("x", "no-store, max-age=60"));
  get(cache, "/2", cacheable("x", "private, max-age=60"));
  Origin cookie = cacheable();
  cookie.headers.push_back({"Set-Cookie", "session=1"});
  get(cache, "/3", cookie);
  get(cache, "/4", cacheable(), {{"Cache-Control", "no-store"}});
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  EXPECT_TRUE(get(cache, "/3", cookie).from_origin);
}

TEST(CacheFilter, RequestNoStoreBypassesTheCache) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  auto r = get(cache, "/a", cacheable(), {{"Cache-Control", "no-store"}});
  EXPECT_TRUE(r.from_origin);
  EXPECT_EQ(r.header("x-cache"), "BYPASS");
}

TEST(CacheFilter, AuthorizationBypassesByDefault) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("public", "public, max-age=60"), {{"Authorization", "Bearer t"}});
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  // Stored from an anonymous request, still not served to an authorized one.
  get(cache, "/a", cacheable("anon"));
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Authorization", "Bearer t"}}).from_origin);
}

TEST(CacheFilter, CacheAuthorizedFollowsRfc9111Section35) {
  Cache cache("{ type: cache, cache_authorized: true }");
  get(cache, "/plain", cacheable("x", "max-age=60"), {{"Authorization", "Bearer t"}});
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  get(cache, "/public", cacheable("x", "public, max-age=60"), {{"Authorization", "Bearer t"}});
  get(cache, "/shared", cacheable("x", "s-maxage=60"), {{"Authorization", "Bearer t"}});
  get(cache, "/revalidate", cacheable("x", "must-revalidate, max-age=60"), {{"Authorization", "Bearer t"}});
  EXPECT_EQ(cache.worker().store.entries(), 3u);
  EXPECT_EQ(get(cache, "/public", Origin{}, {{"Authorization", "Bearer u"}}).header("x-cache"), "HIT");
}

TEST(CacheFilter, UncacheableStatusIsPassedOn) {
  Cache cache(kConfig);
  Origin o = cacheable();
  o.status = 206;
  get(cache, "/a", o);
  o.status = 302;
  o.headers = {{"Location", "/b"}};
  get(cache, "/b", o);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(CacheFilter, RangeRequestsBypass) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Range", "bytes=0-1"}}).from_origin);
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"If-Match", "\"v1\""}}).from_origin);
}

TEST(CacheFilter, RoutesDoNotShareEntries) {
  // /t with X-Tenant: blue goes to one route (its upstream, its rewrite),
  // without it to another: one URL, two answers. An entry serves only the
  // route that stored it.
  Cache cache(kConfig);
  config::Route blue, rest;
  blue.name = "blue";
  rest.name = "rest";
  auto via = [&](const config::Route& route, const Origin& origin) {
    Exchange ex(cache, "GET", "/t");
    ex.take_route(&route);
    return ex.run(origin);
  };
  EXPECT_EQ(via(blue, cacheable("blue page")).body, "blue page");
  auto other = via(rest, cacheable("green page"));
  EXPECT_TRUE(other.from_origin);
  EXPECT_EQ(other.body, "green page");
  EXPECT_EQ(via(blue, Origin{}).body, "blue page");
  EXPECT_EQ(via(rest, Origin{}).body, "green page");
  EXPECT_EQ(cache.worker().store.entries(), 2u);
}

TEST(CacheFilter, ResponsesOnTheirWayInAreBoundedByTheStoreBudget) {
  // Many slow cacheable responses must not hold more memory than the store
  // may keep: a capture that would pass the budget is not made.
  Cache cache("{ type: cache, max_bytes: 1MiB, max_entry_bytes: 768KiB }");
  Origin big = cacheable(std::string(600 * 1024, 'x'));
  Exchange a(cache, "GET", "/a"), b(cache, "GET", "/b");
  ASSERT_EQ(a.request(), filter::Outcome::kProceed);
  ASSERT_EQ(b.request(), filter::Outcome::kProceed);
  a.response_head(big);
  b.response_head(big);  // 1.2 MiB on their way in: b is passed on only
  EXPECT_EQ(cache.worker().capturing, 600u * 1024);
  b.body_piece(big.body, true);
  b.log();
  a.body_piece(big.body, true);
  a.log();
  EXPECT_EQ(cache.worker().capturing, 0u);
  EXPECT_FALSE(get(cache, "/a", Origin{}).from_origin);
  EXPECT_TRUE(get(cache, "/b", big).from_origin);
  // Unknown lengths are counted as they grow; an abandoned capture gives its
  // bytes back.
  Origin chunked = cacheable("");
  chunked.chunked = true;
  Exchange c(cache, "GET", "/c");
  ASSERT_EQ(c.request(), filter::Outcome::kProceed);
  c.response_head(chunked);
  c.body_piece(std::string(1000, 'y'), false);
  EXPECT_EQ(cache.worker().capturing, 1000u);
  c.log(true);
  EXPECT_EQ(cache.worker().capturing, 0u);
}

TEST(CacheFilter, GetWithABodyBypasses) {
  // The body is not in the key: an origin that reads it must not have its
  // answer stored for everyone ("fat GET" poisoning), nor get a stored one.
  Cache cache(kConfig);
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Content-Length", "5"}}).from_origin);
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Transfer-Encoding", "chunked"}}).from_origin);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  get(cache, "/a", cacheable(), {{"Content-Length", "0"}});
  EXPECT_EQ(cache.worker().store.entries(), 1u);
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Content-Length", "5"}}).from_origin);
  EXPECT_FALSE(get(cache, "/a", cacheable()).from_origin);
}

TEST(CacheFilter, WebSocketHandshakesBypass) {
  // A stored 200 is no answer to a handshake, and the upstream's answer to
  // one is no answer to a plain GET.
  Cache cache(kConfig);
  get(cache, "/ws", cacheable());
  Exchange handshake(cache, "GET", "/ws");
  handshake.mark_upgrade();
  auto r = handshake.run(cacheable("from the handshake"));
  EXPECT_TRUE(r.from_origin);
  EXPECT_EQ(r.header("x-cache"), "BYPASS");
  EXPECT_EQ(get(cache, "/ws", Origin{}).body, "hello");  // the entry stored before
}

TEST(CacheFilter, ClientConditionalsIgnoredForAStoredNon2xx) {
  // RFC 9110 13.2.1: preconditions only apply to what would be a 2xx.
  Cache cache(kConfig);
  Origin o = cacheable("gone");
  o.status = 404;
  o.headers.push_back({"Last-Modified", "Sun, 06 Nov 1994 07:00:00 GMT"});
  get(cache, "/a", o);
  for (auto conditional : {Fields{{"If-None-Match", "*"}}, Fields{{"If-None-Match", "\"v1\""}},
                           Fields{{"If-Modified-Since", "Sun, 06 Nov 1994 09:00:00 GMT"}}}) {
    auto r = get(cache, "/a", Origin{}, conditional);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, "gone");
    EXPECT_EQ(r.header("x-cache"), "HIT");
  }
}

TEST(CacheFilter, ClientConditionalsAnsweredWith304) {
  Cache cache(kConfig);
  Origin o = cacheable("body");
  o.headers.push_back({"Last-Modified", "Sun, 06 Nov 1994 07:00:00 GMT"});
  o.headers.push_back({"Vary", "Accept"});
  o.headers.push_back({"X-Other", "1"});
  get(cache, "/a", o);
  cache.advance(3);
  auto r = get(cache, "/a", Origin{}, {{"If-None-Match", "W/\"v0\", \"v1\""}});
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("etag"), "\"v1\"");
  EXPECT_EQ(r.header("cache-control"), "max-age=60");
  EXPECT_EQ(r.header("vary"), "Accept");
  EXPECT_EQ(r.header("age"), "3");
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_TRUE(r.has("date"));
  EXPECT_FALSE(r.has("content-type"));
  EXPECT_FALSE(r.has("x-other"));

  EXPECT_EQ(get(cache, "/a", Origin{}, {{"If-None-Match", "\"v2\""}}).status, 200);
  EXPECT_EQ(get(cache, "/a", Origin{}, {{"If-Modified-Since", "Sun, 06 Nov 1994 07:00:00 GMT"}}).status, 304);
  EXPECT_EQ(get(cache, "/a", Origin{}, {{"If-Modified-Since", "Sun, 06 Nov 1994 06:59:59 GMT"}}).status, 200);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(get(cache, "/a", Origin{},
                {{"If-None-Match", "\"v2\""}, {"If-Modified-Since", "Sun, 06 Nov 1994 08:00:00 GMT"}})
                .status,
            200);
  EXPECT_EQ(get(cache, "/a", Origin{}, {{"If-None-Match", "*"}}).status, 304);
}

TEST(CacheFilter, RequestMaxAgeAndNoCacheForceRevalidation) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  cache.advance(10);
  {
    Exchange ex(cache, "GET", "/a", {{"Cache-Control", "max-age=5"}});
    EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
    EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
    ex.log(true);
  }
  {
    Exchange ex(cache, "GET", "/a", {{"Cache-Control", "max-age=0"}});
    EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
    ex.log(true);
  }
  {
    Exchange ex(cache, "GET", "/a", {{"Cache-Control", "no-cache"}});
    EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
    ex.log(true);
  }
  {
    Exchange ex(cache, "GET", "/a", {{"Cache-Control", "max-age=20"}});
    EXPECT_EQ(ex.request(), filter::Outcome::kRespond);
  }
  {
    Exchange ex(cache, "GET", "/a", {{"Cache-Control", "min-fresh=55"}});  // 50 left
    EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
    ex.log(true);
  }
}

TEST(CacheFilter, RequestMaxAgeZeroRevalidatesEvenAtAgeZero) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  Exchange ex(cache, "GET", "/a", {{"Cache-Control", "max-age=0"}});
  EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
}

TEST(CacheFilter, MaxStaleServesStale) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  cache.advance(70);  // 10 s stale
  auto r = get(cache, "/a", Origin{}, {{"Cache-Control", "max-stale=20"}});
  EXPECT_EQ(r.header("x-cache"), "STALE");
  EXPECT_EQ(r.header("age"), "70");
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Cache-Control", "max-stale=5"}}).from_origin);
}

TEST(CacheFilter, MustRevalidateForbidsStale) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("x", "max-age=60, must-revalidate"));
  cache.advance(70);
  EXPECT_TRUE(get(cache, "/a", cacheable(), {{"Cache-Control", "max-stale"}}).from_origin);
}

TEST(CacheFilter, OnlyIfCached) {
  Cache cache(kConfig);
  auto r = get(cache, "/a", cacheable(), {{"Cache-Control", "only-if-cached"}});
  EXPECT_FALSE(r.from_origin);
  EXPECT_EQ(r.status, 504);
  get(cache, "/a", cacheable());
  EXPECT_EQ(get(cache, "/a", Origin{}, {{"Cache-Control", "only-if-cached"}}).status, 200);
}

TEST(CacheFilter, HeuristicFreshnessFromLastModified) {
  Cache cache(kConfig);
  Origin o;
  o.headers = {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}};
  get(cache, "/a", o);
  cache.advance(700);  // 10% of 2 h = 720 s
  EXPECT_EQ(get(cache, "/a", Origin{}).header("x-cache"), "HIT");
  cache.advance(30);
  Exchange ex(cache, "GET", "/a");
  EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-Modified-Since"), "Sun, 06 Nov 1994 06:49:37 GMT");
}

TEST(CacheFilter, HeuristicOff) {
  Cache cache("{ type: cache, heuristic_max_age: 0s }");
  Origin o;
  o.headers = {{"Last-Modified", "Sun, 06 Nov 1994 06:49:37 GMT"}};
  get(cache, "/a", o);
  // Stored (it has a validator) but never fresh.
  EXPECT_TRUE(get(cache, "/a", o).from_origin);
}

TEST(CacheFilter, NoCacheResponseIsAlwaysRevalidated) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("x", "no-cache, max-age=600"));
  EXPECT_EQ(cache.worker().store.entries(), 1u);
  Exchange ex(cache, "GET", "/a");
  EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
}

TEST(CacheFilter, EntryTooLargeIsNotStored) {
  Cache cache("{ type: cache, max_bytes: 1MiB, max_entry_bytes: 100 }");
  get(cache, "/big", cacheable(std::string(101, 'x')));
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  Origin chunked = cacheable(std::string(150, 'y'));
  chunked.chunked = true;  // size unknown up front: abandoned while streaming
  auto r = get(cache, "/chunked", chunked);
  EXPECT_EQ(r.body, std::string(150, 'y'));  // the client still gets it all
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  get(cache, "/small", cacheable(std::string(100, 'z')));
  EXPECT_EQ(cache.worker().store.entries(), 1u);
}

TEST(CacheFilter, ChunkedBodyIsStored) {
  Cache cache(kConfig);
  Origin o = cacheable("a chunked body");
  o.chunked = true;
  get(cache, "/a", o);
  EXPECT_EQ(get(cache, "/a", Origin{}).body, "a chunked body");
}

TEST(CacheFilter, EmptyBodyIsStored) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable(""));
  auto r = get(cache, "/a", Origin{});
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_EQ(r.body, "");
}

TEST(CacheFilter, AbortedBodyIsNotStored) {
  Cache cache(kConfig);
  Exchange ex(cache, "GET", "/a");
  ex.request();
  ex.response_head(cacheable("0123456789"));
  ex.body_piece("01234", false);
  ex.log(true);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(CacheFilter, ShortBodyIsNotStored) {
  Cache cache(kConfig);
  Exchange ex(cache, "GET", "/a");
  ex.request();
  ex.response_head(cacheable("0123456789"));  // Content-Length 10
  ex.body_piece("01234", true);
  ex.log();
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(CacheFilter, LruEvictionByBytes) {
  // One worker, 64 KiB: 20 KiB bodies, three fit.
  Cache cache("{ type: cache, max_bytes: 64KiB, max_entry_bytes: 32KiB }");
  for (const char* p : {"/1", "/2", "/3"}) get(cache, p, cacheable(std::string(20 << 10, 'x')));
  EXPECT_EQ(cache.worker().store.entries(), 3u);
  get(cache, "/1", Origin{});  // /1 used: /2 is now the least recent
  get(cache, "/4", cacheable(std::string(20 << 10, 'x')));
  EXPECT_EQ(cache.worker().store.entries(), 3u);
  EXPECT_LE(cache.worker().store.bytes(), 64u << 10);
  EXPECT_EQ(get(cache, "/1", Origin{}).header("x-cache"), "HIT");
  EXPECT_TRUE(get(cache, "/2", cacheable()).from_origin);
}

TEST(CacheFilter, MaxBytesIsSharedByWorkers) {
  Cache cache("{ type: cache, max_bytes: 64MiB }", 4);
  EXPECT_EQ(cache.worker(0).store.max_bytes(), 16u << 20);
}

TEST(CacheFilter, StoredHeadersLeaveOutHopByHopAndAge) {
  Cache cache(kConfig);
  Origin o = cacheable();
  o.headers.push_back({"Connection", "X-Hop"});
  o.headers.push_back({"X-Hop", "1"});
  o.headers.push_back({"Keep-Alive", "timeout=5"});
  o.headers.push_back({"Age", "2"});
  o.headers.push_back({"X-Cache", "HIT from upstream"});
  get(cache, "/a", o);
  auto r = get(cache, "/a", Origin{});
  EXPECT_FALSE(r.has("x-hop"));
  EXPECT_FALSE(r.has("keep-alive"));
  EXPECT_FALSE(r.has("connection"));
  EXPECT_EQ(r.header("age"), "2");
  EXPECT_EQ(r.header("x-cache"), "HIT");
  // A Date was added since the origin sent none.
  EXPECT_EQ(r.header("date"), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(CacheFilter, CustomAndDisabledStatusHeader) {
  Cache named("{ type: cache, x_cache_header: X-Ringway-Cache }");
  get(named, "/a", cacheable());
  EXPECT_EQ(get(named, "/a", Origin{}).header("x-ringway-cache"), "HIT");
  Cache off("{ type: cache, x_cache_header: off }");
  EXPECT_FALSE(get(off, "/a", cacheable()).has("x-cache"));
  auto hit = get(off, "/a", Origin{});
  EXPECT_EQ(hit.outcome, filter::Outcome::kRespond);
  EXPECT_FALSE(hit.has("x-cache"));
}

TEST(CacheFilter, InvalidationByUnsafeMethods) {
  Cache cache(kConfig);
  get(cache, "/items", cacheable());
  get(cache, "/items/1", cacheable());
  get(cache, "/other", cacheable());
  EXPECT_EQ(cache.worker().store.entries(), 3u);
  {
    Exchange post(cache, "POST", "/items");
    EXPECT_EQ(post.request(), filter::Outcome::kProceed);
    Origin created;
    created.status = 201;
    created.headers = {{"Location", "/items/1"}, {"Content-Location", "http://elsewhere.example/other"}};
    auto r = post.respond(created);
    EXPECT_EQ(r.header("x-cache"), "BYPASS");
  }
  EXPECT_EQ(cache.worker().store.entries(), 1u);
  EXPECT_EQ(get(cache, "/other", Origin{}).header("x-cache"), "HIT");
}

TEST(CacheFilter, FailedUnsafeRequestsDoNotInvalidate) {
  Cache cache(kConfig);
  get(cache, "/items", cacheable());
  Exchange del(cache, "DELETE", "/items");
  del.request();
  Origin err;
  err.status = 500;
  del.respond(err);
  EXPECT_EQ(cache.worker().store.entries(), 1u);
}

TEST(CacheFilter, SafeNonGetMethodsPassThrough) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable());
  Exchange options(cache, "OPTIONS", "/a");
  EXPECT_EQ(options.run(cacheable()).from_origin, true);
  EXPECT_EQ(cache.worker().store.entries(), 1u);
}

}  // namespace
}  // namespace ringway::filters::cache
