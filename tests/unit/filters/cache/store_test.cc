#include "filters/cache/store.h"

#include <gtest/gtest.h>

#include "filters/cache/key.h"
#include "filters/cache/purge_log.h"
#include "filters/cache/vary.h"
#include "headers.h"

namespace ringway::filters::cache {
namespace {

using testing::headers;

constexpr int64_t kT = 784111777;

EntryPtr entry(std::string key, size_t body_bytes, const http::HeaderList& request = {},
               std::vector<std::string> vary = {}) {
  std::string secondary = secondary_key(request, vary);
  return make_entry(std::move(key), std::move(vary), std::move(secondary), 200,
                    {{"Cache-Control", "max-age=60"}}, std::make_shared<const std::string>(body_bytes, 'x'), {},
                    EntryTimes{kT, kT, kT}, HeuristicPolicy{});
}

TEST(Store, InsertLookupAndSizeAccounting) {
  Store s(1 << 20);
  EntryPtr e = entry("h/a", 1000);
  EXPECT_GT(e->size, 1000u);
  EXPECT_TRUE(s.insert(e));
  EXPECT_EQ(s.bytes(), e->size);
  EXPECT_EQ(s.lookup("h/a", {}), e);
  EXPECT_EQ(s.lookup("h/b", {}), nullptr);
  EXPECT_EQ(s.entries(), 1u);
}

TEST(Store, EvictsLeastRecentlyUsedByBytes) {
  EntryPtr a = entry("h/a", 1000), b = entry("h/b", 1000), c = entry("h/c", 1000);
  Store s(a->size * 2 + 10);
  s.insert(a);
  s.insert(b);
  EXPECT_EQ(s.lookup("h/a", {}), a);  // a is now more recent than b
  s.insert(c);
  EXPECT_EQ(s.lookup("h/b", {}), nullptr);
  EXPECT_EQ(s.lookup("h/a", {}), a);
  EXPECT_EQ(s.lookup("h/c", {}), c);
  EXPECT_EQ(s.evictions(), 1u);
  EXPECT_LE(s.bytes(), s.max_bytes());
}

TEST(Store, EvictedEntriesStayAliveWhileReferenced) {
  EntryPtr a = entry("h/a", 1000);
  Store s(a->size + 10);
  s.insert(a);
  std::weak_ptr<const Entry> weak = a;
  EntryPtr held = s.lookup("h/a", {});
  a.reset();
  s.insert(entry("h/b", 1000));  // evicts a
  EXPECT_EQ(s.lookup("h/a", {}), nullptr);
  ASSERT_FALSE(weak.expired());
  EXPECT_EQ(held->body->size(), 1000u);
  held.reset();
  EXPECT_TRUE(weak.expired());
}

TEST(Store, EntryLargerThanStoreIsRefused) {
  Store s(500);
  EXPECT_FALSE(s.insert(entry("h/a", 1000)));
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(Store, VariantsBySecondaryKey) {
  Store s(1 << 20);
  std::vector<std::string> vary{"accept-encoding"};
  auto gz = headers({{"Accept-Encoding", "gzip"}});
  auto br = headers({{"Accept-Encoding", "br"}});
  EntryPtr a = entry("h/a", 10, gz, vary), b = entry("h/a", 20, br, vary);
  s.insert(a);
  s.insert(b);
  EXPECT_EQ(s.entries(), 2u);
  EXPECT_EQ(s.lookup("h/a", gz), a);
  EXPECT_EQ(s.lookup("h/a", br), b);
  EXPECT_EQ(s.lookup("h/a", {}), nullptr);
  // Same variant again: replaced, not added.
  EntryPtr a2 = entry("h/a", 30, headers({{"accept-encoding", "GZIP"}}), vary);
  s.insert(a2);
  EXPECT_EQ(s.entries(), 2u);
  EXPECT_EQ(s.lookup("h/a", gz), a2);
  EXPECT_EQ(s.bytes(), a2->size + b->size);
}

TEST(Store, TheMostRecentOfSeveralMatchingVariantsIsUsed) {
  // The origin dropped its Vary: the old variant and the new one both match
  // (RFC 9111 4.1: the most recent response is used), whichever was used last.
  Store s(1 << 20);
  auto gz = headers({{"Accept-Encoding", "gzip"}});
  EntryPtr old = entry("h/a", 10, gz, {"accept-encoding"});
  EntryPtr now = entry("h/a", 20, gz, {});
  s.insert(old);
  EXPECT_EQ(s.lookup("h/a", gz), old);
  s.insert(now);
  EXPECT_EQ(s.lookup("h/a", gz), now);
  EXPECT_EQ(s.lookup("h/a", gz), now);
  EXPECT_EQ(s.lookup("h/a", headers({{"Accept-Encoding", "br"}})), now);
}

TEST(Store, VariantCountIsBounded) {
  Store s(1 << 24);
  std::vector<std::string> vary{"x-v"};
  std::vector<std::string> values;
  for (size_t i = 0; i < Store::kMaxVariants + 3; ++i) values.push_back(std::to_string(i));
  for (const auto& v : values) s.insert(entry("h/a", 10, headers({{"X-V", v}}), vary));
  EXPECT_EQ(s.entries(), Store::kMaxVariants);
  EXPECT_EQ(s.lookup("h/a", headers({{"X-V", "0"}})), nullptr);  // the oldest went first
  EXPECT_NE(s.lookup("h/a", headers({{"X-V", values.back()}})), nullptr);
}

TEST(Store, RemoveEraseAndClear) {
  Store s(1 << 20);
  EntryPtr a = entry("h/a", 10), b = entry("h/a/b", 10), c = entry("g/a", 10);
  s.insert(a);
  s.insert(b);
  s.insert(c);
  s.remove(entry("h/a", 10));  // not the same object: nothing happens
  EXPECT_EQ(s.entries(), 3u);
  s.remove(a);
  EXPECT_EQ(s.entries(), 2u);
  EXPECT_EQ(s.erase_key("h/a/b"), 1u);
  EXPECT_EQ(s.erase_key("h/a/b"), 0u);
  EXPECT_EQ(s.erase_if([](std::string_view k) { return k.starts_with("g/"); }), 1u);
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
  s.insert(a);
  s.clear();
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(Key, PrimaryKeys) {
  EXPECT_EQ(primary_key("Example.COM:8080", "/a/b", "x=1&y=2", false), "example.com:8080/a/b?x=1&y=2");
  EXPECT_EQ(primary_key("example.com", "/a", "x=1", true), "example.com/a");
  EXPECT_EQ(primary_key("example.com", "/a", "", false), "example.com/a");
  EXPECT_EQ(key_host("example.com:8080/a?b"), "example.com:8080");
  EXPECT_EQ(key_path("example.com:8080/a?b"), "/a?b");
}

TEST(Key, References) {
  EXPECT_EQ(reference_key("/items/1", "h.example", "/items", false), "h.example/items/1");
  EXPECT_EQ(reference_key("http://H.example/items/1?x", "h.example", "/items", false), "h.example/items/1?x");
  EXPECT_EQ(reference_key("https://h.example/a/../b#frag", "h.example", "/", false), "h.example/b");
  EXPECT_EQ(reference_key("//h.example/c", "h.example", "/", false), "h.example/c");
  EXPECT_EQ(reference_key("d", "h.example", "/a/b", false), "h.example/a/d");
  // Another host is never invalidated (RFC 9111 4.4).
  EXPECT_EQ(reference_key("http://other.example/items/1", "h.example", "/", false), "");
  EXPECT_EQ(reference_key("//other.example/x", "h.example", "/", false), "");
  EXPECT_EQ(reference_key("ftp://h.example/x", "h.example", "/", false), "");
  EXPECT_EQ(reference_key("", "h.example", "/", false), "");
}

TEST(Store, AdoptsAnOlderStoreBehindItsOwnEntries) {
  EntryPtr mine = entry("h/a", 100);
  EntryPtr theirs_a = entry("h/a", 100);  // same variant: ours is newer and stays
  EntryPtr theirs_b = entry("h/b", 100), theirs_c = entry("h/c", 100);
  EntryPtr theirs_big = entry("h/big", 5000);
  Store older(1 << 20);
  for (const EntryPtr& e : {theirs_c, theirs_big, theirs_b, theirs_a}) older.insert(e);  // a most recent
  Store s(mine->size * 3 + 10);  // room for three
  s.insert(mine);
  EXPECT_EQ(s.adopt_older(older, SIZE_MAX, 1000), 2u);  // b and c; big is over the entry limit
  EXPECT_EQ(s.bytes(), mine->size + theirs_b->size + theirs_c->size);
  EXPECT_EQ(older.entries(), 0u);
  // Adopted entries are less recently used than ours, in their old order: a
  // new entry evicts c (the oldest over there) first.
  s.insert(entry("h/d", 100));
  EXPECT_EQ(s.lookup("h/c", {}), nullptr);
  EXPECT_EQ(s.lookup("h/a", {}), mine);
  EXPECT_EQ(s.lookup("h/b", {}), theirs_b);
  EXPECT_EQ(s.lookup("h/big", {}), nullptr);
}

TEST(Store, AdoptedVariantsKeepTheirOrderForEviction) {
  // 16 variants (the most a key keeps) come over; a 17th stored afterwards
  // evicts the one the old store used least recently.
  Store older(1 << 20);
  std::vector<EntryPtr> variants;
  for (int i = 0; i < 16; ++i) {
    std::string value = "v";
    value += std::to_string(i);
    variants.push_back(entry("h/v", 10, headers({{"X-V", value}}), {"x-v"}));
    older.insert(variants.back());
  }
  Store s(1 << 20);
  EXPECT_EQ(s.adopt_older(older, SIZE_MAX, 1 << 20), 16u);
  s.insert(entry("h/v", 10, headers({{"X-V", "new"}}), {"x-v"}));
  EXPECT_EQ(s.lookup("h/v", headers({{"X-V", "v0"}})), nullptr);
  EXPECT_EQ(s.lookup("h/v", headers({{"X-V", "v15"}})), variants[15]);
  EXPECT_EQ(s.lookup("h/v", headers({{"X-V", "v1"}})), variants[1]);
}

TEST(Store, AdoptsOnlyWhatFits) {
  EntryPtr a = entry("h/a", 100), b = entry("h/b", 100), c = entry("h/c", 100);
  Store older(1 << 20);
  for (const EntryPtr& e : {c, b, a}) older.insert(e);  // a most recent
  Store s(a->size * 2 + 10);
  EXPECT_EQ(s.adopt_older(older, SIZE_MAX, 1 << 20), 2u);
  EXPECT_EQ(s.lookup("h/a", {}), a);  // the most recently used ones come over
  EXPECT_EQ(s.lookup("h/b", {}), b);
  EXPECT_EQ(s.lookup("h/c", {}), nullptr);
}

TEST(PurgeLog, RecordsMatchKeys) {
  PurgeRecord exact{"h", "/a?x", false};
  EXPECT_TRUE(exact.matches("h/a?x"));
  EXPECT_FALSE(exact.matches("h/a"));
  EXPECT_FALSE(exact.matches("g/a?x"));
  PurgeRecord prefix{"h", "/a", true};
  EXPECT_TRUE(prefix.matches("h/a"));
  EXPECT_TRUE(prefix.matches("h/ab?x"));
  EXPECT_FALSE(prefix.matches("h/b"));
  PurgeRecord any_host{"", "/", true, true};
  EXPECT_TRUE(any_host.matches("g/x"));
  // An invalidation by a request without Host names the key host "" only:
  // it must not reach every virtual host (RFC 9111 4.4).
  PurgeRecord no_host{"", "/x", false};
  EXPECT_TRUE(no_host.matches("/x"));
  EXPECT_FALSE(no_host.matches("g/x"));
}

TEST(PurgeLog, SequenceAndCatchUp) {
  PurgeLog log;
  EXPECT_EQ(log.published(), 0u);
  uint64_t applied = 0;
  std::vector<PurgeRecord> out;
  EXPECT_TRUE(log.since(applied, out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(log.publish({"h", "/a", false}), 1u);
  EXPECT_EQ(log.publish({"h", "/b", false}), 2u);
  EXPECT_EQ(log.published(), 2u);
  EXPECT_TRUE(log.since(applied, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].path, "/b");
  EXPECT_EQ(applied, 2u);
  out.clear();
  EXPECT_TRUE(log.since(applied, out));
  EXPECT_TRUE(out.empty());
}

TEST(PurgeLog, AWorkerTooFarBehindMustClear) {
  PurgeLog log;
  uint64_t applied = 0;
  for (size_t i = 0; i < PurgeLog::kCapacity + 5; ++i) {
    PurgeRecord r{"h", "/", false};
    r.path += std::to_string(i);  // (not "/" + ...: a GCC 12 -Wrestrict false positive)
    log.publish(std::move(r));
  }
  std::vector<PurgeRecord> out;
  EXPECT_FALSE(log.since(applied, out));
  EXPECT_EQ(applied, PurgeLog::kCapacity + 5);
  out.clear();
  log.publish({"h", "/z", false});
  EXPECT_TRUE(log.since(applied, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, "/z");
}

}  // namespace
}  // namespace ringway::filters::cache
