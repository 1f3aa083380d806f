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
  // Another size, no collapsing: the entries still mean the same.
  Cache new_gen("{ type: cache, max_bytes: 32MiB, collapse: false }", 1, &old_gen.filter());
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

TEST(CacheReload, ABigStoreMovesOverInSlicesAndPurgesReachTheRest) {
  Cache old_gen(kConfig);
  for (int i = 0; i < 1500; ++i) get(old_gen, "/e" + std::to_string(i), cacheable("x"));
  Cache new_gen(kConfig, 1, &old_gen.filter());
  auto left = old_gen.worker().leave();
  new_gen.filter().adopt(new_gen.worker(), old_gen.filter(), *left);
  CacheWorker& w = new_gen.worker();
  // One slice at once, the most recently used entries first.
  EXPECT_EQ(w.store.entries(), 512u);
  EXPECT_FALSE(get(new_gen, "/e1499", Origin{}).from_origin);
  EXPECT_TRUE(get(new_gen, "/e10", cacheable("fetched")).from_origin);  // not moved yet: a miss
  new_gen.impl().purge("", "/e11", false);
  int64_t next = 0;
  for (int turn = 0; turn < 10 && next != INT64_MAX; ++turn) next = w.on_timer(new_gen.now_ms, new_gen.services);
  EXPECT_EQ(next, INT64_MAX);
  EXPECT_TRUE(w.adopting.empty());
  EXPECT_EQ(w.stats.adopted, 1498u);  // all but /e10 (stored meanwhile) and /e11 (purged)
  EXPECT_EQ(get(new_gen, "/e10", Origin{}).body, "fetched");  // the newer copy stayed
  EXPECT_TRUE(get(new_gen, "/e11", cacheable("again")).from_origin);
  EXPECT_FALSE(get(new_gen, "/e0", Origin{}).from_origin);
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

TEST(CacheReload, OtherStorageRulesStartEmpty) {
  // Other heuristic freshness; the status header is left out of entries, so
  // turning it on could send the origin's copy next to ours.
  for (const char* yaml : {"{ type: cache, max_bytes: 64MiB, heuristic_max_age: 0 }",
                           "{ type: cache, max_bytes: 64MiB, x_cache_header: false }",
                           "{ type: cache, max_bytes: 64MiB, cache_authorized: true }"}) {
    Cache old_gen(kConfig);
    get(old_gen, "/a", cacheable("old a"));
    Cache new_gen(yaml, 1, &old_gen.filter());
    auto left = old_gen.worker().leave();
    new_gen.filter().adopt(new_gen.worker(), old_gen.filter(), *left);
    EXPECT_EQ(new_gen.worker().stats.adopted, 0u) << yaml;
  }
}

// A cache filter "c" behind routes (prefix, upstream) as a config file would
// give them; `running` as on a reload.
std::shared_ptr<const filter::Filter> behind_routes(std::vector<std::pair<std::string, std::string>> routes,
                                                    const filter::Filter* running) {
  YAML::Node n = YAML::Load(kConfig);
  config::FilterSpec spec{"c", "cache", std::make_shared<const YAML::Node>(n), "filters.c"};
  config::detail::Field field{YAML::Node(), n, "filters.c"};
  config::Config cfg;
  cfg.source_file = "test.yaml";
  cfg.filters.push_back(spec);
  for (auto& [prefix, upstream] : routes) {
    config::Route r;
    r.match.path_kind = config::PathMatchKind::kPrefix;
    r.match.path = prefix;
    r.upstream = upstream;
    r.filters = {0};
    cfg.routes.push_back(std::move(r));
  }
  return compile_cache(FilterBuild{spec, field, cfg, nullptr, running});
}

const PurgeLog* log_of(const std::shared_ptr<const filter::Filter>& f) {
  return static_cast<const CacheFilter&>(*f).purge_log().get();
}

TEST(CacheReload, StoresCarryOverOnlyBehindTheSameRoutes) {
  auto old_gen = behind_routes({{"/a", "one"}, {"/b", "two"}}, nullptr);
  // A route added elsewhere, without the cache, changes nothing.
  EXPECT_EQ(log_of(behind_routes({{"/a", "one"}, {"/b", "two"}}, old_gen.get())), log_of(old_gen));
  // The same upstreams, swapped between the routes: /a's stored responses
  // came from "one" and must not answer for "two".
  EXPECT_NE(log_of(behind_routes({{"/a", "two"}, {"/b", "one"}}, old_gen.get())), log_of(old_gen));
  EXPECT_NE(log_of(behind_routes({{"/a", "one"}}, old_gen.get())), log_of(old_gen));
  EXPECT_NE(log_of(behind_routes({{"/a", "one"}, {"/bb", "two"}}, old_gen.get())), log_of(old_gen));
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
