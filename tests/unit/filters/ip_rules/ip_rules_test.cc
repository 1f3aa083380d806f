// ip_rules: address and CIDR parsing, address sets, the X-Forwarded-For walk,
// the filter's decisions and its config errors.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "filters/ip_rules/address_set.h"
#include "filters/ip_rules/ip_rules_filter.h"

namespace ringway::filters {
namespace {

using ip_rules::AddressSet;
using ip_rules::Cidr;
using ip_rules::Ip;

Ip ip(std::string_view text) {
  Ip out;
  EXPECT_TRUE(ip_rules::parse_ip(text, out)) << text;
  return out;
}

Cidr cidr(std::string_view text) {
  Cidr out;
  std::string error;
  EXPECT_TRUE(ip_rules::parse_cidr(text, out, error)) << text << ": " << error;
  return out;
}

std::string cidr_error(std::string_view text) {
  Cidr out;
  std::string error;
  EXPECT_FALSE(ip_rules::parse_cidr(text, out, error)) << text;
  return error;
}

AddressSet set_of(std::initializer_list<std::string_view> blocks) {
  std::vector<Cidr> list;
  for (auto b : blocks) list.push_back(cidr(b));
  return AddressSet(list);
}

// ---- addresses -------------------------------------------------------------

TEST(IpParse, Ipv4IsHeldAsMapped) {
  Ip a = ip("1.2.3.4");
  EXPECT_TRUE(ip_rules::is_v4_mapped(a));
  EXPECT_EQ(a, ip("::ffff:1.2.3.4"));
  EXPECT_EQ(ip_rules::format_ip(a), "1.2.3.4");
  EXPECT_EQ(ip_rules::format_ip(ip("::ffff:1.2.3.4")), "1.2.3.4");
  EXPECT_EQ(ip_rules::format_ip(a, /*mapped_as_v6=*/true), "::ffff:1.2.3.4");
}

TEST(IpParse, Ipv6CanonicalText) {
  EXPECT_EQ(ip_rules::format_ip(ip("2001:0db8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
  EXPECT_EQ(ip_rules::format_ip(ip("::1")), "::1");
  EXPECT_FALSE(ip_rules::is_v4_mapped(ip("::1")));
}

TEST(IpParse, RejectsWhatInetPtonRejects) {
  Ip out;
  for (std::string_view bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4:80",
                               "[::1]", "fe80::1%eth0", "::g", "unknown", " 1.2.3.4",
                               "1.2.3.4 ", "2001:db8::1::2"}) {
    EXPECT_FALSE(ip_rules::parse_ip(bad, out)) << bad;
  }
  std::string with_nul("1.2.3.4\0", 8);
  EXPECT_FALSE(ip_rules::parse_ip(with_nul, out));
  EXPECT_FALSE(ip_rules::parse_ip(std::string(100, '1'), out));
}

// ---- CIDR blocks -----------------------------------------------------------

TEST(CidrParse, PrefixesLiveIn128BitSpace) {
  EXPECT_EQ(cidr("10.0.0.0/8").prefix, 104);
  EXPECT_EQ(cidr("1.2.3.4").prefix, 128);
  EXPECT_EQ(cidr("1.2.3.4/32").prefix, 128);
  EXPECT_EQ(cidr("0.0.0.0/0").prefix, 96);
  EXPECT_EQ(cidr("::/0").prefix, 0);
  EXPECT_EQ(cidr("::1/128").prefix, 128);
  EXPECT_EQ(cidr("2001:db8::/32").prefix, 32);
  EXPECT_EQ(cidr("all").prefix, 0);
  // The same block written both ways.
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104").network, cidr("10.0.0.0/8").network);
}

TEST(CidrParse, BadPrefixes) {
  EXPECT_NE(cidr_error("10.0.0.0/33").find("at most /32"), std::string::npos);
  EXPECT_NE(cidr_error("::/129").find("at most /128"), std::string::npos);
  for (std::string_view bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
                               "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/1000", "10.0.0.0/x"})
    EXPECT_NE(cidr_error(bad).find("invalid prefix length"), std::string::npos) << bad;
  EXPECT_NE(cidr_error("10.0.0/8").find("invalid IPv4 address"), std::string::npos);
  EXPECT_NE(cidr_error("2001:db8:::/32").find("invalid IPv6 address"), std::string::npos);
  EXPECT_NE(cidr_error("").find("invalid"), std::string::npos);
}

TEST(CidrParse, HostBitsAreAnErrorNamingTheNetwork) {
  EXPECT_EQ(cidr_error("10.1.2.3/8"),
            "\"10.1.2.3/8\" has host bits set below the /8 prefix; write the network, "
            "\"10.0.0.0/8\", or a longer prefix");
  EXPECT_NE(cidr_error("2001:db8::1/32").find("\"2001:db8::/32\""), std::string::npos);
  EXPECT_NE(cidr_error("::ffff:1.2.3.4/120").find("\"::ffff:1.2.3.0/120\""), std::string::npos);
  EXPECT_NE(cidr_error("0.0.0.1/0").find("\"0.0.0.0/0\""), std::string::npos);
}

// ---- sets ------------------------------------------------------------------

TEST(AddressSet, Slash32And128MatchOneAddress) {
  AddressSet s = set_of({"192.0.2.7/32", "2001:db8::7/128"});
  EXPECT_TRUE(s.contains(ip("192.0.2.7")));
  EXPECT_FALSE(s.contains(ip("192.0.2.6")));
  EXPECT_FALSE(s.contains(ip("192.0.2.8")));
  EXPECT_TRUE(s.contains(ip("2001:db8::7")));
  EXPECT_FALSE(s.contains(ip("2001:db8::6")));
  EXPECT_FALSE(s.contains(ip("2001:db8::8")));
}

TEST(AddressSet, V4SlashZeroIsEveryIpv4AddressOnly) {
  AddressSet s = set_of({"0.0.0.0/0"});
  EXPECT_TRUE(s.contains(ip("0.0.0.0")));
  EXPECT_TRUE(s.contains(ip("255.255.255.255")));
  EXPECT_TRUE(s.contains(ip("::ffff:8.8.8.8")));
  EXPECT_FALSE(s.contains(ip("::1")));
  EXPECT_FALSE(s.contains(ip("2001:db8::1")));
}

TEST(AddressSet, V6SlashZeroIsEverything) {
  for (auto text : {"::/0", "all"}) {
    AddressSet s = set_of({text});
    EXPECT_TRUE(s.contains(ip("::")));
    EXPECT_TRUE(s.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    EXPECT_TRUE(s.contains(ip("8.8.8.8")));
    EXPECT_EQ(s.range_count(), 1u);
  }
}

TEST(AddressSet, V4MappedMatchesBothWays) {
  // An IPv4 rule, a client seen through a dual-stack socket.
  EXPECT_TRUE(set_of({"10.0.0.0/8"}).contains(ip("::ffff:10.9.8.7")));
  EXPECT_FALSE(set_of({"10.0.0.0/8"}).contains(ip("::ffff:11.0.0.0")));
  // A rule for the mapped range, a plain IPv4 client.
  EXPECT_TRUE(set_of({"::ffff:0:0/96"}).contains(ip("203.0.113.1")));
  // IPv4-compatible (::a.b.c.d, deprecated) is not IPv4.
  EXPECT_FALSE(set_of({"10.0.0.0/8"}).contains(ip("::10.0.0.1")));
}

TEST(AddressSet, RangeEdges) {
  AddressSet s = set_of({"198.51.100.0/24"});
  EXPECT_FALSE(s.contains(ip("198.51.99.255")));
  EXPECT_TRUE(s.contains(ip("198.51.100.0")));
  EXPECT_TRUE(s.contains(ip("198.51.100.255")));
  EXPECT_FALSE(s.contains(ip("198.51.101.0")));
  EXPECT_FALSE(AddressSet().contains(ip("1.1.1.1")));
}

TEST(AddressSet, MergesOverlappingAndAdjacentBlocks) {
  AddressSet s = set_of({"10.0.0.128/25", "10.0.0.0/25", "10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24"});
  EXPECT_EQ(s.range_count(), 2u);  // 10.0.0.0-10.0.1.255 and 10.0.3.0/24
  EXPECT_TRUE(s.contains(ip("10.0.1.255")));
  EXPECT_FALSE(s.contains(ip("10.0.2.0")));
  EXPECT_TRUE(s.contains(ip("10.0.3.9")));
  // Adjacent across the 64-bit halves, and the very last address.
  AddressSet t = set_of({"::ffff:ffff:ffff:ffff/128", "0:0:0:1::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"});
  EXPECT_EQ(t.range_count(), 2u);
  EXPECT_TRUE(t.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(t.contains(ip("0:0:0:1::1")));
}

TEST(AddressSet, Covers) {
  AddressSet s = set_of({"10.0.0.0/9", "10.128.0.0/9"});
  EXPECT_TRUE(s.covers(cidr("10.0.0.0/8")));
  EXPECT_TRUE(s.covers(cidr("10.200.0.1")));
  EXPECT_FALSE(s.covers(cidr("8.0.0.0/6")));
  EXPECT_FALSE(s.covers(cidr("11.0.0.0/8")));
}

// ---- X-Forwarded-For -------------------------------------------------------

std::string resolve(std::string_view peer, std::initializer_list<std::string_view> xff,
                    const AddressSet& trusted, std::string_view header = "X-Forwarded-For") {
  http::RequestHead head;
  for (auto v : xff) head.headers.push_back({header, v});
  head.headers.push_back({"Accept", "*/*"});
  return ip_rules::format_ip(ip_rules::resolve_client(ip(peer), head, header, trusted));
}

TEST(ForwardedFor, UntrustedPeerIsNotBelieved) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("203.0.113.5", {"10.0.0.1"}, trusted), "203.0.113.5");
  EXPECT_EQ(resolve("203.0.113.5", {"10.0.0.1"}, AddressSet()), "203.0.113.5");
}

TEST(ForwardedFor, WalksFromTheRightSkippingTrusted) {
  AddressSet trusted = set_of({"192.0.2.0/24", "2001:db8::/32"});
  EXPECT_EQ(resolve("192.0.2.10", {"203.0.113.7"}, trusted), "203.0.113.7");
  EXPECT_EQ(resolve("192.0.2.10", {"203.0.113.7, 192.0.2.11"}, trusted), "203.0.113.7");
  EXPECT_EQ(resolve("2001:db8::1", {"203.0.113.7,192.0.2.11 , 2001:db8::2"}, trusted), "203.0.113.7");
  // A client that writes its own X-Forwarded-For only prepends to the list:
  // the address our proxy saw is still the rightmost untrusted one.
  EXPECT_EQ(resolve("192.0.2.10", {"10.0.0.1, 198.51.100.9"}, trusted), "198.51.100.9");
}

TEST(ForwardedFor, SeveralFieldsAreOneList) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1", "192.0.2.20"}, trusted), "198.51.100.1");
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1", "198.51.100.2"}, trusted), "198.51.100.2");
  // An empty field adds no hop.
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1", ""}, trusted), "198.51.100.1");
}

TEST(ForwardedFor, AllTrustedGivesTheLeftmost) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("192.0.2.10", {"192.0.2.1, 192.0.2.2"}, trusted), "192.0.2.1");
  EXPECT_EQ(resolve("192.0.2.10", {}, trusted), "192.0.2.10");
}

TEST(ForwardedFor, MalformedEntryStopsAtTheLastGoodAddress) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1, garbage, 192.0.2.11"}, trusted), "192.0.2.11");
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1, unknown"}, trusted), "192.0.2.10");
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1,,192.0.2.11"}, trusted), "192.0.2.11");
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1:4711"}, trusted), "192.0.2.10");
  EXPECT_EQ(resolve("192.0.2.10", {"[2001:db8::1]"}, trusted), "192.0.2.10");
}

TEST(ForwardedFor, MappedEntriesAreIpv4) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("::ffff:192.0.2.10", {"::ffff:198.51.100.1, ::ffff:192.0.2.3"}, trusted),
            "198.51.100.1");
}

TEST(ForwardedFor, OtherHeaderName) {
  AddressSet trusted = set_of({"192.0.2.0/24"});
  EXPECT_EQ(resolve("192.0.2.10", {"198.51.100.1"}, trusted, "X-Real-IP"), "198.51.100.1");
}

// ---- the filter ------------------------------------------------------------

constexpr const char* kFile = "/etc/ringway/ringway.yaml";

struct Compiled {
  std::shared_ptr<const filter::Filter> filter;
  std::string error;
};

// `body` is the filter's map, indented by four spaces; the filter's first
// key ("type") is on line 3.
Compiled compile(const std::string& body) {
  std::string text = "filters:\n  acl:\n    type: ip_rules\n" + body;
  config::Config cfg;
  cfg.source_file = kFile;
  try {
    YAML::Node root = YAML::Load(text);
    YAML::Node n = root["filters"]["acl"];
    config::FilterSpec spec{"acl", "ip_rules", std::make_shared<const YAML::Node>(n), "filters.acl"};
    config::detail::Field field{YAML::Node(), n, spec.path};
    return {compile_ip_rules(FilterBuild{spec, field, cfg}), ""};
  } catch (const config::detail::ConfigError& e) {
    return {nullptr, config::detail::format_error(kFile, e.mark, e.message)};
  }
}

std::shared_ptr<const filter::Filter> must(const std::string& body) {
  Compiled c = compile(body);
  EXPECT_TRUE(c.filter) << c.error;
  return c.filter;
}

struct Request {
  http::RequestHead head;
  filter::Context ctx;

  explicit Request(std::string_view peer) {
    head.method = "GET";
    head.path = "/";
    ctx.request = &head;
    ctx.client_ip = peer;
    ctx.begin(1, nullptr, nullptr, nullptr, 0);
    ctx.enter(0);
  }
  Request& xff(std::string_view v) {
    head.headers.push_back({"X-Forwarded-For", v});
    return *this;
  }
  filter::Outcome run(const filter::Filter& f) { return f.on_request_head(ctx); }
};

bool allowed(const filter::Filter& f, std::string_view peer, std::string_view xff = {}) {
  Request r(peer);
  if (!xff.empty()) r.xff(xff);
  filter::Outcome o = r.run(f);
  if (o == filter::Outcome::kRespond) {
    EXPECT_EQ(r.ctx.local().status, 403);
    EXPECT_EQ(r.ctx.local().body, "forbidden\n");
  }
  return o == filter::Outcome::kProceed;
}

TEST(IpRulesFilter, RequestHeadOnly) {
  EXPECT_EQ(must("    deny: 10.0.0.0/8\n")->phases(), filter::kRequestHead);
}

TEST(IpRulesFilter, AllowListRefusesEverythingElse) {
  auto f = must("    allow: [10.0.0.0/8, \"2001:db8::/32\"]\n");
  EXPECT_TRUE(allowed(*f, "10.1.2.3"));
  EXPECT_TRUE(allowed(*f, "2001:db8::99"));
  EXPECT_TRUE(allowed(*f, "::ffff:10.1.2.3"));
  EXPECT_FALSE(allowed(*f, "11.0.0.1"));
  EXPECT_FALSE(allowed(*f, "2001:db9::1"));
  EXPECT_FALSE(allowed(*f, "::1"));
}

TEST(IpRulesFilter, DenyListAllowsEverythingElse) {
  auto f = must("    deny:\n      - 203.0.113.0/24\n      - ::1\n");
  EXPECT_FALSE(allowed(*f, "203.0.113.200"));
  EXPECT_FALSE(allowed(*f, "::ffff:203.0.113.200"));
  EXPECT_FALSE(allowed(*f, "::1"));
  EXPECT_TRUE(allowed(*f, "203.0.114.1"));
  EXPECT_TRUE(allowed(*f, "::2"));
}

TEST(IpRulesFilter, DenyIsCheckedBeforeAllow) {
  auto f = must("    allow: 10.0.0.0/8\n    deny: 10.1.0.0/16\n");
  EXPECT_TRUE(allowed(*f, "10.2.0.1"));
  EXPECT_FALSE(allowed(*f, "10.1.0.1"));
  EXPECT_FALSE(allowed(*f, "192.168.0.1"));
}

TEST(IpRulesFilter, SetsClientIpAttribute) {
  auto f = must("    deny: 10.0.0.0/8\n");
  Request r("::ffff:127.0.0.1");
  EXPECT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("client_ip"), "127.0.0.1");
  Request d("10.0.0.1");
  EXPECT_EQ(d.run(*f), filter::Outcome::kRespond);
  EXPECT_EQ(d.ctx.attribute("client_ip"), "10.0.0.1");  // for the log phase
  ASSERT_EQ(d.ctx.local().headers.size(), 1u);
  EXPECT_EQ(d.ctx.local().headers[0].name, "Content-Type");
}

TEST(IpRulesFilter, UnparseablePeerIsRefused) {
  auto f = must("    deny: 10.0.0.0/8\n");
  EXPECT_FALSE(allowed(*f, ""));
  EXPECT_FALSE(allowed(*f, "localhost"));
}

TEST(IpRulesFilter, SpoofedForwardedForFromUntrustedPeer) {
  auto f = must("    allow: 10.0.0.0/8\n    trusted_proxies: [192.0.2.10]\n");
  // A client on the internet claims to be 10.0.0.1.
  EXPECT_FALSE(allowed(*f, "203.0.113.5", "10.0.0.1"));
  Request r("203.0.113.5");
  r.xff("10.0.0.1").run(*f);
  EXPECT_EQ(r.ctx.attribute("client_ip"), "203.0.113.5");
  // Without trusted_proxies the header is never read.
  auto g = must("    allow: 10.0.0.0/8\n");
  EXPECT_FALSE(allowed(*g, "192.0.2.10", "10.0.0.1"));
}

TEST(IpRulesFilter, TrustedProxyChain) {
  auto f = must("    deny: 203.0.113.0/24\n    trusted_proxies: [192.0.2.0/24, \"::1\"]\n");
  EXPECT_FALSE(allowed(*f, "192.0.2.10", "203.0.113.7"));
  EXPECT_FALSE(allowed(*f, "::1", "203.0.113.7, 192.0.2.10"));
  // The client prepends a harmless-looking address; the proxy appended the real one.
  EXPECT_FALSE(allowed(*f, "192.0.2.10", "198.51.100.1, 203.0.113.7"));
  EXPECT_TRUE(allowed(*f, "192.0.2.10", "203.0.113.7, 198.51.100.1"));
  Request r("192.0.2.10");
  r.xff("203.0.113.7, 198.51.100.1").run(*f);
  EXPECT_EQ(r.ctx.attribute("client_ip"), "198.51.100.1");
}

TEST(IpRulesFilter, RealIpHeader) {
  auto f = must("    allow: 10.0.0.0/8\n    trusted_proxies: 127.0.0.1\n    real_ip_header: X-Real-IP\n");
  Request r("127.0.0.1");
  r.head.headers.push_back({"x-real-ip", "10.0.0.5"});
  r.xff("203.0.113.1");
  EXPECT_EQ(r.run(*f), filter::Outcome::kProceed);
  EXPECT_EQ(r.ctx.attribute("client_ip"), "10.0.0.5");
}

// ---- config errors ---------------------------------------------------------

TEST(IpRulesConfig, HostBitsPointAtTheEntry) {
  EXPECT_EQ(compile("    allow:\n      - 10.0.0.0/8\n      - 10.1.2.3/8\n").error,
            std::string(kFile) +
                ":6:9: filters.acl.allow[1]: \"10.1.2.3/8\" has host bits set below the /8 prefix; "
                "write the network, \"10.0.0.0/8\", or a longer prefix");
}

TEST(IpRulesConfig, BadEntries) {
  EXPECT_EQ(compile("    deny: [1.2.3.4/33]\n").error,
            std::string(kFile) + ":4:12: filters.acl.deny[0]: prefix length /33 is too long for an "
                                 "IPv4 address (at most /32)");
  EXPECT_EQ(compile("    deny: \"::/129\"\n").error,
            std::string(kFile) + ":4:11: filters.acl.deny: prefix length /129 is too long for an "
                                 "IPv6 address (at most /128)");
  EXPECT_NE(compile("    trusted_proxies: [proxy.local]\n    deny: 1.1.1.1\n").error.find(
                ":4:23: filters.acl.trusted_proxies[0]: invalid IPv4 address \"proxy.local\""),
            std::string::npos);
  EXPECT_NE(compile("    deny: []\n").error.find(":4:11: filters.acl.deny: must not be empty"),
            std::string::npos);
  EXPECT_NE(compile("    deny:\n").error.find(":4:5: filters.acl.deny: must not be empty"),
            std::string::npos);
  EXPECT_NE(compile("    deny: [{a: 1}]\n").error.find("filters.acl.deny[0]: expected an address"),
            std::string::npos);
}

TEST(IpRulesConfig, NeedsAllowOrDeny) {
  EXPECT_EQ(compile("    trusted_proxies: [10.0.0.1]\n").error,
            std::string(kFile) + ":3:5: filters.acl: nothing to check: give allow, deny or both");
}

TEST(IpRulesConfig, UnknownKey) {
  EXPECT_EQ(compile("    alow: [10.0.0.1]\n").error,
            std::string(kFile) + ":4:5: unknown key \"alow\" in filter \"acl\" (did you mean \"allow\"?)");
}

TEST(IpRulesConfig, AllowInsideDenyIsAMistake) {
  std::string e = compile("    allow: [10.0.0.0/8, 192.168.0.0/16]\n    deny: [all]\n").error;
  EXPECT_NE(e.find(":4:13: filters.acl.allow[0]: \"10.0.0.0/8\" lies entirely inside deny"),
            std::string::npos)
      << e;
  // Partly inside is fine: the rest of the block is allowed.
  EXPECT_TRUE(compile("    allow: [10.0.0.0/8]\n    deny: [10.0.0.0/9]\n").filter);
}

TEST(IpRulesConfig, RealIpHeaderNeedsTrustedProxies) {
  EXPECT_NE(compile("    deny: 1.1.1.1\n    real_ip_header: X-Real-IP\n").error.find(
                ":5:21: filters.acl.real_ip_header: has no effect without trusted_proxies"),
            std::string::npos);
  EXPECT_NE(compile("    deny: 1.1.1.1\n    trusted_proxies: 1.1.1.2\n    real_ip_header: \"X Real\"\n")
                .error.find("invalid header name"),
            std::string::npos);
}

TEST(IpRulesConfig, Ipv6SpellingsInYaml) {
  auto f = must("    allow:\n      - ::1\n      - \"2001:db8::/32\"\n      - fe80::/10\n");
  EXPECT_TRUE(allowed(*f, "::1"));
  EXPECT_TRUE(allowed(*f, "fe80::1234"));
  EXPECT_FALSE(allowed(*f, "::2"));
}

}  // namespace
}  // namespace ringway::filters
