// Config keys of the cache filter, and the located errors for bad values.

#include <gtest/gtest.h>

#include "filter_harness.h"

namespace ringway::filters::cache {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    testing::build_filter(yaml);
  } catch (const config::detail::ConfigError& e) {
    return config::detail::format_error("test.yaml", e.mark, e.message);
  }
  return "";
}

const CacheOptions& options(const std::shared_ptr<const filter::Filter>& f) {
  return static_cast<const CacheFilter&>(*f).options();
}

TEST(CacheOptions, Defaults) {
  auto f = testing::build_filter("{ type: cache }");
  const CacheOptions& o = options(f);
  EXPECT_EQ(o.max_bytes, 64u << 20);
  EXPECT_EQ(o.max_entry_bytes, 1u << 20);
  EXPECT_EQ(o.heuristic.max_seconds, 86400);
  EXPECT_EQ(o.status_header, "X-Cache");
  EXPECT_FALSE(o.cache_authorized);
  EXPECT_FALSE(o.ignore_query);
  EXPECT_TRUE(o.collapse);
}

TEST(CacheOptions, AllKeys) {
  auto f = testing::build_filter(
      "type: cache\nmax_bytes: 256MiB\nmax_entry_bytes: 8MiB\nheuristic_max_age: 1h\n"
      "x_cache_header: X-Edge\ncache_authorized: true\nignore_query: true\ncollapse: false\n");
  const CacheOptions& o = options(f);
  EXPECT_EQ(o.max_bytes, 256u << 20);
  EXPECT_EQ(o.max_entry_bytes, 8u << 20);
  EXPECT_EQ(o.heuristic.max_seconds, 3600);
  EXPECT_EQ(o.status_header, "X-Edge");
  EXPECT_TRUE(o.cache_authorized);
  EXPECT_TRUE(o.ignore_query);
  EXPECT_FALSE(o.collapse);
}

TEST(CacheOptions, StatusHeaderSwitches) {
  EXPECT_EQ(options(testing::build_filter("{ type: cache, x_cache_header: on }")).status_header, "X-Cache");
  EXPECT_EQ(options(testing::build_filter("{ type: cache, x_cache_header: true }")).status_header, "X-Cache");
  EXPECT_EQ(options(testing::build_filter("{ type: cache, x_cache_header: off }")).status_header, "");
  EXPECT_EQ(options(testing::build_filter("{ type: cache, x_cache_header: false }")).status_header, "");
}

TEST(CacheOptions, SmallMaxBytesCapsTheEntryLimit) {
  EXPECT_EQ(options(testing::build_filter("{ type: cache, max_bytes: 64KiB }")).max_entry_bytes, 64u << 10);
}

TEST(CacheOptions, Errors) {
  EXPECT_EQ(error_of("type: cache\nmax_byte: 1MiB\n"),
            "test.yaml:2:1: unknown key \"max_byte\" in filter \"c\" (did you mean \"max_bytes\"?)");
  EXPECT_EQ(error_of("type: cache\nmax_bytes: 64MB\n"),
            "test.yaml:2:12: filters.c.max_bytes: ambiguous size unit in \"64MB\"; sizes are 1024-based, "
            "write KiB, MiB or GiB");
  EXPECT_EQ(error_of("type: cache\nmax_bytes: 1MiB\nmax_entry_bytes: 2MiB\n"),
            "test.yaml:3:18: filters.c.max_entry_bytes: must not be larger than max_bytes");
  EXPECT_EQ(error_of("type: cache\nx_cache_header: \"X Cache\"\n"),
            "test.yaml:2:17: filters.c.x_cache_header: invalid header name \"X Cache\"");
  // A field with a meaning in HTTP would be overwritten on every answer.
  EXPECT_EQ(error_of("type: cache\nx_cache_header: Cache-Control\n"),
            "test.yaml:2:17: filters.c.x_cache_header: \"Cache-Control\" is a field HTTP gives a meaning; "
            "pick another name (X-Cache)");
  for (const char* name : {"age", "Vary", "ETag", "Content-Type", "connection", "Date", "Expires"})
    EXPECT_NE(error_of(std::string("type: cache\nx_cache_header: ") + name + "\n").find("gives a meaning"),
              std::string::npos)
        << name;
  EXPECT_EQ(options(testing::build_filter("{ type: cache, x_cache_header: Cache-Status }")).status_header,
            "Cache-Status");
  EXPECT_NE(error_of("type: cache\ncollapse: maybe\n").find("test.yaml:2:11: filters.c.collapse"), std::string::npos);
  EXPECT_NE(error_of("type: cache\ncollapse_timeout: 0s\n").find("test.yaml:2:19: filters.c.collapse_timeout"),
            std::string::npos);
  EXPECT_EQ(options(testing::build_filter("{ type: cache, collapse_timeout: 250ms }")).collapse_timeout_ms, 250);
  EXPECT_NE(error_of("type: cache\nheuristic_max_age: 10 years\n").find("test.yaml:2:20:"), std::string::npos);
  EXPECT_NE(error_of("type: cache\nmax_bytes: 10\n").find("between 1KiB and"), std::string::npos);
}

}  // namespace
}  // namespace ringway::filters::cache
