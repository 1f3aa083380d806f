// The rate_limit filter's config: what it accepts, and errors that point at
// the offending value as FILE:LINE:COLUMN.

#include "filters/rate_limit/rate_limit_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/filters/rate_limit/rate_limit_test_util.h"

namespace ringway::filters::rate_limit {
namespace {

using testing::build_error;
using ::testing::HasSubstr;

RateLimitConfig read(const std::string& yaml) {
  YAML::Node node = YAML::Load(yaml);
  config::FilterSpec spec{"rl", "rate_limit", std::make_shared<const YAML::Node>(node),
                          "filters.rl"};
  config::detail::Field field{YAML::Node(), node, spec.path};
  config::Config cfg;
  return read_rate_limit_config(FilterBuild{spec, field, cfg});
}

TEST(RateLimitConfig, Defaults) {
  RateLimitConfig c = read("{ type: rate_limit, rate: 100/s }");
  ASSERT_EQ(c.limits.size(), 1u);
  EXPECT_EQ(c.limits[0].rate.count, 100);
  EXPECT_EQ(c.limits[0].burst, 100);
  EXPECT_EQ(c.limits[0].name, "rl");  // the filter's name
  ASSERT_EQ(c.key.size(), 1u);
  EXPECT_EQ(c.key[0].kind, KeyPart::kClientIp);
  EXPECT_EQ(c.max_keys, 65536);
  EXPECT_EQ(c.missing_key, MissingKey::kClientIp);
  EXPECT_EQ(c.when_full, WhenFull::kAllow);
  EXPECT_TRUE(c.headers);
  EXPECT_TRUE(c.x_ratelimit_headers);
  EXPECT_EQ(c.status, 429);
  EXPECT_EQ(c.clock, Clock::kMonotonic);
}

TEST(RateLimitConfig, Everything) {
  RateLimitConfig c = read(R"(
type: rate_limit
key: [header:X-Api-Key, claim:sub, consumer, route, client_ip]
limits:
  - { rate: 10/s, burst: 5 }
  - { rate: 300/m, name: per-minute }
  - { rate: 1000/h }
max_keys: 1000
missing_key: skip
when_full: deny
headers: false
x_ratelimit_headers: false
status: 503
clock: loop
)");
  ASSERT_EQ(c.key.size(), 5u);
  EXPECT_EQ(c.key[0].kind, KeyPart::kHeader);
  EXPECT_EQ(c.key[0].name, "x-api-key");  // header names compare case-insensitively
  EXPECT_EQ(c.key[1].kind, KeyPart::kAttribute);
  EXPECT_EQ(c.key[1].name, "jwt.sub");
  EXPECT_EQ(c.key[2].name, "consumer");
  EXPECT_EQ(c.key[3].kind, KeyPart::kRoute);
  ASSERT_EQ(c.limits.size(), 3u);
  EXPECT_EQ(c.limits[0].name, "rl:10/s");  // the filter's name and the rate
  EXPECT_EQ(c.limits[0].burst, 5);
  EXPECT_EQ(c.limits[1].name, "per-minute");
  EXPECT_EQ(c.limits[1].burst, 300);
  EXPECT_EQ(c.limits[2].rate.period_ms, 3'600'000);
  EXPECT_EQ(c.max_keys, 1000);
  EXPECT_EQ(c.missing_key, MissingKey::kSkip);
  EXPECT_EQ(c.when_full, WhenFull::kDeny);
  EXPECT_FALSE(c.headers);
  EXPECT_FALSE(c.x_ratelimit_headers);
  EXPECT_EQ(c.status, 503);
  EXPECT_EQ(c.clock, Clock::kLoop);
  EXPECT_EQ(read("{ type: rate_limit, rate: 1/s, missing_key: shared }").missing_key,
            MissingKey::kShared);
}

TEST(RateLimitConfig, BadRateWithPosition) {
  EXPECT_EQ(build_error("type: rate_limit\nrate: 100/x\n"),
            "rl.yaml:2:7: filters.rl.rate: expected a rate such as 100/s, 300/m or 5/h (a whole "
            "number from 1 to 1000000 per s, m or h), got \"100/x\"");
  EXPECT_THAT(build_error("type: rate_limit\nrate: 0/s\n"),
              HasSubstr("rl.yaml:2:7: filters.rl.rate:"));
  EXPECT_THAT(
      build_error("type: rate_limit\nrate: [1]\n"),
      HasSubstr(
          "rl.yaml:2:7: filters.rl.rate: expected a rate such as 100/s, 300/m or 5/h, got a list"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits:\n  - rate: 5/d\n"),
              HasSubstr("rl.yaml:3:11: filters.rl.limits[0].rate: expected a rate"));
}

TEST(RateLimitConfig, BadBurstWithPosition) {
  EXPECT_EQ(build_error("type: rate_limit\nrate: 10/s\nburst: -5\n"),
            "rl.yaml:3:8: filters.rl.burst: must be between 1 and 1000000, got -5");
  EXPECT_THAT(build_error("type: rate_limit\nrate: 10/s\nburst: 0\n"),
              HasSubstr("rl.yaml:3:8: filters.rl.burst: must be between 1"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 10/s\nburst: lots\n"),
              HasSubstr("rl.yaml:3:8: filters.rl.burst: expected an integer"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: [{rate: 1/s, burst: -1}]\n"),
              HasSubstr("rl.yaml:2:29: filters.rl.limits[0].burst: must be between 1"));
}

TEST(RateLimitConfig, BadKeyWithPosition) {
  EXPECT_EQ(build_error("type: rate_limit\nrate: 1/s\nkey: client-ip\n"),
            "rl.yaml:3:6: filters.rl.key: unknown key \"client-ip\"; a key is client_ip, consumer, "
            "route, header:NAME or claim:NAME (did you mean \"client_ip\"?)");
  EXPECT_THAT(
      build_error("type: rate_limit\nrate: 1/s\nkey: [route, headr:X-Id]\n"),
      HasSubstr(
          "rl.yaml:3:14: filters.rl.key[1]: unknown key \"headr:X-Id\"; a key is "
          "client_ip, consumer, route, header:NAME or claim:NAME (did you mean \"header:\"?)"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: \"header:\"\n"),
              HasSubstr("rl.yaml:3:6: filters.rl.key: \"header:\" needs a header name"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: \"header:a b\"\n"),
              HasSubstr("needs a header name"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: \"claim:\"\n"),
              HasSubstr("rl.yaml:3:6: filters.rl.key: \"claim:\" needs a JWT claim name"));
  // A claim the jwt filter never makes an attribute of would key on the fallback.
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: \"claim:a b\"\n"),
              HasSubstr("needs a JWT claim name"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: \"claim:" + std::string(65, 'c') + "\"\n"),
              HasSubstr("needs a JWT claim name"));
  EXPECT_EQ(read("{ type: rate_limit, rate: 1/s, key: \"claim:https://example.com/tenant\" }").key[0].name,
            "jwt.https://example.com/tenant");
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: [header:X-Id, header:x-id]\n"),
              HasSubstr("key \"header:x-id\" is listed twice"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: [route, route]\n"),
              HasSubstr("rl.yaml:3:14: filters.rl.key[1]: key \"route\" is listed twice"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nkey: []\n"),
              HasSubstr("rl.yaml:3:6: filters.rl.key: must not be empty"));
}

TEST(RateLimitConfig, LimitsShape) {
  EXPECT_THAT(
      build_error("type: rate_limit\n"),
      HasSubstr("rl.yaml:1:1: missing required key \"rate\" (or \"limits\") in filter \"rl\""));
  EXPECT_THAT(
      build_error("type: rate_limit\nrate: 1/s\nlimits: [{rate: 2/s}]\n"),
      HasSubstr(
          "rl.yaml:3:1: filters.rl.limits: give either rate (and burst) or limits, not both"));
  EXPECT_THAT(
      build_error("type: rate_limit\nburst: 3\nlimits: [{rate: 2/s}]\n"),
      HasSubstr("rl.yaml:2:1: filters.rl.burst: with limits, each limit has its own burst"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: [{burst: 2}]\n"),
              HasSubstr("missing required key \"rate\" in filters.rl.limits[0]"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: [{rate: 2/s, burts: 2}]\n"),
              HasSubstr("unknown key \"burts\" in filters.rl.limits[0] (did you mean \"burst\"?)"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: [{rate: 2/s}, {rate: 2/s, burst: 1}]\n"),
              HasSubstr("rl.yaml:2:23: filters.rl.limits[1]: two limits are both named \"rl:2/s\""));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: [{rate: 2/s, name: 'a\"b'}]\n"),
              HasSubstr("filters.rl.limits[0].name: a policy name is printable ASCII"));
  EXPECT_THAT(build_error("type: rate_limit\nlimits: []\n"),
              HasSubstr("rl.yaml:2:9: filters.rl.limits: must not be empty"));
}

TEST(RateLimitConfig, OtherKeys) {
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nmax_keys: 0\n"),
              HasSubstr("rl.yaml:3:11: filters.rl.max_keys: must be between 8 and 4194304, got 0"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nmissing_key: ignore\n"),
              HasSubstr("rl.yaml:3:14: filters.rl.missing_key: expected client_ip, shared or skip, "
                        "got \"ignore\""));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nwhen_full: alow\n"),
              HasSubstr("expected allow or deny, got \"alow\" (did you mean \"allow\"?)"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nheaders: yes\n"),
              HasSubstr("rl.yaml:3:10: filters.rl.headers: expected true or false"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nstatus: 200\n"),
              HasSubstr("rl.yaml:3:9: filters.rl.status: must be between 400 and 599"));
  EXPECT_THAT(build_error("type: rate_limit\nrate: 1/s\nclock: wall\n"),
              HasSubstr("rl.yaml:3:8: filters.rl.clock: expected monotonic or loop, got \"wall\""));
  EXPECT_THAT(
      build_error("type: rate_limit\nrate: 1/s\nrates: 2/s\n"),
      HasSubstr("rl.yaml:3:1: unknown key \"rates\" in filter \"rl\" (did you mean \"rate\"?)"));
}

}  // namespace
}  // namespace ringway::filters::rate_limit
