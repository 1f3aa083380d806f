// Request collapsing on one worker, and purges / invalidations reaching
// every worker's store.

#include <gtest/gtest.h>

#include "filter_harness.h"

namespace ringway::filters::cache {
namespace {

using testing::Cache;
using testing::Exchange;
using testing::get;
using testing::Origin;

constexpr const char* kConfig = "{ type: cache, max_bytes: 64MiB }";

Origin cacheable(std::string body = "hello") {
  Origin o;
  o.headers = {{"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}};
  o.body = std::move(body);
  return o;
}

TEST(Collapsing, WaitersResumeOnceAndHit) {
  Cache cache(kConfig);
  Exchange leader(cache, "GET", "/a");
  Exchange w1(cache, "GET", "/a");
  Exchange w2(cache, "GET", "/a");
  ASSERT_EQ(leader.request(), filter::Outcome::kProceed);
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  ASSERT_EQ(w2.request(), filter::Outcome::kSuspend);
  EXPECT_EQ(cache.worker().stats.collapsed, 2u);
  EXPECT_TRUE(cache.resumer.resumed.empty());

  // The head alone releases nobody: the body is still coming.
  ASSERT_EQ(leader.response_head(cacheable("abc")), filter::Outcome::kProceed);
  EXPECT_TRUE(cache.resumer.resumed.empty());
  leader.body_piece("abc", true);
  EXPECT_EQ(cache.resumer.count(&w1), 1u);
  EXPECT_EQ(cache.resumer.count(&w2), 1u);
  leader.log();
  EXPECT_EQ(cache.resumer.resumed.size(), 2u);  // exactly once each

  // Re-run: both are hits.
  ASSERT_EQ(w1.request(), filter::Outcome::kRespond);
  EXPECT_EQ(w1.local().header("x-cache"), "HIT");
  EXPECT_EQ(w1.local().body, "abc");
  ASSERT_EQ(w2.request(), filter::Outcome::kRespond);
  EXPECT_TRUE(cache.worker().in_flight.empty());
}

TEST(Collapsing, DifferentKeysDoNotWait) {
  Cache cache(kConfig);
  Exchange a(cache, "GET", "/a");
  Exchange b(cache, "GET", "/b");
  EXPECT_EQ(a.request(), filter::Outcome::kProceed);
  EXPECT_EQ(b.request(), filter::Outcome::kProceed);
}

TEST(Collapsing, UnstorableResponseReleasesAtTheHeadAndWaitersGoThemselves) {
  Cache cache(kConfig);
  Exchange leader(cache, "GET", "/a");
  Exchange w1(cache, "GET", "/a");
  Exchange w2(cache, "GET", "/a");
  leader.request();
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  ASSERT_EQ(w2.request(), filter::Outcome::kSuspend);
  Origin priv = cacheable();
  priv.headers[0] = {"Cache-Control", "private"};
  leader.response_head(priv);
  EXPECT_EQ(cache.resumer.resumed.size(), 2u);
  // Re-run: nothing stored, so each goes to the origin, and the key is
  // remembered as not storable: nobody leads it, nobody waits for it.
  EXPECT_EQ(w1.request(), filter::Outcome::kProceed);
  EXPECT_EQ(w2.request(), filter::Outcome::kProceed);
  leader.log();
  EXPECT_EQ(cache.resumer.resumed.size(), 2u);
  EXPECT_TRUE(cache.worker().in_flight.empty());
  Exchange late(cache, "GET", "/a");
  EXPECT_EQ(late.request(), filter::Outcome::kProceed);
  w1.respond(priv);
  w2.respond(priv);
  late.respond(priv);
  EXPECT_EQ(cache.resumer.resumed.size(), 2u);
}

TEST(Collapsing, AnUnstorableKeyCollapsesAgainOnceStorableOrAfterTheMemo) {
  Cache cache(kConfig);
  Origin priv = cacheable();
  priv.headers[0] = {"Cache-Control", "private"};
  // Alone, an unstorable answer is not remembered: nobody waited for it.
  Exchange alone(cache, "GET", "/a");
  alone.request();
  alone.respond(priv);
  EXPECT_TRUE(cache.worker().uncacheable.empty());
  // With a waiter it is.
  Exchange first(cache, "GET", "/a");
  Exchange waiter(cache, "GET", "/a");
  first.request();
  ASSERT_EQ(waiter.request(), filter::Outcome::kSuspend);
  first.respond(priv);
  EXPECT_EQ(cache.worker().uncacheable.size(), 1u);
  EXPECT_EQ(waiter.request(), filter::Outcome::kProceed);
  waiter.respond(priv);
  // The origin's answer becomes storable: the next miss leads again.
  Exchange lead(cache, "GET", "/a");
  Exchange next(cache, "GET", "/a");
  EXPECT_EQ(lead.request(), filter::Outcome::kProceed);
  EXPECT_EQ(next.request(), filter::Outcome::kProceed);  // still remembered: no wait
  lead.respond(cacheable("abc"));
  next.log();
  EXPECT_TRUE(cache.worker().uncacheable.empty());
  // Remembered for two minutes only.
  Exchange other(cache, "GET", "/b");
  Exchange other_waiter(cache, "GET", "/b");
  other.request();
  ASSERT_EQ(other_waiter.request(), filter::Outcome::kSuspend);
  other.respond(priv);
  other_waiter.log();
  cache.advance(121);
  Exchange b1(cache, "GET", "/b");
  Exchange b2(cache, "GET", "/b");
  EXPECT_EQ(b1.request(), filter::Outcome::kProceed);
  EXPECT_EQ(b2.request(), filter::Outcome::kSuspend);
  b1.respond(cacheable());
}

TEST(Collapsing, AWaiterGoesItselfAfterTheCollapseTimeout) {
  // A leader whose body takes long (a slow stream) must not hold the others
  // for all of it (nginx's proxy_cache_lock_timeout).
  Cache cache("{ type: cache, collapse_timeout: 2s }");
  cache.use_services = true;
  Exchange leader(cache, "GET", "/api/a");
  Exchange w1(cache, "GET", "/api/a");
  Exchange w2(cache, "GET", "/api/a");
  leader.request();
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  const int64_t w1_deadline = cache.now_ms + 2000;
  cache.advance(1);
  ASSERT_EQ(w2.request(), filter::Outcome::kSuspend);
  // Each waiter asked the engine for a timer call at its deadline.
  EXPECT_EQ(cache.services.wakes, (std::vector<int64_t>{w1_deadline, w1_deadline + 1000}));
  leader.response_head(cacheable("0123456789"));
  leader.body_piece("01234", false);
  EXPECT_EQ(cache.worker().on_timer(w1_deadline - 1, cache.services), w1_deadline);
  EXPECT_TRUE(cache.resumer.resumed.empty());
  EXPECT_EQ(cache.worker().on_timer(w1_deadline, cache.services), w1_deadline + 1000);
  EXPECT_EQ(cache.resumer.count(&w1), 1u);
  EXPECT_EQ(cache.resumer.count(&w2), 0u);
  EXPECT_EQ(cache.worker().stats.collapse_timeouts, 1u);
  // Re-run: nothing stored yet, so it goes to the origin and does not wait again.
  cache.advance(1);
  EXPECT_EQ(w1.request(), filter::Outcome::kProceed);
  // The leader finishes: the other waiter is released once, and hits.
  leader.body_piece("56789", true);
  leader.log();
  EXPECT_EQ(cache.resumer.count(&w2), 1u);
  EXPECT_EQ(cache.worker().on_timer(cache.now_ms, cache.services), INT64_MAX);
  ASSERT_EQ(w2.request(), filter::Outcome::kRespond);
  EXPECT_EQ(w2.local().body, "0123456789");
  EXPECT_EQ(cache.resumer.resumed.size(), 2u);
}

TEST(Collapsing, AbortReleasesWaiters) {
  Cache cache(kConfig);
  Exchange leader(cache, "GET", "/a");
  Exchange w1(cache, "GET", "/a");
  leader.request();
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  leader.response_head(cacheable("0123456789"));
  leader.body_piece("01234", false);
  leader.log(/*aborted=*/true);
  EXPECT_EQ(cache.resumer.count(&w1), 1u);
  EXPECT_EQ(cache.worker().store.entries(), 0u);
  EXPECT_TRUE(cache.worker().in_flight.empty());
  EXPECT_EQ(w1.request(), filter::Outcome::kProceed);
}

TEST(Collapsing, LeaderFailingBeforeAnyResponseReleasesWaiters) {
  Cache cache(kConfig);
  Exchange leader(cache, "GET", "/a");
  Exchange w1(cache, "GET", "/a");
  leader.request();
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  leader.log(true);  // connect refused: no response phases at all
  EXPECT_EQ(cache.resumer.count(&w1), 1u);
}

TEST(Collapsing, TooLargeBodyReleasesWaitersWhenAbandoned) {
  Cache cache("{ type: cache, max_bytes: 1MiB, max_entry_bytes: 4 }");
  Exchange leader(cache, "GET", "/a");
  Exchange w1(cache, "GET", "/a");
  leader.request();
  ASSERT_EQ(w1.request(), filter::Outcome::kSuspend);
  Origin o = cacheable("0123456789");
  o.chunked = true;
  leader.response_head(o);
  EXPECT_TRUE(cache.resumer.resumed.empty());
  leader.body_piece("012", false);
  leader.body_piece("345", false);  // over 4 bytes: abandoned
  EXPECT_EQ(cache.resumer.count(&w1), 1u);
  leader.body_piece("6789", true);
  leader.log();
  EXPECT_EQ(cache.resumer.resumed.size(), 1u);
}

TEST(Collapsing, HeadRequestsWaitButNeverLead) {
  Cache cache(kConfig);
  Exchange head(cache, "HEAD", "/a");
  EXPECT_EQ(head.request(), filter::Outcome::kProceed);
  EXPECT_TRUE(cache.worker().in_flight.empty());
  Exchange leader(cache, "GET", "/a");
  Exchange head2(cache, "HEAD", "/a");
  leader.request();
  EXPECT_EQ(head2.request(), filter::Outcome::kSuspend);
  leader.respond(cacheable("abc"));
  ASSERT_EQ(head2.request(), filter::Outcome::kRespond);
  EXPECT_EQ(head2.local().header("x-cache"), "HIT");
}

TEST(Collapsing, ConditionalMissesDoNotLead) {
  // Nothing stored and the client's own validators go upstream: a 304 is
  // likely, which stores nothing, so nobody waits for it.
  Cache cache(kConfig);
  Exchange cond(cache, "GET", "/a", {{"If-None-Match", "\"v1\""}});
  EXPECT_EQ(cond.request(), filter::Outcome::kProceed);
  EXPECT_EQ(cond.upstream_header("If-None-Match"), "\"v1\"");
  Exchange plain(cache, "GET", "/a");
  EXPECT_EQ(plain.request(), filter::Outcome::kProceed);
  // But it waits for a plain leader, then gets its 304 from the store.
  Exchange cond2(cache, "GET", "/a", {{"If-None-Match", "\"v1\""}});
  EXPECT_EQ(cond2.request(), filter::Outcome::kSuspend);
  plain.respond(cacheable());
  ASSERT_EQ(cond2.request(), filter::Outcome::kRespond);
  EXPECT_EQ(cond2.local().status, 304);
}

TEST(Collapsing, CanBeTurnedOff) {
  Cache cache("{ type: cache, collapse: false }");
  Exchange a(cache, "GET", "/a");
  Exchange b(cache, "GET", "/a");
  EXPECT_EQ(a.request(), filter::Outcome::kProceed);
  EXPECT_EQ(b.request(), filter::Outcome::kProceed);
}

TEST(Collapsing, WorkersCollapseSeparately) {
  Cache cache(kConfig, 2);
  Exchange a(cache, "GET", "/a", {}, 0);
  Exchange b(cache, "GET", "/a", {}, 1);
  EXPECT_EQ(a.request(), filter::Outcome::kProceed);
  EXPECT_EQ(b.request(), filter::Outcome::kProceed);
}

TEST(Purge, ExactPurgeReachesEveryWorker) {
  Cache cache(kConfig, 2);
  for (size_t w : {0, 1}) {
    get(cache, "/a/b", cacheable(), {}, w);
    get(cache, "/a/c", cacheable(), {}, w);
  }
  EXPECT_EQ(cache.worker(0).store.entries(), 2u);
  EXPECT_EQ(cache.worker(1).store.entries(), 2u);
  // Spelled differently, normalised to the same key.
  ASSERT_TRUE(purge_cache(cache.filter(), "TEST.local", "/a/./b", false));
  for (size_t w : {0, 1}) {
    EXPECT_TRUE(get(cache, "/a/b", cacheable(), {}, w).from_origin) << w;
    EXPECT_EQ(get(cache, "/a/c", Origin{}, {}, w).header("x-cache"), "HIT") << w;
  }
}

TEST(Purge, PrefixPurge) {
  Cache cache(kConfig, 2);
  for (size_t w : {0, 1})
    for (const char* p : {"/img/1", "/img/2", "/css/1"}) get(cache, p, cacheable(), {}, w);
  purge_cache(cache.filter(), "test.local", "/img/", true);
  for (size_t w : {0, 1}) {
    EXPECT_TRUE(get(cache, "/img/1", cacheable(), {}, w).from_origin);
    EXPECT_TRUE(get(cache, "/img/2", cacheable(), {}, w).from_origin);
    EXPECT_EQ(get(cache, "/css/1", Origin{}, {}, w).header("x-cache"), "HIT");
  }
}

TEST(Purge, HostScopeAndEverything) {
  Cache cache(kConfig);
  {
    Exchange a(cache, "GET", "/x", {}, 0, "a.example");
    a.run(cacheable());
    Exchange b(cache, "GET", "/x", {}, 0, "b.example");
    b.run(cacheable());
  }
  purge_cache(cache.filter(), "a.example", "", true);
  Exchange probe(cache, "GET", "/y");
  probe.request();
  EXPECT_EQ(cache.worker().store.entries(), 1u);
  purge_cache(cache.filter(), "", "", true);
  Exchange probe2(cache, "GET", "/y");
  probe2.request();
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

TEST(Purge, NotACacheFilter) {
  struct Other final : filter::Filter {
    uint8_t phases() const override { return 0; }
  } other;
  EXPECT_FALSE(purge_cache(other, "h", "/", true));
}

TEST(Invalidation, UnsafeRequestReachesOtherWorkers) {
  Cache cache(kConfig, 2);
  get(cache, "/items", cacheable(), {}, 0);
  get(cache, "/items", cacheable(), {}, 1);
  Exchange put(cache, "PUT", "/items", {}, 0);
  put.request();
  Origin ok;
  ok.status = 204;
  ok.body = "";
  put.respond(ok);
  EXPECT_EQ(cache.worker(0).store.entries(), 0u);
  // Worker 0 stores a fresh copy; the purge it published must not remove it.
  get(cache, "/items", cacheable("v2"), {}, 0);
  EXPECT_EQ(get(cache, "/items", Origin{}, {}, 0).body, "v2");
  // Worker 1 drops its copy before its next lookup.
  EXPECT_TRUE(get(cache, "/items", cacheable(), {}, 1).from_origin);
}

TEST(Invalidation, InTheLogPhaseWhenTheHeadWasNotSeen) {
  Cache cache(kConfig);
  get(cache, "/items", cacheable());
  Exchange post(cache, "POST", "/items");
  post.request();
  post.ctx().response.status = 200;  // answered by a later filter
  post.log();
  EXPECT_EQ(cache.worker().store.entries(), 0u);
}

}  // namespace
}  // namespace ringway::filters::cache
