// Stale entries: revalidation with the origin (304 refresh, 200 replace),
// stale-while-revalidate and stale-if-error.

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

Origin cacheable(std::string body, std::string cc) {
  Origin o;
  o.headers = {{"Cache-Control", cc}, {"Content-Type", "text/plain"}, {"ETag", "\"v1\""},
               {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"X-Version", "1"}};
  o.body = std::move(body);
  return o;
}

Origin not_modified(Fields headers) {
  Origin o;
  o.status = 304;
  o.headers = std::move(headers);
  o.body = "";
  return o;
}

TEST(Revalidation, NotModifiedRefreshesTheStoredResponse) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60"));
  cache.advance(70);
  Exchange ex(cache, "GET", "/a");
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
  auto r = ex.respond(not_modified({{"Cache-Control", "max-age=120"},
                                    {"Date", "Sun, 06 Nov 1994 08:50:47 GMT"},
                                    {"ETag", "\"v1\""},
                                    {"X-Version", "2"},
                                    {"Content-Type", "text/html"},  // describes no body we hold
                                    {"Content-Length", "0"}}));
  EXPECT_EQ(r.outcome, filter::Outcome::kRespond);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(r.header("x-cache"), "REVALIDATED");
  EXPECT_EQ(r.header("x-version"), "2");
  EXPECT_EQ(r.header("cache-control"), "max-age=120");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("date"), "Sun, 06 Nov 1994 08:50:47 GMT");
  EXPECT_EQ(r.header("age"), "0");
  EXPECT_FALSE(r.has("content-length"));
  EXPECT_EQ(cache.worker().stats.revalidated, 1u);
  EXPECT_EQ(cache.worker().store.entries(), 1u);

  cache.advance(100);
  auto hit = get(cache, "/a", Origin{});
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.header("x-version"), "2");
  EXPECT_EQ(hit.header("age"), "100");
}

TEST(Revalidation, NotModifiedKeepsWhatATransformChanged) {
  // What is stored may be a transform of the origin's response (the gzip
  // copy compress makes: weak ETag, Vary: Accept-Encoding). The origin's 304
  // describes its own representation: it must not make our validator
  // strong again, nor take the Vary the stored copy is selected by.
  Cache cache(kConfig);
  Origin o = cacheable("gzip bytes", "max-age=60");
  for (auto& h : o.headers)
    if (h.first == "ETag") h.second = "W/\"v1\"";
  o.headers.push_back({"Vary", "Accept-Encoding"});
  o.headers.push_back({"Content-Encoding", "gzip"});
  get(cache, "/a", o, {{"Accept-Encoding", "gzip"}});
  cache.advance(70);
  Exchange ex(cache, "GET", "/a", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "W/\"v1\"");
  auto r = ex.respond(not_modified({{"Cache-Control", "max-age=120"}, {"ETag", "\"v1\""}, {"Vary", "Accept"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-cache"), "REVALIDATED");
  EXPECT_EQ(r.header("etag"), "W/\"v1\"");
  EXPECT_EQ(r.header("vary"), "Accept-Encoding");
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("cache-control"), "max-age=120");
  auto hit = get(cache, "/a", Origin{}, {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.header("etag"), "W/\"v1\"");
}

TEST(Revalidation, ClientConditionalIsEvaluatedAfterTheRefresh) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60"));
  cache.advance(70);
  Exchange ex(cache, "GET", "/a", {{"If-None-Match", "\"v1\""}});
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  auto r = ex.respond(not_modified({{"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}}));
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("x-cache"), "REVALIDATED");
}

TEST(Revalidation, ClientValidatorsAreReplacedByOurs) {
  Cache cache(kConfig);
  Origin o = cacheable("body", "max-age=60");
  o.headers.push_back({"Last-Modified", "Sun, 06 Nov 1994 07:00:00 GMT"});
  get(cache, "/a", o);
  cache.advance(70);
  Exchange ex(cache, "GET", "/a", {{"If-None-Match", "\"client\""}, {"If-Modified-Since", "Sat, 05 Nov 1994 00:00:00 GMT"}});
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_EQ(ex.upstream_header("If-None-Match"), "\"v1\"");
  EXPECT_EQ(ex.upstream_header("If-Modified-Since"), "Sun, 06 Nov 1994 07:00:00 GMT");
  // The client's tag does not match: it gets the full response.
  auto r = ex.respond(not_modified({{"ETag", "\"v1\""}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body");
}

TEST(Revalidation, FullResponseReplacesTheEntry) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("old", "max-age=60"));
  cache.advance(70);
  Origin fresh = cacheable("new", "max-age=60");
  fresh.headers[2] = {"ETag", "\"v2\""};
  fresh.headers[3] = {"Date", "Sun, 06 Nov 1994 08:50:47 GMT"};  // a Date 70 s old would be stale already
  auto r = get(cache, "/a", fresh);
  EXPECT_TRUE(r.from_origin);
  EXPECT_EQ(r.header("x-cache"), "MISS");
  EXPECT_EQ(r.body, "new");
  EXPECT_EQ(cache.worker().store.entries(), 1u);
  auto hit = get(cache, "/a", Origin{});
  EXPECT_EQ(hit.body, "new");
  EXPECT_EQ(hit.header("etag"), "\"v2\"");
}

TEST(Revalidation, NotModifiedForAnotherETagDoesNotRefresh) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60"));
  cache.advance(70);
  Exchange ex(cache, "GET", "/a");
  ex.request();
  auto r = ex.respond(not_modified({{"ETag", "\"other\""}, {"Cache-Control", "max-age=600"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(r.header("x-cache"), "STALE");
  EXPECT_EQ(r.header("cache-control"), "max-age=60");
  // Still stale: the next request revalidates again.
  Exchange again(cache, "GET", "/a");
  EXPECT_EQ(again.request(), filter::Outcome::kProceed);
}

TEST(Revalidation, NotModifiedForAnotherETagWithMustRevalidateIs502) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60, must-revalidate"));
  cache.advance(70);
  Exchange ex(cache, "GET", "/a");
  ex.request();
  auto r = ex.respond(not_modified({{"ETag", "\"other\""}}));
  EXPECT_EQ(r.status, 502);
}

TEST(Revalidation, NotModifiedThatMakesTheResponseUnstorableIsThisClientsOnly) {
  // The freshened response is what would be stored: a 304 adding Set-Cookie,
  // private or no-store gives it to this client and drops the entry, or the
  // next client would get this one's cookie.
  for (Fields extra : {Fields{{"set-cookie", "sid=client-2"}}, Fields{{"cache-control", "private, max-age=60"}},
                       Fields{{"cache-control", "no-store, max-age=60"}}}) {
    Cache cache(kConfig);
    get(cache, "/a", cacheable("body", "max-age=60"));
    cache.advance(70);
    Exchange ex(cache, "GET", "/a");
    ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
    Fields headers{{"ETag", "\"v1\""}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    auto r = ex.respond(not_modified(headers));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "body");
    EXPECT_EQ(r.header(extra[0].first), extra[0].second);
    EXPECT_EQ(cache.worker().store.entries(), 0u) << extra[0].second;
    Exchange next(cache, "GET", "/a");
    EXPECT_EQ(next.request(), filter::Outcome::kProceed) << "not served from the cache";
  }
}

TEST(Revalidation, UnstorableFullResponseDropsTheStaleEntry) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("old", "max-age=60, stale-if-error=600"));
  cache.advance(70);
  auto r = get(cache, "/a", cacheable("now private", "private"));
  EXPECT_EQ(r.body, "now private");
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(Revalidation, WithoutValidatorsTheOriginGetsAPlainRequest) {
  Cache cache(kConfig);
  Origin o;
  o.headers = {{"Cache-Control", "max-age=60"}};
  get(cache, "/a", o);
  cache.advance(70);
  Exchange ex(cache, "GET", "/a");
  ASSERT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_FALSE(ex.upstream_has("If-None-Match"));
  EXPECT_FALSE(ex.upstream_has("If-Modified-Since"));
}

TEST(StaleIfError, ServesTheStaleCopyOnServerErrors) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60, stale-if-error=300"));
  cache.advance(100);
  Origin error;
  error.status = 503;
  error.body = "down";
  auto r = get(cache, "/a", error);
  EXPECT_EQ(r.outcome, filter::Outcome::kRespond);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(r.header("x-cache"), "STALE");
  EXPECT_EQ(r.header("age"), "100");
  // Past the window (staleness 340 > 300): the error goes through.
  cache.advance(300);
  auto late = get(cache, "/a", error);
  EXPECT_EQ(late.status, 503);
  EXPECT_EQ(late.header("x-cache"), "MISS");
  // Client errors are not server errors.
  Origin not_found;
  not_found.status = 404;
  EXPECT_EQ(get(cache, "/a", not_found).status, 404);
}

TEST(StaleIfError, RequestDirectiveAlsoWorks) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60"));
  cache.advance(100);
  Origin error;
  error.status = 500;
  auto r = get(cache, "/a", error, {{"Cache-Control", "stale-if-error=60"}});
  EXPECT_EQ(r.header("x-cache"), "STALE");
  EXPECT_EQ(get(cache, "/a", error).status, 500);
}

TEST(StaleIfError, MustRevalidateForbidsIt) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60, must-revalidate, stale-if-error=300"));
  cache.advance(100);
  Origin error;
  error.status = 502;
  EXPECT_EQ(get(cache, "/a", error).status, 502);
}

TEST(StaleWhileRevalidate, ServesStaleWhileARefreshIsInFlight) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60, stale-while-revalidate=30"));
  cache.advance(70);
  Exchange leader(cache, "GET", "/a");
  ASSERT_EQ(leader.request(), filter::Outcome::kProceed);  // refreshes
  Exchange second(cache, "GET", "/a");
  ASSERT_EQ(second.request(), filter::Outcome::kRespond);  // no waiting
  EXPECT_EQ(second.local().header("x-cache"), "STALE");
  EXPECT_EQ(second.local().body, "body");
  second.log();
  auto r = leader.respond(not_modified({{"ETag", "\"v1\""}, {"Cache-Control", "max-age=60"},
                                        {"Date", "Sun, 06 Nov 1994 08:50:47 GMT"}}));
  EXPECT_EQ(r.header("x-cache"), "REVALIDATED");
  EXPECT_EQ(get(cache, "/a", Origin{}).header("x-cache"), "HIT");
}

TEST(StaleWhileRevalidate, OutsideTheWindowRequestsWait) {
  Cache cache(kConfig);
  get(cache, "/a", cacheable("body", "max-age=60, stale-while-revalidate=30"));
  cache.advance(100);  // 40 s stale > 30
  Exchange leader(cache, "GET", "/a");
  ASSERT_EQ(leader.request(), filter::Outcome::kProceed);
  Exchange second(cache, "GET", "/a");
  EXPECT_EQ(second.request(), filter::Outcome::kSuspend);
  leader.log(true);
  EXPECT_EQ(cache.resumer.count(&second), 1u);
}

}  // namespace
}  // namespace ringway::filters::cache
