#include "filters/cache/cache_control.h"

#include <gtest/gtest.h>

#include "headers.h"

namespace ringway::filters::cache {
namespace {

CacheControl parse(std::string_view v) {
  CacheControl cc;
  parse_cache_control(v, cc);
  return cc;
}

TEST(CacheControl, EmptyAndAbsent) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_TRUE(parse(" , ,, ").empty());
  EXPECT_TRUE(parse_cache_control(testing::headers({{"Content-Type", "text/plain"}})).empty());
}

TEST(CacheControl, BooleanDirectives) {
  CacheControl cc = parse("no-store, no-cache, private, public, must-revalidate, proxy-revalidate, "
                          "must-understand, no-transform, only-if-cached, immutable");
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.private_);
  EXPECT_TRUE(cc.public_);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_TRUE(cc.must_understand);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_TRUE(cc.only_if_cached);
  EXPECT_TRUE(cc.immutable);
  EXPECT_FALSE(cc.invalid_freshness);
}

TEST(CacheControl, DeltaSeconds) {
  CacheControl cc = parse("max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  EXPECT_EQ(cc.stale_while_revalidate, 30);
  EXPECT_EQ(cc.stale_if_error, 600);
  EXPECT_FALSE(cc.invalid_freshness);
  EXPECT_EQ(parse("max-age=0").max_age, 0);
}

TEST(CacheControl, NamesAreCaseInsensitive) {
  CacheControl cc = parse("Max-Age=5, NO-STORE, Private");
  EXPECT_EQ(cc.max_age, 5);
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.private_);
}

TEST(CacheControl, QuotedArgumentsAreAccepted) {
  // RFC 9111 5.2: recipients accept the quoted-string form too.
  EXPECT_EQ(parse("max-age=\"30\"").max_age, 30);
  EXPECT_FALSE(parse("max-age=\"30\"").invalid_freshness);
}

TEST(CacheControl, CommasInsideQuotedStringsDoNotSplit) {
  CacheControl cc = parse("no-cache=\"Set-Cookie, X-Foo\", max-age=10");
  EXPECT_TRUE(cc.no_cache);  // qualified form treated as unqualified
  EXPECT_EQ(cc.max_age, 10);
  EXPECT_FALSE(cc.private_);
  cc = parse("private=\"a,b\"");
  EXPECT_TRUE(cc.private_);
}

TEST(CacheControl, WhitespaceAroundEquals) {
  EXPECT_EQ(parse("  max-age = 7 ").max_age, 7);
}

TEST(CacheControl, InvalidFreshnessValuesMakeTheResponseStale) {
  // RFC 9111 4.2.1: caches are encouraged to treat invalid freshness
  // information as stale.
  for (std::string_view v : {"max-age=abc", "max-age=-1", "max-age=", "max-age", "max-age=1.5",
                             "s-maxage=x"}) {
    CacheControl cc = parse(v);
    EXPECT_TRUE(cc.invalid_freshness) << v;
  }
}

TEST(CacheControl, ConflictingDuplicatesMakeTheResponseStale) {
  CacheControl cc = parse("max-age=60, max-age=3600");
  EXPECT_TRUE(cc.invalid_freshness);
  EXPECT_EQ(cc.max_age, 60);
  // Equal duplicates are harmless.
  cc = parse("max-age=60, max-age=60");
  EXPECT_FALSE(cc.invalid_freshness);
  EXPECT_EQ(cc.max_age, 60);
}

TEST(CacheControl, DuplicatesAcrossFieldLines) {
  CacheControl cc = parse_cache_control(
      testing::headers({{"Cache-Control", "public"}, {"X-Other", "max-age=1"}, {"cache-control", "max-age=5"}}));
  EXPECT_TRUE(cc.public_);
  EXPECT_EQ(cc.max_age, 5);
}

TEST(CacheControl, HugeValuesSaturate) {
  // RFC 9111 1.2.2: a value beyond what the cache can represent is 2^31.
  EXPECT_EQ(parse("max-age=99999999999999999999999").max_age, int64_t{1} << 31);
}

TEST(CacheControl, MaxStale) {
  CacheControl cc = parse("max-stale");
  EXPECT_TRUE(cc.max_stale_any);
  cc = parse("max-stale=30");
  EXPECT_FALSE(cc.max_stale_any);
  EXPECT_EQ(cc.max_stale, 30);
  cc = parse("max-stale=bad");  // ignored, never a reason to serve stale
  EXPECT_FALSE(cc.max_stale_any);
  EXPECT_EQ(cc.max_stale, CacheControl::kAbsent);
  EXPECT_FALSE(cc.invalid_freshness);
}

TEST(CacheControl, MinFreshKeepsFirstOfDuplicates) {
  EXPECT_EQ(parse("min-fresh=10, min-fresh=20").min_fresh, 10);
}

TEST(CacheControl, UnknownDirectivesAreIgnored) {
  CacheControl cc = parse("community=\"UCI\", foo, bar=baz, max-age=3");
  EXPECT_EQ(cc.max_age, 3);
  EXPECT_FALSE(cc.invalid_freshness);
}

}  // namespace
}  // namespace ringway::filters::cache
