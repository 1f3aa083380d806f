// stale-while-revalidate in the background: the request that finds the entry
// stale gets it at once, and the engine's fetch service revalidates it.

#include <gtest/gtest.h>

#include "filter_harness.h"

namespace ringway::filters::cache {
namespace {

using testing::Cache;
using testing::Exchange;
using testing::get;
using testing::Origin;

constexpr const char* kConfig = "{ type: cache, max_bytes: 64MiB }";

Origin swr(std::string cc = "max-age=60, stale-while-revalidate=30") {
  Origin o;
  o.headers = {{"Cache-Control", cc}, {"ETag", "\"v1\""}, {"Vary", "Accept-Language"},
               {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"X-Version", "1"}};
  o.body = "body";
  return o;
}

// A cache with the fetch service on, holding /api/a `seconds_past_fresh` stale.
void stale_entry(Cache& cache, int64_t seconds_past_fresh) {
  cache.use_services = true;
  Exchange first(cache, "GET", "/api/a", {{"Accept-Language", "fr"}});
  first.run(swr());
  cache.advance(60 + seconds_past_fresh);
}

testing::Result fetch(Cache& cache, const char* path = "/api/a") {
  Exchange ex(cache, "GET", path, {{"Accept-Language", "fr"}});
  if (ex.request() != filter::Outcome::kRespond) return {};
  testing::Result r = ex.local();
  ex.log();
  return r;
}

TEST(BackgroundRevalidation, StaleServedAtOnceAndRevalidatedWithValidators) {
  Cache cache(kConfig);
  stale_entry(cache, 10);  // within the 30 s window
  testing::Result r = fetch(cache);
  EXPECT_EQ(r.header("x-cache"), "STALE");
  EXPECT_EQ(r.body, "body");
  ASSERT_EQ(cache.services.fetches.size(), 1u);
  const auto& f = cache.services.fetches[0];
  EXPECT_EQ(f.upstream, "origin");
  EXPECT_EQ(f.path, "/a");  // the route's own rewrite applied
  EXPECT_EQ(f.header("host"), "test.local");
  EXPECT_EQ(f.header("if-none-match"), "\"v1\"");
  EXPECT_EQ(f.header("accept-language"), "fr");  // the variant's Vary field
  // Meanwhile: stale again, and no second fetch.
  EXPECT_EQ(fetch(cache).header("x-cache"), "STALE");
  EXPECT_EQ(cache.services.fetches.size(), 1u);
  // The origin says nothing changed: fresh again, with the 304's fields.
  cache.services.complete(0, 304, {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=60"},
                                   {"X-Version", "2"}, {"Date", "Sun, 06 Nov 1994 08:50:47 GMT"}});
  r = fetch(cache);
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_EQ(r.header("x-version"), "2");
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(cache.worker().stats.revalidated, 1u);
}

TEST(BackgroundRevalidation, NotModifiedAddingSetCookieDropsTheEntry) {
  Cache cache(kConfig);
  stale_entry(cache, 10);
  EXPECT_EQ(fetch(cache).header("x-cache"), "STALE");
  cache.services.complete(0, 304, {{"ETag", "\"v1\""}, {"Set-Cookie", "sid=someone"}});
  Exchange next(cache, "GET", "/api/a", {{"Accept-Language", "fr"}});
  EXPECT_EQ(next.request(), filter::Outcome::kProceed);
}

TEST(BackgroundRevalidation, ChangedResponseDropsTheEntry) {
  Cache cache(kConfig);
  stale_entry(cache, 10);
  EXPECT_EQ(fetch(cache).header("x-cache"), "STALE");
  cache.services.complete(0, 200, {{"ETag", "\"v2\""}, {"Cache-Control", "max-age=60"}}, "new body");
  // Not stored from the side fetch: the next request goes through the chain.
  Exchange next(cache, "GET", "/api/a", {{"Accept-Language", "fr"}});
  EXPECT_EQ(next.request(), filter::Outcome::kProceed);
}

TEST(BackgroundRevalidation, FailedFetchKeepsTheStaleCopy) {
  Cache cache(kConfig);
  stale_entry(cache, 10);
  EXPECT_EQ(fetch(cache).header("x-cache"), "STALE");
  cache.services.complete(0, 0, {});
  // Still inside the window: stale again, with a new attempt.
  EXPECT_EQ(fetch(cache).header("x-cache"), "STALE");
  EXPECT_EQ(cache.services.fetches.size(), 2u);
}

TEST(BackgroundRevalidation, OutsideTheWindowTheRequestRevalidatesItself) {
  Cache cache(kConfig);
  stale_entry(cache, 40);  // past the 30 s window
  Exchange ex(cache, "GET", "/api/a", {{"Accept-Language", "fr"}});
  EXPECT_EQ(ex.request(), filter::Outcome::kProceed);
  EXPECT_TRUE(cache.services.fetches.empty());
  ex.log(true);
}

TEST(BackgroundRevalidation, NoCacheRequestsAreNotServedStale) {
  // Nor requests asking for a younger or a fresh answer (5.2.1).
  for (const char* cc : {"no-cache", "max-age=0", "max-age=5", "min-fresh=30"}) {
    Cache cache(kConfig);
    stale_entry(cache, 10);  // age 70
    Exchange ex(cache, "GET", "/api/a", {{"Accept-Language", "fr"}, {"Cache-Control", cc}});
    EXPECT_EQ(ex.request(), filter::Outcome::kProceed) << cc;
    EXPECT_TRUE(cache.services.fetches.empty());
    ex.log(true);
  }
  Cache cache(kConfig);
  stale_entry(cache, 10);
  Exchange ex(cache, "GET", "/api/a", {{"Accept-Language", "fr"}, {"Cache-Control", "max-age=100"}});
  EXPECT_EQ(ex.request(), filter::Outcome::kRespond) << "old enough: served stale";
  ex.log();
}

}  // namespace
}  // namespace ringway::filters::cache
