// A reload hands each worker's store to its successor (WorkerState::leave,
// Filter::adopt) when the entries still mean the same under the new config.

#include <gtest/gtest.h>

#include "filter_harness.h"

namespace ringway::filters::cache {
namespace {

using testing::Cache;
using testing::get;
using testing::Origin;

constexpr const char* kConfig = "{ type: cache, max_bytes: 64MiB }";

Origin cacheable(std::string body) {
  Origin o;
  o.headers = {{"Cache-Control", "max-age=60"}};
  o.body = std::move(body);
  return o;
}

TEST(CacheReload, TheSuccessorAdoptsEntriesWithThePurgesPublishedMeanwhile) {
  Cache old_gen(kConfig);
  get(old_gen, "/a", cacheable("old a"));
  get(old_gen, "/b", cacheable("old b"));
  get(old_gen, "/c", cacheable("old c"));
  // Another size and status header: the entries still mean the same.
  Cache new_gen("{ type: cache, max_bytes: 32MiB, x_cache_header: false }", 1, &old_gen.filter());
  EXPECT_EQ(new_gen.impl().purge_log(), old_gen.impl().purge_log());
  // The new worker serves while the old one drains; its copy is the newer.
  get(new_gen, "/c", cacheable("new c"));
  // A purge after the old worker's last lookup must still reach its entries.
  new_gen.impl().purge("", "/b", false);

  auto left = old_gen.worker().leave();
  ASSERT_NE(left, nullptr);
  new_gen.filter().adopt(new_gen.worker(), old_gen.filter(), *left);
  EXPECT_EQ(new_gen.worker().stats.adopted, 1u);  // a (b was purged, c is here already)

  auto a = get(new_gen, "/a", Origin{});
  EXPECT_FALSE(a.from_origin);
  EXPECT_EQ(a.body, "old a");
  auto c = get(new_gen, "/c", Origin{});
  EXPECT_FALSE(c.from_origin);
  EXPECT_EQ(c.body, "new c");
  EXPECT_TRUE(get(new_gen, "/b", cacheable("new b")).from_origin);
}

TEST(CacheReload, OtherKeysStartEmpty) {
  Cache old_gen(kConfig);
  get(old_gen, "/a", cacheable("old a"));
  Cache new_gen("{ type: cache, max_bytes: 64MiB, ignore_query: true }", 1, &old_gen.filter());
  EXPECT_NE(new_gen.impl().purge_log(), old_gen.impl().purge_log());
  auto left = old_gen.worker().leave();
  new_gen.filter().adopt(new_gen.worker(), old_gen.filter(), *left);
  EXPECT_EQ(new_gen.worker().stats.adopted, 0u);
  EXPECT_TRUE(get(new_gen, "/a", cacheable("new a")).from_origin);
}

TEST(CacheReload, OtherFreshnessRulesStartEmpty) {
  Cache old_gen(kConfig);
  get(old_gen, "/a", cacheable("old a"));
  Cache new_gen("{ type: cache, max_bytes: 64MiB, heuristic_max_age: 0 }", 1, &old_gen.filter());
  auto left = old_gen.worker().leave();
  new_gen.filter().adopt(new_gen.worker(), old_gen.filter(), *left);
  EXPECT_EQ(new_gen.worker().stats.adopted, 0u);
}

TEST(CacheReload, PurgesPublishedByTheOldWorkerReachTheNewOne) {
  // The old generation's worker invalidates /a for everyone (a POST in
  // flight while it drains); the new worker of the same index must apply it.
  Cache old_gen(kConfig);
  Cache new_gen(kConfig, 1, &old_gen.filter());
  get(new_gen, "/a", cacheable("new a"));
  {
    testing::Exchange post(old_gen, "POST", "/a");
    ASSERT_EQ(post.request(), filter::Outcome::kProceed);
    Origin created;
    created.status = 201;
    post.respond(created);
  }
  EXPECT_TRUE(get(new_gen, "/a", cacheable("newer a")).from_origin);
}

}  // namespace
}  // namespace ringway::filters::cache
