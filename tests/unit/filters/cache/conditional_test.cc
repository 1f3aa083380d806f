#include "filters/cache/conditional.h"

#include <gtest/gtest.h>

#include "headers.h"

namespace ringway::filters::cache {
namespace {

using testing::headers;

constexpr int64_t kT = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(ETag, WeakComparisonOfRfc9110) {
  // The table of RFC 9110 8.8.3.2.
  EXPECT_FALSE(weak_etag_match("W/\"1\"", "W/\"2\""));
  EXPECT_TRUE(weak_etag_match("W/\"1\"", "W/\"1\""));
  EXPECT_TRUE(weak_etag_match("W/\"1\"", "\"1\""));
  EXPECT_TRUE(weak_etag_match("\"1\"", "\"1\""));
  EXPECT_FALSE(weak_etag_match("\"1\"", "\"2\""));
  EXPECT_FALSE(weak_etag_match("1", "1"));  // malformed: never matches
  EXPECT_FALSE(weak_etag_match("\"\"\"", "\"\"\""));
}

TEST(ETag, IfNoneMatchLists) {
  EXPECT_TRUE(if_none_match_matches("\"a\", \"b\", W/\"c\"", "\"c\""));
  EXPECT_TRUE(if_none_match_matches("\"a\", \"b\"", "W/\"b\""));
  EXPECT_FALSE(if_none_match_matches("\"a\", \"b\"", "\"x\""));
  EXPECT_TRUE(if_none_match_matches("*", "\"x\""));
  EXPECT_TRUE(if_none_match_matches("*", ""));
  EXPECT_FALSE(if_none_match_matches("\"a\"", ""));
  // A comma inside an entity-tag does not split it.
  EXPECT_TRUE(if_none_match_matches("\"a,b\"", "\"a,b\""));
  EXPECT_FALSE(if_none_match_matches("\"a,b\"", "\"a\""));
}

Validators stored(std::string_view etag = "\"v1\"") {
  Validators v;
  v.etag = etag;
  v.last_modified = kT - 3600;
  v.date = kT;
  v.response_time = kT;
  return v;
}

TEST(Conditional, NoneWithoutConditionals) {
  EXPECT_EQ(evaluate_conditionals(headers({{"Accept", "*/*"}}), stored(), kT), Conditional::kNone);
}

TEST(Conditional, IfNoneMatch) {
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "\"v1\""}}), stored(), kT), Conditional::kNotModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "W/\"v1\""}}), stored(), kT), Conditional::kNotModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "\"v0\""}}), stored(), kT), Conditional::kModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "\"v0\""}, {"If-None-Match", "\"v1\""}}), stored(), kT),
            Conditional::kNotModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "*"}}), stored(""), kT), Conditional::kNotModified);
}

TEST(Conditional, IfModifiedSince) {
  // Last-Modified is an hour before kT.
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}), stored(), kT),
            Conditional::kNotModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 07:49:37 GMT"}}), stored(), kT),
            Conditional::kNotModified);  // equal
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 07:49:36 GMT"}}), stored(), kT),
            Conditional::kModified);
}

TEST(Conditional, IfModifiedSinceFallsBackToDateThenResponseTime) {
  Validators v = stored();
  v.last_modified.reset();
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 08:00:00 GMT"}}), v, kT),
            Conditional::kModified);  // Date is 08:49:37
  v.date.reset();
  v.response_time = kT - 7200;
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 08:00:00 GMT"}}), v, kT),
            Conditional::kNotModified);
}

TEST(Conditional, InvalidOrRepeatedIfModifiedSinceIsIgnored) {
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "yesterday"}}), stored(), kT), Conditional::kNone);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"},
                                           {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
                                  stored(), kT),
            Conditional::kNone);
}

TEST(Conditional, IfNoneMatchWinsOverIfModifiedSince) {
  // RFC 9110 13.1.3: If-Modified-Since is ignored when If-None-Match is present.
  EXPECT_EQ(evaluate_conditionals(headers({{"If-None-Match", "\"other\""},
                                           {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
                                  stored(), kT),
            Conditional::kModified);
  EXPECT_EQ(evaluate_conditionals(headers({{"If-Modified-Since", "Sun, 06 Nov 1994 00:00:00 GMT"},
                                           {"If-None-Match", "\"v1\""}}),
                                  stored(), kT),
            Conditional::kNotModified);
}

TEST(Conditional, Presence) {
  EXPECT_TRUE(has_cache_conditionals(headers({{"if-none-match", "*"}})));
  EXPECT_TRUE(has_cache_conditionals(headers({{"If-Modified-Since", "x"}})));
  EXPECT_FALSE(has_cache_conditionals(headers({{"If-Match", "*"}})));
}

}  // namespace
}  // namespace ringway::filters::cache
