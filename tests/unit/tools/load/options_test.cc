#include "tools/load/options.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace ringway::load {
namespace {

ParseResult parse(std::initializer_list<const char*> args, Options& out, std::string& error) {
  std::vector<const char*> argv = {"ringway-load"};
  argv.insert(argv.end(), args);
  return parse_options(static_cast<int>(argv.size()), argv.data(), out, error);
}

std::string error_of(std::initializer_list<const char*> args) {
  Options o;
  std::string error;
  EXPECT_EQ(parse(args, o, error), ParseResult::kError);
  return error;
}

TEST(load_options, BasicCall) {
  Options o;
  std::string error;
  ASSERT_EQ(parse({"--rate", "1000", "--duration", "10s", "--connections", "10", "--json",
                   "http://127.0.0.1:8080/"},
                  o, error),
            ParseResult::kRun)
      << error;
  EXPECT_EQ(o.rate, 1000);
  EXPECT_EQ(o.duration_ns, 10'000'000'000);
  EXPECT_EQ(o.connections, 10);
  EXPECT_EQ(o.threads, 1);
  EXPECT_TRUE(o.json);
  EXPECT_FALSE(o.closed);
  EXPECT_EQ(o.target.host_header, "127.0.0.1:8080");
  EXPECT_EQ(o.target.path, "/");
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&o.target.addr);
  EXPECT_EQ(v4->sin_family, AF_INET);
  EXPECT_EQ(ntohs(v4->sin_port), 8080);
  EXPECT_EQ(o.timeout_ns, 5'000'000'000);
}

TEST(load_options, AllFlags) {
  Options o;
  std::string error;
  ASSERT_EQ(parse({"-t", "2", "-c", "8", "--closed", "--warmup=500ms", "--timeout", "2s",
                   "--pipeline", "4", "-H", "X-A: 1", "--header=X-B: 2", "--progress", "-d", "1.5s",
                   "http://localhost/x?y=1"},
                  o, error),
            ParseResult::kRun)
      << error;
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.connections, 8);
  EXPECT_TRUE(o.closed);
  EXPECT_EQ(o.warmup_ns, 500'000'000);
  EXPECT_EQ(o.timeout_ns, 2'000'000'000);
  EXPECT_EQ(o.pipeline, 4);
  ASSERT_EQ(o.headers.size(), 2u);
  EXPECT_EQ(o.headers[1].value, "2");
  EXPECT_TRUE(o.progress);
  EXPECT_EQ(o.duration_ns, 1'500'000'000);
  EXPECT_EQ(o.target.host_header, "localhost");
  EXPECT_EQ(o.target.path, "/x?y=1");
}

TEST(load_options, HelpAndVersion) {
  Options o;
  std::string error;
  EXPECT_EQ(parse({"--help"}, o, error), ParseResult::kHelp);
  EXPECT_EQ(parse({"--rate", "5", "-h"}, o, error), ParseResult::kHelp);
  EXPECT_EQ(parse({"--version"}, o, error), ParseResult::kVersion);
}

TEST(load_options, Errors) {
  EXPECT_NE(error_of({"--rate", "10"}).find("missing URL"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "10", "https://127.0.0.1/"}).find("only http://"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "10", "ftp://127.0.0.1/"}).find("scheme"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "0", "http://127.0.0.1/"}).find("--rate must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "-5", "http://127.0.0.1/"}).find("--rate"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "1e12", "http://127.0.0.1/"}).find("at most"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "http://127.0.0.1/caf\xc3\xa9"}).find("non-ASCII"),
            std::string::npos);
  EXPECT_NE(error_of({"http://127.0.0.1/"}).find("missing --rate"), std::string::npos);
  EXPECT_NE(error_of({"--closed", "--rate", "5", "http://127.0.0.1/"}).find("exclude"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "-d", "10x", "http://127.0.0.1/"}).find("duration"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "-d", "0", "http://127.0.0.1/"}).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "--warmup", "-1s", "http://127.0.0.1/"}).find("--warmup"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "http://example.com/"}).find("IP literal or localhost"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "http://127.0.0.1:0/"}).find("bad port"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "http://user@127.0.0.1/"}).find("user"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "-c", "0", "http://127.0.0.1/"}).find("-c expects"),
            std::string::npos);
  EXPECT_NE(
      error_of({"--rate", "1", "-c", "2", "-t", "3", "http://127.0.0.1/"}).find(">= --threads"),
      std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "--bogus", "http://127.0.0.1/"}).find("unknown option"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "http://127.0.0.1/", "http://127.0.0.1/b"})
                .find("more than one URL"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "-H", "novalue", "http://127.0.0.1/"}).find("Name: value"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "--pipeline", "0", "http://127.0.0.1/"}).find("--pipeline"),
            std::string::npos);
  EXPECT_NE(error_of({"--rate", "1", "--timeout", "0s", "http://127.0.0.1/"}).find("--timeout"),
            std::string::npos);
}

TEST(load_options, Durations) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_duration("10s", ns));
  EXPECT_EQ(ns, 10'000'000'000);
  ASSERT_TRUE(parse_duration("250ms", ns));
  EXPECT_EQ(ns, 250'000'000);
  ASSERT_TRUE(parse_duration("40us", ns));
  EXPECT_EQ(ns, 40'000);
  ASSERT_TRUE(parse_duration("2m", ns));
  EXPECT_EQ(ns, 120'000'000'000);
  ASSERT_TRUE(parse_duration("3", ns));
  EXPECT_EQ(ns, 3'000'000'000);
  ASSERT_TRUE(parse_duration("0.5s", ns));
  EXPECT_EQ(ns, 500'000'000);
  for (const char* bad : {"", "s", "-1s", "1h", "1 s", "ms", "1.2.3s", "1e3s"}) {
    EXPECT_FALSE(parse_duration(bad, ns)) << bad;
  }
}

TEST(load_options, Urls) {
  Target t;
  std::string error;
  ASSERT_TRUE(parse_url("http://127.0.0.1", t, error)) << error;
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_port), 80);
  ASSERT_TRUE(parse_url("http://[::1]:9000/a/b?c#frag", t, error)) << error;
  EXPECT_EQ(t.addr.ss_family, AF_INET6);
  EXPECT_EQ(t.addr_len, sizeof(sockaddr_in6));
  EXPECT_EQ(t.host_header, "[::1]:9000");
  EXPECT_EQ(t.path, "/a/b?c");
  ASSERT_TRUE(parse_url("http://localhost:81?x=1", t, error)) << error;
  EXPECT_EQ(t.path, "/?x=1");
  EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_FALSE(parse_url("127.0.0.1:80/", t, error));
  EXPECT_FALSE(parse_url("http://", t, error));
  EXPECT_FALSE(parse_url("http://[::1/", t, error));
  EXPECT_FALSE(parse_url("http://host.local/", t, error));
  EXPECT_FALSE(parse_url("http://127.0.0.1:x/", t, error));
}

}  // namespace
}  // namespace ringway::load
