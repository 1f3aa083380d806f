// The value syntaxes behind the loader, tested directly: sizes, durations,
// suggestions, path and host patterns, socket addresses.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "config/address.h"
#include "config/route_syntax.h"
#include "config/text_util.h"
#include "config/units.h"

namespace ringway::config::detail {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(SizeTest, PlainBytesAndUnits) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("512B"), 512u);
  EXPECT_EQ(parse_size("16KiB"), 16384u);
  EXPECT_EQ(parse_size("16 KiB"), 16384u);
  EXPECT_EQ(parse_size("16k"), 16384u);
  EXPECT_EQ(parse_size("16K"), 16384u);
  EXPECT_EQ(parse_size("3MiB"), 3u << 20);
  EXPECT_EQ(parse_size("3m"), 3u << 20);
  EXPECT_EQ(parse_size("3M"), 3u << 20);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
}

TEST(SizeTest, Rejected) {
  for (const char* bad : {"", " 1", "1  KiB", "16 ", "-1", "+1", "1.5KiB", "0x10", "KiB", "16kib",
                          "16KB", "16TiB", "16Ki", "18446744073709551616", "17179869184GiB"})
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
}

TEST(SizeTest, AmbiguousUnitsAreRecognised) {
  EXPECT_TRUE(is_ambiguous_size("10KB"));
  EXPECT_TRUE(is_ambiguous_size("10 MB"));
  EXPECT_TRUE(is_ambiguous_size("1GB"));
  EXPECT_TRUE(is_ambiguous_size("1kB"));
  EXPECT_FALSE(is_ambiguous_size("10KiB"));
  EXPECT_FALSE(is_ambiguous_size("KB"));
}

TEST(SizeTest, Format) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(16), "16B");
  EXPECT_EQ(format_size(1500), "1500B");
  EXPECT_EQ(format_size(1024), "1KiB");
  EXPECT_EQ(format_size(16384), "16KiB");
  EXPECT_EQ(format_size(1 << 20), "1MiB");
  EXPECT_EQ(format_size(3ull << 30), "3GiB");
}

TEST(DurationTest, PlainMillisecondsAndUnits) {
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("250"), milliseconds(250));
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("10 s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
}

TEST(DurationTest, Rejected) {
  for (const char* bad : {"", "s", "10x", "10S", "1.5s", "-1s", "1m30s", "10 sec", "10us",
                          "99999999999999999999", "9999999999999999h"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(ShortDurationTest, MicrosecondsNeedAUnit) {
  EXPECT_EQ(parse_short_duration("0"), microseconds(0));
  EXPECT_EQ(parse_short_duration("100us"), microseconds(100));
  EXPECT_EQ(parse_short_duration("100 us"), microseconds(100));
  EXPECT_EQ(parse_short_duration("2ms"), microseconds(2000));
  EXPECT_EQ(parse_short_duration("1s"), microseconds(1'000'000));
  for (const char* bad : {"", "100", "us", "1.5ms", "-1us", "10m", "10ns", "99999999999999999999s"})
    EXPECT_FALSE(parse_short_duration(bad).has_value()) << bad;
  EXPECT_EQ(format_short_duration(microseconds(0)), "0us");
  EXPECT_EQ(format_short_duration(microseconds(150)), "150us");
  EXPECT_EQ(format_short_duration(microseconds(10'000)), "10ms");
  EXPECT_EQ(format_short_duration(microseconds(2'000'000)), "2s");
}

TEST(DurationTest, Format) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0ms");
  EXPECT_EQ(format_duration(milliseconds(1)), "1ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(10'000)), "10s");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(86'400'000)), "24h");
}

TEST(SuggestionTest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", "abc"), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("endpont", "endpoints"), 2u);
  EXPECT_EQ(edit_distance("hsot", "host"), 1u);  // a transposition counts once
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(SuggestionTest, DidYouMean) {
  const std::vector<std::string> keys{"endpoints", "balancer", "host", "idle_timeout", "connect_timeout"};
  EXPECT_EQ(did_you_mean("endpont", keys), " (did you mean \"endpoints\"?)");
  EXPECT_EQ(did_you_mean("hsot", keys), " (did you mean \"host\"?)");
  EXPECT_EQ(did_you_mean("balancers", keys), " (did you mean \"balancer\"?)");
  EXPECT_EQ(did_you_mean("weight", keys), "");
  EXPECT_EQ(did_you_mean("x", {"a", "b"}), "");  // too short to be a typo of anything
  EXPECT_EQ(closest_match("hots", {"host", "hots2"}), "host");
}

TEST(TextTest, Helpers) {
  EXPECT_EQ(to_lower("X-Tenant"), "x-tenant");
  EXPECT_EQ(to_upper("get"), "GET");
  EXPECT_TRUE(is_http_token("M-SEARCH"));
  EXPECT_FALSE(is_http_token(""));
  EXPECT_FALSE(is_http_token("GE T"));
  EXPECT_FALSE(is_http_token("a:b"));
  EXPECT_EQ(quote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(quote(std::string(70, 'a')), "\"" + std::string(60, 'a') + "...\"");
}

TEST(RouteSyntaxTest, CanonicalPath) {
  std::string out, error;
  EXPECT_TRUE(canonical_path("/", false, out, error));
  EXPECT_EQ(out, "/");
  EXPECT_TRUE(canonical_path("/api/v1/", false, out, error));
  EXPECT_EQ(out, "/api/v1/");
  EXPECT_TRUE(canonical_path("/%7e%41%2d/%c3%a9", false, out, error));
  EXPECT_EQ(out, "/~A-/%C3%A9");
  EXPECT_TRUE(canonical_path("", true, out, error));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(canonical_path("/a/.well-known/..x", false, out, error));
  for (const char* bad : {"", "a", "/a b", "/a\tb", "/a?b", "/a#b", "/a\\b", "//a", "/a//", "/./a",
                          "/a/..", "/a/%2E%2e/b", "/%2F", "/%5c", "/%00", "/%4", "/%g0", "/caf\xc3\xa9"})
    EXPECT_FALSE(canonical_path(bad, false, out, error)) << bad;
}

TEST(RouteSyntaxTest, CanonicalHostPattern) {
  std::string out, error;
  const std::string long_label(64, 'a');
  EXPECT_TRUE(canonical_host_pattern("API.Example.com", out, error));
  EXPECT_EQ(out, "api.example.com");
  EXPECT_TRUE(canonical_host_pattern("*.Example.com.", out, error));
  EXPECT_EQ(out, "*.example.com");
  EXPECT_TRUE(canonical_host_pattern("localhost", out, error));
  EXPECT_TRUE(canonical_host_pattern("10.0.0.1", out, error));
  EXPECT_TRUE(canonical_host_pattern("[::1]", out, error));
  EXPECT_TRUE(canonical_host_pattern("my_host.internal", out, error));
  EXPECT_TRUE(canonical_host_pattern("*", out, error));
  EXPECT_EQ(out, "*");
  for (const char* bad : {"", ".", "**", "*..", "a..b", ".a", "a*.b", "*a.b", "a.*.b", "a b",
                          "a.com:80", "[::1]:80", "[zz]", "::1", long_label.c_str()})
    EXPECT_FALSE(canonical_host_pattern(bad, out, error)) << bad;
}

TEST(AddressTest, ListenForms) {
  SocketAddress a;
  std::string error;
  ASSERT_TRUE(parse_listen_address("127.0.0.1:8080", a, error)) << error;
  EXPECT_EQ(a.storage.ss_family, AF_INET);
  EXPECT_EQ(port_of(a), 8080);
  EXPECT_EQ(a.text, "127.0.0.1:8080");
  ASSERT_TRUE(parse_listen_address("*:1", a, error));
  EXPECT_EQ(reinterpret_cast<sockaddr_in&>(a.storage).sin_addr.s_addr, htonl(INADDR_ANY));
  ASSERT_TRUE(parse_listen_address(":0", a, error));
  EXPECT_EQ(port_of(a), 0);
  ASSERT_TRUE(parse_listen_address("[fe80::1]:443", a, error));
  EXPECT_EQ(a.storage.ss_family, AF_INET6);
  EXPECT_EQ(a.length, sizeof(sockaddr_in6));
  EXPECT_EQ(port_of(a), 443);
  for (const char* bad : {"", "8080", "localhost:80", "1.2.3:80", "1.2.3.4.5:80", "256.0.0.1:80",
                          "1.2.3.4:-1", "1.2.3.4:65536", "1.2.3.4:123456", "[::1]80", "[]:80", "*:"})
    EXPECT_FALSE(parse_listen_address(bad, a, error)) << bad;
}

TEST(AddressTest, EndpointForms) {
  SocketAddress a;
  std::string error;
  ASSERT_TRUE(parse_endpoint_address("10.1.2.3:9001", a, error)) << error;
  EXPECT_EQ(port_of(a), 9001);
  ASSERT_TRUE(parse_endpoint_address("[::1]:1", a, error)) << error;
  EXPECT_EQ(a.storage.ss_family, AF_INET6);
  ASSERT_TRUE(parse_endpoint_address("localhost:65535", a, error)) << error;
  EXPECT_EQ(port_of(a), 65535);
  EXPECT_EQ(a.text, "localhost:65535");
  for (const char* bad : {"10.1.2.3:0", ":80", "*:80", "10.1:80", "999.1.1.1:80", "a/b:80", "-:80x"})
    EXPECT_FALSE(parse_endpoint_address(bad, a, error)) << bad;
}

TEST(AddressTest, SameAddress) {
  SocketAddress a, b;
  std::string error;
  ASSERT_TRUE(parse_listen_address("*:80", a, error));
  ASSERT_TRUE(parse_listen_address("0.0.0.0:80", b, error));
  EXPECT_TRUE(same_address(a, b));
  ASSERT_TRUE(parse_listen_address("0.0.0.0:81", b, error));
  EXPECT_FALSE(same_address(a, b));
  ASSERT_TRUE(parse_listen_address("[::]:80", b, error));
  EXPECT_FALSE(same_address(a, b));
  ASSERT_TRUE(parse_listen_address("[0::0]:80", a, error));
  EXPECT_TRUE(same_address(a, b));
}

}  // namespace
}  // namespace ringway::config::detail
